"""Canvas gestures that must not edit or move what the user did not touch: clicks, drops, and the
status bar after a refusal."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QCursor, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from netbuilder import Project, load_project
from netbuilder.examples import EXAMPLE_NAMES, example_path
from netbuilder.model.edits import Move
from ui.canvas.items import HEADER, NODE_WIDTH
from ui.canvas.view import layer_mime
from ui.document import Document
from ui.main_window import MainWindow

LEFT, NONE = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


@pytest.fixture
def open_window(qtbot):
    """A main window on ``project`` (any project, unlike the ``window`` fixture's examples)."""
    made: list[MainWindow] = []

    def make(project: Project) -> MainWindow:
        win = MainWindow(Document(project))
        made.append(win)
        win.show()
        qtbot.waitExposed(win)
        qtbot.wait(50)  # the first frame_all runs from a zero timer
        win.document.undo_stack.setClean()
        return win

    yield make
    for win in made:
        win.document.undo_stack.setClean()
        win.close()
        win.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def example(name: str, off_grid: bool = False) -> Project:
    project = load_project(example_path(name))
    project.path = None
    if off_grid:  # as a hand-edited file, or one laid out before the layout kept to the grid, has them
        Move({n.id: (n.position[0] + 3.0, n.position[1] + 7.0) for n in project.graph}).apply(project.graph)
    return project


def positions(win) -> dict[str, tuple[tuple[float, float], tuple[float, float]]]:
    """Each node's position in the graph and where its item is drawn."""
    return {node_id: (win.document.project.graph.node(node_id).position, (item.pos().x(), item.pos().y()))
            for node_id, item in win.scene.node_items.items()}


def on_screen(win, scene_point: QPointF) -> QPoint:
    return win.view.mapFromScene(scene_point)


def header_of(win, name: str) -> QPoint:
    item = win.scene.node_items[win.document.project.graph.by_name(name).id]
    return on_screen(win, item.pos() + QPointF(NODE_WIDTH / 2, HEADER / 2))  # clear of the ports


def empty_spot(win) -> QPoint:
    rect = win.view.viewport().rect()
    for y in range(10, rect.height() - 10, 15):
        for x in range(10, rect.width() - 10, 15):
            if not win.view.items(QPoint(x, y)):
                return QPoint(x, y)
    raise AssertionError("no empty spot on the canvas")


def moved_nodes(win, before) -> list[str]:
    graph = win.document.project.graph
    return sorted(graph.node(n).name for n, where in positions(win).items() if before[n] != where)


def view_state(win) -> tuple:
    """Zoom, scroll, and the part of the scene on screen (a scene smaller than the view is aligned,
    which moves it without scrolling)."""
    view = win.view
    return (view.transform(), view.horizontalScrollBar().value(), view.verticalScrollBar().value(),
            view.mapToScene(view.viewport().rect()).boundingRect())


@pytest.mark.parametrize("off_grid", [False, True], ids=["as shipped", "off the grid"])
@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_a_click_on_a_node_or_on_empty_canvas_edits_nothing(open_window, name, off_grid) -> None:
    win = open_window(example(name, off_grid))
    viewport, before = win.view.viewport(), positions(win)
    first = next(iter(win.document.project.graph)).name
    QTest.mouseClick(viewport, LEFT, NONE, header_of(win, first))
    assert win.scene.selected_node_ids() == [win.document.project.graph.by_name(first).id]
    QTest.mouseClick(viewport, LEFT, NONE, empty_spot(win))
    assert not win.scene.selected_node_ids()
    # A click whose hand shook a pixel or two is still a click.
    start = header_of(win, first)
    QTest.mousePress(viewport, LEFT, NONE, start)
    QTest.mouseMove(viewport, start + QPoint(2, 1))
    QTest.mouseRelease(viewport, LEFT, NONE, start + QPoint(2, 1))
    assert moved_nodes(win, before) == []
    assert win.document.undo_stack.count() == 0 and not win.isWindowModified()


def test_after_arrange_a_click_edits_nothing_and_every_node_is_on_the_grid(open_window) -> None:
    win = open_window(example("mnist_cnn", off_grid=True))
    win.edit_actions.arrange.trigger()
    assert win.document.undo_stack.count() == 1
    assert all(x % 10 == 0 and y % 10 == 0 for x, y in (n.position for n in win.document.project.graph))
    win.document.undo_stack.setClean()
    before = positions(win)
    QTest.mouseClick(win.view.viewport(), LEFT, NONE, header_of(win, "fc1"))
    QTest.mouseClick(win.view.viewport(), LEFT, NONE, empty_spot(win))
    assert moved_nodes(win, before) == [] and win.document.undo_stack.count() == 1
    assert not win.isWindowModified()


def test_a_drag_moves_only_the_dragged_node(open_window) -> None:
    win = open_window(example("mnist_cnn", off_grid=True))
    before = positions(win)
    start = header_of(win, "conv2")
    viewport = win.view.viewport()
    QTest.mousePress(viewport, LEFT, NONE, start)
    for k in range(1, 6):
        QTest.mouseMove(viewport, start + QPoint(8 * k, 6 * k))
    QTest.mouseRelease(viewport, LEFT, NONE, start + QPoint(40, 30))
    assert moved_nodes(win, before) == ["conv2"] and win.document.undo_stack.count() == 1
    x, y = win.document.project.graph.by_name("conv2").position
    assert x % 10 == 0 and y % 10 == 0  # the dragged node lands on the grid


def drop(win, kind: str, at: QPoint) -> None:
    """A palette drag of ``kind`` dropped at viewport point ``at``, as Qt delivers one."""
    viewport, mime = win.view.viewport(), layer_mime(kind)
    copy = Qt.DropAction.CopyAction
    for event in (QDragEnterEvent(at, copy, mime, LEFT, NONE), QDragMoveEvent(at, copy, mime, LEFT, NONE),
                  QDropEvent(QPointF(at), copy, mime, LEFT, NONE)):
        QApplication.sendEvent(viewport, event)


@pytest.mark.parametrize("name", [None, "mnist_cnn"], ids=["empty canvas", "digits CNN"])
def test_a_dropped_layer_lands_under_the_cursor_and_the_view_stays(open_window, qtbot, name) -> None:
    win = open_window(example(name) if name else Project())
    rect = win.view.viewport().rect()
    spots = [QPoint(rect.width() // 5, rect.height() // 4), QPoint(rect.width() * 4 // 5, rect.height() * 3 // 4)]
    for k, at in enumerate(spots):
        old = {n: on_screen(win, item.pos()) for n, item in win.scene.node_items.items()}
        view = view_state(win)
        drop(win, "ReLU", at)
        qtbot.wait(20)  # the scene works out its new bounds after the event
        graph = win.document.project.graph
        new = [n for n in win.scene.node_items if n not in old]
        assert len(new) == 1 and graph.node(new[0]).kind == "ReLU"
        assert win.scene.node_items[new[0]].sceneBoundingRect().contains(win.view.mapToScene(at)), (k, at)
        assert view_state(win) == view  # no zoom, no scroll
        assert {n: on_screen(win, win.scene.node_items[n].pos()) for n in old} == old  # nothing slid away


@pytest.mark.parametrize("name", [None, "mnist_cnn"], ids=["empty canvas", "digits CNN"])
def test_a_palette_double_click_adds_at_the_centre_of_what_is_visible_and_the_next_beside_it_wired(open_window, qtbot,
                                                                                                 name) -> None:
    # The first layer lands where the user is looking, at the zoom they chose; the next goes beside it, wired from
    # it (it is selected), as Tab's quick-add places it, never on it; the view follows just enough to show it.
    win = open_window(example(name) if name else Project())
    win.view.resetTransform()
    if name:  # looking at the last layer, far from the middle of the graph
        win.view.centerOn(win.scene.node_items[win.document.project.graph.by_name("logits").id])
    win.scene.clearSelection()
    centre = win.view.mapToScene(win.view.viewport().rect().center())
    zoom = win.view.transform()
    tree = win.palette.tree
    graph = win.document.project.graph
    added = []
    for _ in range(2):
        before = {n.id for n in graph}
        tree.itemDoubleClicked.emit(tree.findItems("Dropout", Qt.MatchFlag.MatchRecursive)[0], 0)
        qtbot.wait(20)
        [new] = [n.id for n in graph if n.id not in before]
        added.append(new)
        assert win.view.transform() == zoom  # no zoom
        visible = win.view.mapToScene(win.view.viewport().rect()).boundingRect()
        assert visible.contains(win.scene.node_items[new].body_rect())  # on screen, whole
    header = win.scene.node_items[added[0]].sceneBoundingRect()
    off = (abs(header.center().x() - centre.x()), abs(header.top() + HEADER / 2 - centre.y()))
    # At the centre on an empty canvas; where a layer is there (the digits CNN's logits), at the nearest free spot.
    assert off[0] <= 10 and off[1] <= 10 if not name else off[0] + off[1] <= 250, off
    bodies = {n: item.body_rect() for n, item in win.scene.node_items.items()}
    assert not any(bodies[a].intersects(bodies[b]) for a in added for b in bodies if b != a)
    assert graph.in_edges(added[1])["in"].src == added[0]


def wire(win, src: str, dst: str) -> None:
    graph = win.document.project.graph
    a = win.scene.node_items[graph.by_name(src).id].ports[("out", False)]
    b = win.scene.node_items[graph.by_name(dst).id].ports[("in", True)]
    start, end = on_screen(win, a.scenePos()), on_screen(win, b.scenePos())
    viewport = win.view.viewport()
    QTest.mousePress(viewport, LEFT, NONE, start)
    for k in range(1, 6):
        QTest.mouseMove(viewport, start + (end - start) * (k / 5))
    QTest.mouseRelease(viewport, LEFT, NONE, end)


def test_a_refusal_in_the_status_bar_goes_when_the_next_edit_goes_through(open_window) -> None:
    win = open_window(example("mnist_cnn"))
    graph = win.document.project.graph
    flatten = graph.by_name("flatten")
    win.scene.wire_items[graph.in_edges(flatten.id)["in"]].setSelected(True)
    win.scene.delete_selection()
    wire(win, "fc2", "fc1")
    assert "would make a loop" in win.statusBar().currentMessage()
    wire(win, "relu3", "flatten")
    assert "in" in graph.in_edges(flatten.id)
    assert win.statusBar().currentMessage() == ""


def test_quick_add_says_why_the_layer_is_unwired_until_the_next_edit(open_window) -> None:
    win = open_window(example("mnist_cnn"))
    graph = win.document.project.graph
    output = next(n for n in graph if n.kind == "Output")
    win.scene.select_nodes([output.id])
    QCursor.setPos(win.menuBar().mapToGlobal(QPoint(5, 5)))  # not over the canvas: added beside the selection
    win.activateWindow()
    assert QTest.qWaitForWindowActive(win)
    win.view.setFocus()
    QTest.keyClick(win.view, Qt.Key.Key_Tab)
    popup = win.edit_actions.quick_add.popup
    QTest.keyClicks(popup.search, "relu")
    QTest.keyClick(popup.search, Qt.Key.Key_Enter)
    new = graph.node(win.scene.selected_node_ids()[0])
    assert new.kind == "ReLU" and not graph.in_edges(new.id)
    message = win.statusBar().currentMessage()
    assert "unwired" in message and output.name in message
    win.scene.delete_selection()
    assert win.statusBar().currentMessage() == ""


def test_the_status_bar_does_not_clear_when_nothing_was_edited(open_window) -> None:
    """A refusal stays while the user reads it: a click, a selection, a refused wire again."""
    win = open_window(example("mnist_cnn"))
    win.view.resetTransform()
    graph = win.document.project.graph
    win.view.centerOn(win.scene.node_items[graph.by_name("fc1").id])
    wire(win, "fc2", "fc1")
    assert "would make a loop" in win.statusBar().currentMessage()
    QTest.mouseClick(win.view.viewport(), LEFT, NONE, empty_spot(win))
    assert "would make a loop" in win.statusBar().currentMessage()


def test_a_node_dragged_onto_another_is_drawn_over_it(open_window) -> None:
    # Seen on Xvfb: relu4 dragged onto fc2 snapped exactly under it and was hidden, only fc2's outline showing.
    win = open_window(example("mnist_cnn"))
    graph = win.document.project.graph
    relu4, fc2 = (win.scene.node_items[graph.by_name(n).id] for n in ("relu4", "fc2"))
    start, end = header_of(win, "relu4"), header_of(win, "fc2")
    viewport = win.view.viewport()
    QTest.mousePress(viewport, LEFT, NONE, start)
    for k in range(1, 6):
        QTest.mouseMove(viewport, start + (end - start) * (k / 5))
    QTest.mouseRelease(viewport, LEFT, NONE, end)
    assert graph.by_name("relu4").position == graph.by_name("fc2").position  # on top of it, on the grid
    top = win.scene.itemAt(win.view.mapToScene(end), win.view.transform())
    while top is not None and top.parentItem() is not None:
        top = top.parentItem()
    assert top is relu4, "the node dragged there must be the one seen"
    assert relu4.zValue() > fc2.zValue()
