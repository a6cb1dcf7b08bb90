"""The node editor driven like a user: palette, mouse wiring, refusals, inspector, undo."""

from __future__ import annotations

import json

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtTest import QTest

from netbuilder import Project
from ui.canvas.items import NodeItem


def snapshot(win) -> str:
    return json.dumps(Project(win.document.project.graph).to_dict(), sort_keys=True)


def port_point(win, node_name: str, port: str, is_input: bool) -> QPoint:
    node = win.document.project.graph.by_name(node_name)
    item = win.scene.node_items[node.id].ports[(port, is_input)]
    return win.view.mapFromScene(item.scenePos())


def drag(win, start: QPoint, end: QPoint) -> None:
    viewport = win.view.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for k in range(1, 6):
        QTest.mouseMove(viewport, start + (end - start) * (k / 5))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def test_first_screen_is_the_working_cnn(window) -> None:
    win = window()
    assert len(win.scene.node_items) == 14 and len(win.scene.wire_items) == 13
    assert win.problems.windowTitle() == "Problems (none)"
    labels = {w.label.text() for w in win.scene.wire_items.values()}
    assert "[N, 576]" in labels and "[N, 32, 26, 26]" in labels
    assert win.windowTitle().startswith("Digits CNN[*]")


def test_palette_double_click_adds_at_the_centre_and_undo_removes_it(window, qtbot) -> None:
    win = window()
    tree = win.palette.tree
    item = tree.findItems("Dropout", Qt.MatchFlag.MatchRecursive)[0]
    tree.itemDoubleClicked.emit(item, 0)
    assert len(win.document.project.graph) == 15 and win.isWindowModified()
    assert "problem" in win.problems.windowTitle().lower() or "warning" in win.problems.windowTitle()
    win.undo_action.trigger()
    assert len(win.document.project.graph) == 14 and len(win.scene.node_items) == 14
    win.redo_action.trigger()
    assert len(win.scene.node_items) == 15


def test_palette_search_filters_layers(window) -> None:
    win = window()
    win.palette.search.setText("lstm")
    visible = [win.palette.tree.topLevelItem(g).child(k).text(0)
               for g in range(win.palette.tree.topLevelItemCount())
               for k in range(win.palette.tree.topLevelItem(g).childCount())
               if not win.palette.tree.topLevelItem(g).child(k).isHidden()]
    assert visible == ["LSTM"]


def test_wiring_with_the_mouse_and_a_refused_wire(window) -> None:
    win = window("softmax_regression")
    graph = win.document.project.graph
    logits = graph.by_name("logits")
    edge = graph.in_edges(logits.id)["in"]
    graph_before = snapshot(win)
    # Unwire by deleting the wire item, then draw it again with the mouse.
    win.scene.clearSelection()
    win.scene.wire_items[edge].setSelected(True)
    win.scene.delete_selection()
    assert "in" not in graph.in_edges(logits.id)
    drag(win, port_point(win, "scores", "out", False), port_point(win, "logits", "in", True))
    assert graph.in_edges(logits.id)["in"].src == graph.by_name("scores").id
    assert snapshot(win) == graph_before
    # A wire into an input that already has one replaces it, in one undo step.
    steps = win.document.undo_stack.count()
    drag(win, port_point(win, "x", "out", False), port_point(win, "logits", "in", True))
    assert graph.in_edges(logits.id)["in"].src == graph.by_name("x").id and len(graph.edges) == 2
    assert win.document.undo_stack.count() == steps + 1
    win.undo_action.trigger()
    assert snapshot(win) == graph_before
    # A wire that would loop is refused, said in the status bar and beside the cursor; nothing changes.
    drag(win, port_point(win, "scores", "out", False), port_point(win, "scores", "in", True))
    assert snapshot(win) == graph_before
    assert "cannot feed itself" in win.statusBar().currentMessage() and "cannot feed itself" in win.scene.note.text()


def test_inspector_edit_updates_shapes_and_problems(window, qtbot) -> None:
    win = window()
    fc1 = win.document.project.graph.by_name("fc1")
    win.scene.node_items[fc1.id].setSelected(True)
    box = win.inspector.editors["out_features"]
    box.setValue(32)
    wire = next(w for e, w in win.scene.wire_items.items() if e.src == fc1.id)
    assert wire.label.text() == "[N, 32]"
    assert win.document.project.graph.node(fc1.id).params["out_features"] == 32
    # Break the graph: a Linear fed 4-D input turns red and is listed.
    flatten = win.document.project.graph.by_name("flatten")
    win.scene.clearSelection()
    win.scene.node_items[flatten.id].setSelected(True)
    win.scene.delete_selection()
    assert "Linear 'fc1' has nothing wired into its input" in win.problems.list.item(0).text()
    assert "Problem:" in win.scene.node_items[fc1.id].toolTip()
    win.undo_action.trigger()
    assert win.problems.windowTitle() == "Problems (none)"


def test_hovering_a_node_shows_its_tooltip_with_its_problem(window, qtbot) -> None:
    # The tooltip is written when Qt is about to show it (not for each of 10,000 nodes at open): what the user
    # sees on hover must still be the node's current text, problem included, after an edit broke it.
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    win = window()
    graph = win.document.project.graph
    fc1, flatten = graph.by_name("fc1"), graph.by_name("flatten")

    def hover_tip() -> str:
        QToolTip.hideText()
        item = win.scene.node_items[fc1.id]
        win.view.centerOn(item)
        at = win.view.mapFromScene(item.body_rect().center() + QPoint(0, 4))
        QApplication.sendEvent(win.view.viewport(),
                               QHelpEvent(QEvent.Type.ToolTip, at, win.view.viewport().mapToGlobal(at)))
        return QToolTip.text()

    assert hover_tip().startswith("Linear 'fc1': ") and "Problem:" not in QToolTip.text()
    win.scene.node_items[flatten.id].setSelected(True)
    win.scene.delete_selection()
    assert "Problem: Linear 'fc1' has nothing wired into its input" in hover_tip()
    QToolTip.hideText()


def test_dragging_a_node_is_one_undo_step(window) -> None:
    win = window()
    image = win.document.project.graph.by_name("image")
    item: NodeItem = win.scene.node_items[image.id]
    start = win.view.mapFromScene(item.scenePos() + item.boundingRect().center())
    drag(win, start, start + QPoint(60, 90))
    moved = win.document.project.graph.node(image.id).position
    assert moved != (0.0, 0.0)
    assert win.document.undo_stack.count() == 1
    win.undo_action.trigger()
    assert win.document.project.graph.node(image.id).position == (0.0, 0.0)
    assert item.pos().x() == 0.0


def test_clicking_a_problem_selects_its_node(window) -> None:
    win = window("linear_regression")
    graph = win.document.project.graph
    win.scene.clearSelection()
    win.scene.wire_items[graph.edges[0]].setSelected(True)
    win.scene.delete_selection()
    win.problems.list.itemClicked.emit(win.problems.list.item(0))
    selected = [i.node_id for i in win.scene.selectedItems() if isinstance(i, NodeItem)]
    assert selected == [graph.by_name("linear").id]
    assert win.inspector.editors["out_features"].value() == 1


def test_clicking_a_node_and_pressing_delete_removes_it_and_its_wires_and_undo_brings_them_back(window, qtbot) -> None:
    win = window("linear_regression")
    before = snapshot(win)
    linear = win.document.project.graph.by_name("linear")
    item = win.scene.node_items[linear.id]
    QTest.mouseClick(win.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     win.view.mapFromScene(item.scenePos() + item.boundingRect().center()))
    assert item.isSelected()
    assert win.inspector.editors["out_features"].value() == 1
    QTest.keyClick(win.view, Qt.Key.Key_Delete)
    qtbot.wait(10)  # the selection change reaches the inspector and the window repaints
    graph = win.document.project.graph
    assert linear.id not in graph.nodes and not any(linear.id in (e.src, e.dst) for e in graph.edges)
    assert linear.id not in win.scene.node_items and len(win.scene.wire_items) == len(graph.edges)
    win.undo_action.trigger()
    assert snapshot(win) == before
    assert len(win.scene.wire_items) == 2


def test_inspector_fields_turn_red_with_the_reason_while_the_typed_value_is_not_allowed(window) -> None:
    win = window()
    graph = win.document.project.graph
    win.focus_node(graph.by_name("image").id)
    shape = win.inspector.editors["shape"]
    before = snapshot(win)
    shape.selectAll()
    QTest.keyClicks(shape, "[1, 28")
    assert shape.property("problem") and "not a value" in shape.toolTip()
    QTest.keyClicks(shape, ", 0]")
    assert "shape" in shape.property("problem")  # JSON now, but a zero size is not allowed
    QTest.keyClick(shape, Qt.Key.Key_Return)
    assert snapshot(win) == before and win.statusBar().currentMessage() == shape.property("problem")
    name = win.inspector.editors["name"]
    name.selectAll()
    QTest.keyClicks(name, "conv1")  # taken by another layer
    assert "already exists" in name.property("problem")
    name.selectAll()
    QTest.keyClicks(name, "pixels")
    assert not name.property("problem")
    QTest.keyClick(name, Qt.Key.Key_Return)
    assert graph.by_name("pixels").kind == "Input"
