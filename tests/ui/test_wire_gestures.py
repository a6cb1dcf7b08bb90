"""The wire gestures of Blender, Nuke and ComfyUI, driven with the mouse on the canvas: each changes the
wires as a user expects, in one undo step that undo takes back, and a refusal is said beside the cursor."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QCursor, QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from netbuilder.model.edits import AddNode
from tests.ui.test_canvas_gestures import drop, empty_spot, example, header_of, on_screen, open_window  # noqa: F401
from ui.canvas import wire_gestures
from ui.canvas.items import NODE_WIDTH
from ui.canvas.view import layer_mime
from ui.canvas.wire_gestures import HOVER
from ui.document import Document

LEFT, NONE = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
ALT, CTRL = Qt.KeyboardModifier.AltModifier, Qt.KeyboardModifier.ControlModifier


def wires(win) -> set[tuple[str, str]]:
    """The graph's wires as (source name, destination name and port)."""
    graph = win.document.project.graph
    return {(graph.node(e.src).name, f"{graph.node(e.dst).name}.{e.dst_port}") for e in graph.edges}


def port(win, name: str, port_name: str, is_input: bool) -> QPoint:
    item = win.scene.node_items[win.document.project.graph.by_name(name).id].ports[(port_name, is_input)]
    return on_screen(win, item.scenePos())


def drag(win, start: QPoint, end: QPoint, modifier=NONE) -> None:
    viewport = win.view.viewport()
    QTest.mousePress(viewport, LEFT, modifier, start)
    for k in range(1, 9):
        QTest.mouseMove(viewport, start + (end - start) * (k / 8))
    QTest.mouseRelease(viewport, LEFT, modifier, end)


def wire_middle(win, src: str, dst: str) -> QPoint:
    graph = win.document.project.graph
    edge = graph.in_edges(graph.by_name(dst).id)["in"]
    assert graph.node(edge.src).name == src
    return on_screen(win, win.scene.wire_items[edge].path().pointAtPercent(0.5))


def steps(win) -> int:
    return win.document.undo_stack.count()


def cnn(open_window):  # noqa: F811
    win = open_window(example("mnist_cnn"))
    win.view.resetTransform()  # 100 %: every port and wire a comfortable target
    win.view.centerOn(win.scene.node_items[win.document.project.graph.by_name("pool2").id])
    return win


def spot_right_of(win, name: str) -> QPoint:
    """Empty canvas right of node ``name``."""
    item = win.scene.node_items[win.document.project.graph.by_name(name).id]
    for dy in range(0, 400, 20):
        for dx in (60, 120):
            at = on_screen(win, item.pos() + QPointF(NODE_WIDTH + dx, -dy - 60))
            if win.view.viewport().rect().contains(at) and not win.view.items(at):
                return at
    return empty_spot(win)


def test_a_wire_dropped_on_empty_canvas_offers_only_layers_that_take_its_shape_and_inserts_one_wired(
        open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    graph, before = win.document.project.graph, wires(win)
    at = spot_right_of(win, "pool2")
    drag(win, port(win, "pool2", "out", False), at)
    popup = win.edit_actions.quick_add.popup
    assert popup is not None and popup.isVisible()
    dangling = win.scene.dangling_wire  # the wire stays drawn to where it was let go while the popup is open
    assert dangling is not None and dangling.scene() is win.scene
    assert (dangling.path().currentPosition() - win.view.mapToScene(at)).manhattanLength() < 2
    shown = popup.kinds()
    assert "[N, 64, 5, 5]" in popup.context.text()
    assert {"Conv2d", "BatchNorm2d", "Flatten", "ReLU"} <= set(shown)
    assert not {"Linear", "LSTM", "Input", "BatchNorm1d"} & set(shown)  # these would not take an image
    QTest.keyClicks(popup.search, "bn")
    assert popup.kinds() == ["BatchNorm2d"]
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    new = graph.node(win.scene.selected_node_ids()[0])
    assert dangling.scene() is None  # the real wire took its place
    assert new.kind == "BatchNorm2d" and wires(win) == before | {("pool2", f"{new.name}.in")}
    assert steps(win) == 1 and win.scene.node_items[new.id].sceneBoundingRect().contains(win.view.mapToScene(at)
                                                                                           + QPointF(10, 0))
    win.undo_action.trigger()
    assert wires(win) == before and len(graph) == 14


def test_escape_in_the_quick_add_of_a_dropped_wire_leaves_nothing_behind(open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    def top_level() -> int:  # ports and labels are made as they come on screen: count what the gesture makes
        return sum(1 for i in win.scene.items() if i.parentItem() is None)

    items, before = top_level(), wires(win)
    drag(win, port(win, "pool2", "out", False), spot_right_of(win, "pool2"))
    popup = win.edit_actions.quick_add.popup
    assert win.scene.dangling_wire is not None
    QTest.keyClick(popup.search, Qt.Key.Key_Escape)
    assert not popup.isVisible() and steps(win) == 0 and wires(win) == before
    assert top_level() == items and win.scene.dangling_wire is None  # no wire left dangling


def test_a_wire_pulled_off_an_input_moves_to_another_or_goes_when_let_go_on_nothing(open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    graph, before = win.document.project.graph, wires(win)
    # relu3 -> flatten: pull it off flatten's input and let go on empty canvas: it is deleted.
    drag(win, port(win, "flatten", "in", True), spot_right_of(win, "flatten"))
    assert wires(win) == before - {("relu3", "flatten.in")} and steps(win) == 1
    assert not win.edit_actions.quick_add.popup or not win.edit_actions.quick_add.popup.isVisible()
    win.undo_action.trigger()
    assert wires(win) == before
    # flatten -> fc1 moved onto fc2's input, which has a wire from relu4: it replaces that one, in one step.
    drag(win, port(win, "fc1", "in", True), port(win, "fc2", "in", True))
    moved = (before - {("flatten", "fc1.in"), ("relu4", "fc2.in")}) | {("flatten", "fc2.in")}
    assert wires(win) == moved and steps(win) == 1
    assert graph.in_edges(graph.by_name("fc1").id) == {}
    win.undo_action.trigger()
    assert wires(win) == before and steps(win) == 1 and win.document.undo_stack.index() == 0
    # Let go where it was: nothing changes; the wire is drawn again.
    drag(win, port(win, "fc2", "in", True), port(win, "fc2", "in", True) + QPoint(1, 0))
    edge = graph.in_edges(graph.by_name("fc2").id)["in"]
    assert wires(win) == before and win.scene.wire_items[edge].isVisible()


def test_a_new_wire_onto_a_wired_input_replaces_it_in_one_step(open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    before = wires(win)
    drag(win, port(win, "pool2", "out", False), port(win, "fc1", "in", True))  # fc1 needs features: red, but wired
    assert wires(win) == (before - {("flatten", "fc1.in")}) | {("pool2", "fc1.in")} and steps(win) == 1
    assert "Linear 'fc1' needs" in win.document.inference.info(win.document.project.graph.by_name("fc1").id) \
        .problem.message
    win.undo_action.trigger()
    assert wires(win) == before


def test_a_refused_wire_says_why_beside_the_cursor(open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    before = wires(win)
    drag(win, port(win, "fc2", "out", False), port(win, "conv1", "in", True))  # upstream: a loop
    assert wires(win) == before and steps(win) == 0
    note = win.scene.note
    assert "would make a loop" in note.text() and "would make a loop" in win.statusBar().currentMessage()
    # Beside where it was let go (moved in where it would pass the view's edge), and all of it on screen.
    let_go = QPointF(port(win, "conv1", "in", True))
    on_screen = QRectF(QPointF(win.view.mapFromScene(note.pos())), note.boundingRect().size())
    assert note.isVisible() and on_screen.adjusted(-40, -40, 40, 40).contains(let_go), (on_screen, let_go)
    assert QRectF(win.view.viewport().rect()).contains(on_screen)
    win.palette.tree.itemDoubleClicked.emit(win.palette.tree.findItems("ReLU", Qt.MatchFlag.MatchRecursive)[0], 0)
    assert not note.isVisible()  # the next edit that goes through takes it away


def test_a_palette_layer_dropped_on_a_wire_goes_into_it_or_is_refused_with_the_reason(open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    graph, before = win.document.project.graph, wires(win)
    at = wire_middle(win, "relu3", "flatten")
    drop(win, "Dropout", at)
    new = graph.node(win.scene.selected_node_ids()[0])
    assert new.kind == "Dropout" and steps(win) == 1
    assert wires(win) == (before - {("relu3", "flatten.in")}) | {("relu3", f"{new.name}.in"),
                                                                   (new.name, "flatten.in")}
    win.undo_action.trigger()
    assert wires(win) == before and len(graph) == 14
    # A Linear cannot take the image on the wire into conv2: refused, nothing added, the reason shown.
    at = wire_middle(win, "pool1", "conv2")
    drop(win, "Linear", at)
    assert wires(win) == before and len(graph) == 14 and steps(win) == 1
    assert "Linear needs" in win.statusBar().currentMessage() and "Linear needs" in win.scene.note.text()


def test_tab_over_a_wire_puts_the_chosen_layer_into_it(open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    graph, before = win.document.project.graph, wires(win)
    edge = graph.in_edges(graph.by_name("conv2").id)["in"]
    QTest.mouseClick(win.view.viewport(), LEFT, CTRL, wire_middle(win, "pool1", "conv2"))  # Ctrl+click selects it
    assert win.scene.wire_items[edge].isSelected() and not win.scene.selected_node_ids()
    win.activateWindow()
    win.view.setFocus()
    QTest.keyClick(win.view, Qt.Key.Key_Tab)
    popup = win.edit_actions.quick_add.popup
    assert "into this wire" in popup.context.text() and "Linear" not in popup.kinds()
    QTest.keyClicks(popup.search, "batchnorm")
    assert popup.kinds() == ["BatchNorm2d"]
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    new = graph.node(win.scene.selected_node_ids()[0])
    assert wires(win) == (before - {("pool1", "conv2.in")}) | {("pool1", f"{new.name}.in"), (new.name, "conv2.in")}
    assert steps(win) == 1


def test_ctrl_click_selects_a_wire_and_delete_deletes_it(open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    graph, before = win.document.project.graph, wires(win)
    QTest.mouseClick(win.view.viewport(), LEFT, NONE, header_of(win, "fc1"))
    QTest.mouseClick(win.view.viewport(), LEFT, CTRL, wire_middle(win, "relu3", "flatten") + QPoint(0, 3))
    selected = [i for i in win.scene.selectedItems() if hasattr(i, "edge")]
    assert [graph.node(w.edge.dst).name for w in selected] == ["flatten"]
    assert win.scene.selected_node_ids() == [graph.by_name("fc1").id]  # Ctrl adds to the selection
    win.scene.node_items[graph.by_name("fc1").id].setSelected(False)
    win.activateWindow()
    win.view.setFocus()
    QTest.keyClick(win.view, Qt.Key.Key_Delete)
    assert wires(win) == before - {("relu3", "flatten.in")} and len(graph) == 14 and steps(win) == 1


def test_alt_drag_duplicates_the_node_the_copy_moves_and_the_original_stays(open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    graph, before = win.document.project.graph, wires(win)
    relu = graph.by_name("relu3")
    where = relu.position
    start = header_of(win, "relu3")
    drag(win, start, start + QPoint(0, 160), ALT)
    assert graph.by_name("relu3").position == where and wires(win) == before  # the original stays, still wired
    assert len(graph) == 15 and steps(win) == 1
    copy = graph.node(win.scene.selected_node_ids()[0])
    assert copy.kind == "ReLU" and copy.id != relu.id and copy.position == (where[0], where[1] + 160)
    assert win.scene.node_items[copy.id].pos() == QPointF(*copy.position)
    assert len([i for i in win.scene.items() if type(i).__name__ == "GhostItem"]) == 0
    win.undo_action.trigger()
    assert len(graph) == 14 and graph.by_name("relu3").position == where


def test_dissolve_deletes_a_layer_and_keeps_the_wire_through(open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    graph, before = win.document.project.graph, wires(win)
    win.view.centerOn(win.scene.node_items[graph.by_name("relu4").id])  # on screen in any window size (xcb's too)
    QTest.mouseClick(win.view.viewport(), LEFT, NONE, header_of(win, "relu4"))
    assert win.scene.selected_node_ids() == [graph.by_name("relu4").id]
    win.activateWindow()
    assert QTest.qWaitForWindowActive(win)  # a window-wide key reaches only the active window (Xvfb: no WM)
    win.view.setFocus()
    QTest.keyClick(win.view, Qt.Key.Key_Delete, CTRL)
    assert graph.by_name("relu4") is None and steps(win) == 1
    assert wires(win) == (before - {("fc1", "relu4.in"), ("relu4", "fc2.in")}) | {("fc1", "fc2.in")}
    assert win.document.inference.problems == []  # fc1 -> fc2 fits
    win.undo_action.trigger()
    assert wires(win) == before
    assert win.edit_actions.dissolve in win.edit_menu.actions()  # also in the Edit menu


def test_a_layer_typed_that_does_not_take_the_wire_is_explained_in_the_quick_add(open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    drag(win, port(win, "relu3", "out", False), spot_right_of(win, "pool2"))
    popup = win.edit_actions.quick_add.popup
    QTest.keyClicks(popup.search, "dense")
    assert popup.kinds() == [] and "Linear needs" in popup.doc.text() and "insert Flatten" in popup.doc.text()
    QTest.keyClick(popup.search, Qt.Key.Key_Escape)
    assert steps(win) == 0


def test_a_wire_from_an_unwired_input_let_go_on_empty_canvas_adds_a_layer_feeding_it(open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    graph = win.document.project.graph
    flatten = graph.by_name("flatten")
    win.scene.wire_items[graph.in_edges(flatten.id)["in"]].setSelected(True)
    win.scene.delete_selection()
    before, count = wires(win), steps(win)
    start = port(win, "flatten", "in", True)
    drag(win, start, start + QPoint(-70, -60))
    popup = win.edit_actions.quick_add.popup
    assert popup.isVisible() and "feed this input" in popup.context.text() and "Output" not in popup.kinds()
    QTest.keyClicks(popup.search, "relu")
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    new = graph.node(win.scene.selected_node_ids()[0])
    assert new.kind == "ReLU" and wires(win) == before | {(new.name, "flatten.in")} and steps(win) == count + 1


def test_tab_with_the_cursor_over_a_wire_puts_the_layer_into_it(open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    before = wires(win)
    win.view.centerOn(win.view.mapToScene(wire_middle(win, "relu3", "flatten")))
    QCursor.setPos(win.view.viewport().mapToGlobal(wire_middle(win, "relu3", "flatten")))
    win.activateWindow()
    win.view.setFocus()
    QTest.keyClick(win.view, Qt.Key.Key_Tab)
    popup = win.edit_actions.quick_add.popup
    assert "into this wire" in popup.context.text()
    QTest.keyClicks(popup.search, "dropout")
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    new = win.document.project.graph.node(win.scene.selected_node_ids()[0])
    assert wires(win) == (before - {("relu3", "flatten.in")}) | {("relu3", f"{new.name}.in"), (new.name, "flatten.in")}


def test_a_wire_lights_up_while_a_palette_layer_is_dragged_over_it(open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    graph = win.document.project.graph
    wire = win.scene.wire_items[graph.in_edges(graph.by_name("flatten").id)["in"]]
    normal = wire.pen().color()
    mime = layer_mime("ReLU")
    at = wire_middle(win, "relu3", "flatten")
    for event in (QDragEnterEvent(at, Qt.DropAction.CopyAction, mime, LEFT, NONE),
                  QDragMoveEvent(at, Qt.DropAction.CopyAction, mime, LEFT, NONE)):
        QApplication.sendEvent(win.view.viewport(), event)
    assert wire.pen().color() == HOVER
    QApplication.sendEvent(win.view.viewport(), QDragLeaveEvent())
    assert wire.pen().color() == normal


def test_the_copy_shows_where_it_will_land_during_an_alt_drag(open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    start, viewport = header_of(win, "relu3"), win.view.viewport()
    QTest.mousePress(viewport, LEFT, ALT, start)
    for k in range(1, 6):
        QTest.mouseMove(viewport, start + QPoint(0, 30 * k))
    ghosts = [i for i in win.scene.items() if type(i).__name__ == "GhostItem"]
    original = win.scene.node_items[win.document.project.graph.by_name("relu3").id]
    assert len(ghosts) == 1 and ghosts[0].pos() == original.pos() + QPointF(0, 150)
    assert original.pos() == QPointF(*win.document.project.graph.by_name("relu3").position)  # it does not move
    QTest.mouseRelease(viewport, LEFT, ALT, start + QPoint(0, 150))
    assert steps(win) == 1


def test_ctrl_backspace_dissolves_too_and_a_merge_is_not_dissolved(open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    graph = win.document.project.graph
    QTest.mouseClick(win.view.viewport(), LEFT, NONE, header_of(win, "relu4"))
    win.activateWindow()
    win.view.setFocus()
    QTest.keyClick(win.view, Qt.Key.Key_Backspace, CTRL)
    assert graph.by_name("relu4") is None and steps(win) == 1
    add = graph.make_node("Add", position=(0.0, 800.0))
    win.document.push(AddNode(add))
    win.scene.select_nodes([add.id])
    win.edit_actions.dissolve.trigger()
    assert add.id in graph.nodes and "only a layer with one of each" in win.statusBar().currentMessage()


def test_a_refusal_beside_the_edge_of_the_view_stays_on_screen(open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    viewport = win.view.viewport().rect()
    note = win.scene.note
    for corner in (viewport.bottomRight() - QPoint(5, 5), viewport.topLeft() + QPoint(5, 5),
                   viewport.topRight() + QPoint(40, 20)):  # the last just past the edge (a drop a pixel out)
        note.show_at("wiring 'fc2' into 'conv1' would make a loop; networks here flow one way",
                     win.view.mapToScene(corner))
        top_left = win.view.mapFromScene(note.pos())
        on_screen_rect = note.boundingRect().translated(top_left.x(), top_left.y()).toRect()
        assert viewport.contains(on_screen_rect), (corner, on_screen_rect, viewport)
    note.dismiss()
    assert note.text() == "" and note.boundingRect().isNull()  # gone, it takes no room (Frame All ignores it)


def test_a_wire_let_go_in_a_newly_opened_project_opens_the_quick_add_there_too(open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    win.set_document(Document(example("mnist_cnn")))
    win.view.resetTransform()
    win.view.centerOn(win.scene.node_items[win.document.project.graph.by_name("pool2").id])
    drag(win, port(win, "pool2", "out", False), spot_right_of(win, "pool2"))
    popup = win.edit_actions.quick_add.popup
    assert popup is not None and popup.isVisible() and "[N, 64, 5, 5]" in popup.context.text()
    QTest.keyClick(popup.search, Qt.Key.Key_Escape)


def test_a_refusal_goes_by_itself_after_a_few_seconds_and_outlives_no_project(open_window, qtbot) -> None:  # noqa: F811
    win = cnn(open_window)
    drag(win, port(win, "fc2", "out", False), port(win, "conv1", "in", True))
    note = win.scene.note
    assert note.isVisible()
    qtbot.waitUntil(lambda: not note.isVisible(), timeout=wire_gestures.NOTE_MS + 2000)
    drag(win, port(win, "fc2", "out", False), port(win, "conv1", "in", True))
    win.set_document(Document(example("mnist_cnn")))  # the old scene and its note go while the note shows
    qtbot.wait(wire_gestures.NOTE_MS + 300)  # its timer went with them: nothing fires on a deleted item


def test_a_shaky_click_on_an_output_opens_no_quick_add(open_window) -> None:  # noqa: F811
    win = cnn(open_window)
    start = port(win, "relu3", "out", False)
    end = start + QPoint(QApplication.startDragDistance(), 0)  # off the port, but no further than a click's jitter
    assert not [i for i in win.view.items(end) if type(i).__name__ == "PortItem"]
    drag(win, start, end)
    popup = win.edit_actions.quick_add.popup
    assert (popup is None or not popup.isVisible()) and win.scene.dangling_wire is None and steps(win) == 0


def test_a_selected_wire_is_drawn_in_the_selection_colour_without_qts_dashed_box(open_window) -> None:  # noqa: F811
    # Seen on Xvfb: Ctrl+click on a wire that loops back drew Qt's dashed selection rectangle round everything the
    # wire spans, across other nodes and wires. The selection colour along the wire says it is selected.
    import numpy as np
    from PySide6.QtGui import QImage, QPainter, QPainterPathStroker

    win = cnn(open_window)
    graph = win.document.project.graph
    edge = next(e for e in win.scene.wire_items if graph.node(e.src).name == "relu3")
    wire = win.scene.wire_items[edge]
    area = wire.boundingRect()

    def render() -> np.ndarray:
        image = QImage(int(area.width()), int(area.height()), QImage.Format.Format_ARGB32)
        image.fill(0)
        painter = QPainter(image)
        win.scene.render(painter, QRectF(image.rect()), area)
        painter.end()
        return np.frombuffer(image.constBits(), np.uint32).reshape(image.height(), image.width()).copy()

    before = render()
    wire.setSelected(True)
    after = render()
    stroker = QPainterPathStroker()
    stroker.setWidth(14)  # the wire and its antialiased edge, generously
    near = stroker.createStroke(wire.path())
    changed = np.argwhere(before != after)
    assert len(changed) > 50  # the wire took the selection colour
    stray = [(x, y) for y, x in changed if not near.contains(QPointF(area.left() + x + 0.5, area.top() + y + 0.5))]
    assert stray == [], f"{len(stray)} pixels changed away from the wire, e.g. {stray[:5]}"
