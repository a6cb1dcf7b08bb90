"""The Edit menu's node-editor commands driven like a user: shortcuts on the canvas, the clipboard, Tab."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QCursor, QGuiApplication
from PySide6.QtTest import QTest

from netbuilder import Project, load_project
from netbuilder.examples import example_path
from netbuilder.files.fragment import FragmentError, parse_fragment
from netbuilder.model.edits import Move
from netbuilder.model.layout import is_free, layered_positions, node_height
from ui.canvas.items import HEADER, NODE_WIDTH, NodeItem, snap
from ui.document import Document
from ui.edit_menu import FRAGMENT_MIME, clipboard_fragment, paste_fragment

CTRL = Qt.KeyboardModifier.ControlModifier


def snapshot(win) -> str:
    return json.dumps(Project(win.document.project.graph).to_dict(), sort_keys=True)


def node(win, name: str):
    return win.document.project.graph.by_name(name)


def select(win, *names: str) -> None:
    win.scene.select_nodes([node(win, n).id for n in names])


def selected_names(win) -> list[str]:
    graph = win.document.project.graph
    return [graph.node(i).name for i in win.scene.selected_node_ids()]


def cursor_away(win) -> None:
    """The mouse over the menu bar, not the canvas."""
    QCursor.setPos(win.menuBar().mapToGlobal(QPoint(5, 5)))


def cursor_at(win, scene_point: QPointF) -> None:
    QCursor.setPos(win.view.viewport().mapToGlobal(win.view.mapFromScene(scene_point)))


def keys(win, key: Qt.Key, modifiers=CTRL) -> None:
    """A key press on the canvas of ``win``, the active window (shortcuts go to the active window)."""
    win.activateWindow()
    assert QTest.qWaitForWindowActive(win)
    win.view.setFocus()
    QTest.keyClick(win.view, key, modifiers)


def test_select_all_selects_every_layer_and_changes_nothing(window) -> None:
    win = window()
    keys(win, Qt.Key.Key_A)
    assert len(win.scene.selected_node_ids()) == 14
    assert all(w.isSelected() for w in win.scene.wire_items.values())
    assert win.document.undo_stack.count() == 0


def test_duplicate_copies_layers_and_their_wire_offset_and_selected(window) -> None:
    win = window()
    conv1, relu1 = node(win, "conv1"), node(win, "relu1")
    select(win, "conv1", "relu1")
    keys(win, Qt.Key.Key_D)
    graph = win.document.project.graph
    assert len(graph) == 16 and len(graph.edges) == 14
    copies = [graph.node(i) for i in win.scene.selected_node_ids()]
    assert [c.kind for c in copies] == ["Conv2d", "ReLU"]
    assert {c.name for c in copies}.isdisjoint({"conv1", "relu1"}) and len({n.name for n in graph}) == 16
    # The copies keep their layout, moved to the nearest place where they cover no layer (40 units off they
    # covered most of the originals).
    shift = (copies[0].position[0] - conv1.position[0], copies[0].position[1] - conv1.position[1])
    assert copies[1].position == (relu1.position[0] + shift[0], relu1.position[1] + shift[1])
    copy_ids = frozenset(c.id for c in copies)
    assert all(is_free(graph, *c.position, node_height(c), ignore=copy_ids) for c in copies)
    assert abs(shift[0]) + abs(shift[1]) <= 2 * 300  # near: within two columns
    assert graph.in_edges(copies[1].id)["in"].src == copies[0].id
    assert win.document.undo_stack.count() == 1
    win.undo_action.trigger()
    assert len(graph) == 14 and len(win.scene.node_items) == 14


def test_copy_puts_layers_on_the_clipboard_and_another_window_pastes_them(window) -> None:
    first, second = window(), window("softmax_regression")
    select(first, "fc1", "relu4", "fc2")
    keys(first, Qt.Key.Key_C)
    data = QGuiApplication.clipboard().mimeData()
    assert data.hasFormat(FRAGMENT_MIME)
    fragment = parse_fragment(data.text())  # plain text too, for other programs
    assert [n["name"] for n in fragment["nodes"]] == ["fc1", "relu4", "fc2"] and len(fragment["edges"]) == 2
    other = Document(Project())
    assert len(paste_fragment(other, fragment)) == 3 and len(other.project.graph.edges) == 2
    cursor_away(second)
    before, count = snapshot(second), len(second.document.project.graph)
    keys(second, Qt.Key.Key_V)
    graph = second.document.project.graph
    assert len(graph) == count + 3
    assert selected_names(second) == ["fc1", "relu4", "fc2"]  # names free in this project are kept
    assert graph.in_edges(graph.by_name("fc2").id)["in"].src == graph.by_name("relu4").id
    second.undo_action.trigger()
    assert snapshot(second) == before


def test_cut_removes_the_layers_and_paste_brings_them_back(window) -> None:
    win = window()
    before = snapshot(win)
    was = node(win, "fc2").position
    select(win, "fc2", "logits")
    keys(win, Qt.Key.Key_X)
    assert node(win, "fc2") is None and len(win.document.project.graph) == 12
    cursor_away(win)
    keys(win, Qt.Key.Key_V)
    assert selected_names(win) == ["fc2", "logits"]
    assert node(win, "fc2").position == (was[0] + 40, was[1] + 40)  # offset from where it was cut
    win.undo_action.trigger()
    win.undo_action.trigger()
    assert snapshot(win) == before


def test_paste_lands_at_the_mouse_when_it_is_over_the_canvas(window) -> None:
    win = window()
    select(win, "relu1")
    keys(win, Qt.Key.Key_C)
    target = win.view.mapToScene(win.view.viewport().rect().center())
    cursor_at(win, target)
    keys(win, Qt.Key.Key_V)
    pasted = win.scene.node_items[win.scene.selected_node_ids()[0]]
    assert pasted.sceneBoundingRect().contains(target)
    assert pasted.pos().x() % 10 == 0 and pasted.pos().y() % 10 == 0


def test_pasting_garbage_says_so_and_changes_nothing(window) -> None:
    win = window()
    before = snapshot(win)
    QGuiApplication.clipboard().setText("{not json at all")
    keys(win, Qt.Key.Key_V)
    assert win.statusBar().currentMessage().startswith("Cannot paste: not netbuilder layers")
    QGuiApplication.clipboard().setText('{"format": "netbuilder-project"}')
    keys(win, Qt.Key.Key_V)
    assert "not netbuilder layers" in win.statusBar().currentMessage()
    assert snapshot(win) == before and win.document.undo_stack.count() == 0


def test_paste_is_offered_only_while_the_clipboard_may_hold_layers(window) -> None:
    # Seen on Xvfb: after Copy CSV in the Summary dock, the canvas menu offered Paste, which said "the clipboard
    # is empty". Text that is no layers greys Paste out; layers copied bring it back.
    win = window()
    paste = win.edit_actions.paste
    QGuiApplication.clipboard().setText("layer,output shape\nfc1,\"[N, 64]\"\n")
    QGuiApplication.processEvents()
    assert not paste.isEnabled() and "copy them (Ctrl+C) first" in paste.statusTip()
    with pytest.raises(FragmentError, match="the clipboard holds text, not layers"):
        clipboard_fragment()
    win.scene.select_nodes([win.document.project.graph.by_name("fc1").id])
    keys(win, Qt.Key.Key_C)
    QGuiApplication.processEvents()
    assert paste.isEnabled()
    keys(win, Qt.Key.Key_V)
    assert win.statusBar().currentMessage() == "Pasted 1 layer"


def test_arrange_lays_out_by_depth_in_one_undo_step(window) -> None:
    win = window()
    graph = win.document.project.graph
    win.document.push(Move({n.id: (k * 37.0, k * 11.0) for k, n in enumerate(graph)}))
    scrambled = snapshot(win)
    columns = win.edit_actions.columns_for_view()  # five a band where the view takes them readably, else fewer
    keys(win, Qt.Key.Key_L)
    assert {n.id: n.position for n in graph} == layered_positions(graph, columns)
    assert win.document.undo_stack.count() == 2
    win.undo_action.trigger()
    assert snapshot(win) == scrambled
    win.redo_action.trigger()
    keys(win, Qt.Key.Key_L)
    assert win.document.undo_stack.count() == 2 and "arranged already" in win.statusBar().currentMessage()


def drag_node(win, name: str, by: QPoint) -> tuple[float, float]:
    item: NodeItem = win.scene.node_items[node(win, name).id]
    viewport = win.view.viewport()
    start = win.view.mapFromScene(item.scenePos() + item.boundingRect().center())
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for k in range(1, 6):
        QTest.mouseMove(viewport, start + by * (k / 5))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + by)
    return node(win, name).position


def test_snap_to_grid_puts_dragged_layers_on_the_grid_and_can_be_turned_off(window) -> None:
    win = window()
    win.view.resetTransform()  # one view pixel is one scene unit
    win.view.centerOn(win.scene.node_items[node(win, "image").id])
    assert win.scene.snap_to_grid and win.edit_actions.snap.isChecked()
    x, y = drag_node(win, "image", QPoint(37, 23))
    assert (x, y) == (40.0, 20.0)
    win.edit_actions.snap.trigger()
    assert not win.scene.snap_to_grid
    x, y = drag_node(win, "image", QPoint(37, 23))
    assert (x, y) == (77.0, 43.0)
    assert win.document.undo_stack.count() == 2


def test_history_dock_lists_edits_follows_the_document_and_jumps_back(window) -> None:
    win = window()
    toggle = win.edit_actions.history.toggleViewAction()
    assert toggle in win.edit_menu.actions() and not win.edit_actions.history.isVisible()
    toggle.trigger()
    history = win.edit_actions.history
    assert history.isVisible() and history.view.stack() is win.document.undo_stack
    select(win, "relu1")
    keys(win, Qt.Key.Key_D)
    keys(win, Qt.Key.Key_D)
    assert history.view.model().rowCount() == 3  # "Opened" and two duplicates
    history.view.setCurrentIndex(history.view.model().index(0, 0))  # a click on "Opened"
    assert len(win.document.project.graph) == 14
    win.document.undo_stack.setClean()
    win.set_document(Document(load_project(example_path("linear_regression"))))
    assert history.view.stack() is win.document.undo_stack
    assert toggle in win.edit_menu.actions()
    count = len(win.document.project.graph)
    keys(win, Qt.Key.Key_A)  # the kept actions work on the new document
    keys(win, Qt.Key.Key_D)
    assert len(win.document.project.graph) == 2 * count and history.view.model().rowCount() == 2


def test_tab_quick_add_inserts_a_layer_wired_after_the_selected_one(window) -> None:
    win = window()
    graph = win.document.project.graph
    select(win, "relu4")
    cursor_away(win)
    keys(win, Qt.Key.Key_Tab, Qt.KeyboardModifier.NoModifier)
    popup = win.edit_actions.quick_add.popup
    assert popup is not None and popup.isVisible()
    QTest.keyClicks(popup.search, "drop")
    assert popup.kinds()[0] == "Dropout"
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    assert not popup.isVisible() and len(graph) == 15
    new = graph.node(win.scene.selected_node_ids()[0])
    assert new.kind == "Dropout" and graph.in_edges(new.id)["in"].src == node(win, "relu4").id
    assert new.position == (node(win, "relu4").position[0] + 300, 420.0)  # right of it, on the grid
    win.undo_action.trigger()
    assert len(graph) == 14 and win.document.undo_stack.index() == 0


def test_tab_quick_add_click_adds_at_the_cursor_and_escape_adds_nothing(window) -> None:
    win = window()
    graph = win.document.project.graph
    before = snapshot(win)
    keys(win, Qt.Key.Key_Tab, Qt.KeyboardModifier.NoModifier)
    popup = win.edit_actions.quick_add.popup
    QTest.keyClick(popup.search, Qt.Key.Key_Escape)
    assert not popup.isVisible() and snapshot(win) == before
    win.scene.clearSelection()
    # Empty canvas right of the graph (over a layer, the new one would go beside it: tests/ui/test_placement.py).
    content = win.scene.content_rect()
    win.view.centerOn(content.right() + 400, content.center().y())
    target = win.view.mapToScene(win.view.viewport().rect().center())
    assert is_free(graph, *snap(target.x() - NODE_WIDTH / 2, target.y() - HEADER / 2))
    cursor_at(win, target)
    keys(win, Qt.Key.Key_Tab, Qt.KeyboardModifier.NoModifier)
    QTest.keyClicks(popup.search, "lstm")
    item = popup.list.currentItem()
    QTest.mouseClick(popup.list.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     popup.list.visualItemRect(item).center())
    new = graph.node(win.scene.selected_node_ids()[0])
    assert new.kind == "LSTM" and not graph.in_edges(new.id)
    assert win.scene.node_items[new.id].sceneBoundingRect().contains(target)


def test_tab_after_an_output_adds_the_layer_unwired(window) -> None:
    win = window()
    graph = win.document.project.graph
    select(win, "logits")
    cursor_away(win)
    keys(win, Qt.Key.Key_Tab, Qt.KeyboardModifier.NoModifier)
    popup = win.edit_actions.quick_add.popup
    QTest.keyClicks(popup.search, "relu")
    QTest.keyClick(popup.search, Qt.Key.Key_Enter)
    new = graph.node(win.scene.selected_node_ids()[0])
    assert new.kind == "ReLU" and not graph.in_edges(new.id) and win.document.undo_stack.count() == 1


def test_pasting_again_at_the_same_spot_staggers_the_copies(window) -> None:
    win = window()
    select(win, "relu1")
    keys(win, Qt.Key.Key_C)
    cursor_at(win, win.view.mapToScene(win.view.viewport().rect().center()))
    spots = []
    for _ in range(3):
        keys(win, Qt.Key.Key_V)
        spots.append(win.document.project.graph.node(win.scene.selected_node_ids()[0]).position)
    assert len(set(spots)) == 3  # each copy visible, not stacked on the last


def test_a_click_that_also_activates_the_item_adds_one_layer(window) -> None:
    """On platforms where a single click activates an item, a click emits both signals."""
    win = window()
    count = len(win.document.project.graph)
    keys(win, Qt.Key.Key_Tab, Qt.KeyboardModifier.NoModifier)
    popup = win.edit_actions.quick_add.popup
    QTest.keyClicks(popup.search, "gelu")
    item = popup.list.currentItem()
    popup.list.itemClicked.emit(item)
    popup.list.itemActivated.emit(item)
    assert len(win.document.project.graph) == count + 1 and win.document.undo_stack.count() == 1


def test_delete_and_select_all_typed_in_the_palette_edit_the_search_text_not_the_graph(window) -> None:
    win = window()
    select(win, "relu1")
    before = snapshot(win)
    win.activateWindow()
    win.palette.search.setFocus()
    QTest.keyClicks(win.palette.search, "conv")
    QTest.keyClick(win.palette.search, Qt.Key.Key_A, CTRL)
    QTest.keyClick(win.palette.search, Qt.Key.Key_Delete)
    assert win.palette.search.text() == ""
    assert snapshot(win) == before and selected_names(win) == ["relu1"]


def test_quick_add_lists_the_best_matches_first_and_the_arrows_walk_them(window) -> None:
    win = window()
    keys(win, Qt.Key.Key_Tab, Qt.KeyboardModifier.NoModifier)
    popup = win.edit_actions.quick_add.popup
    QTest.keyClicks(popup.search, "relu")
    assert popup.kinds()[:3] == ["ReLU", "ReLU6", "LeakyReLU"]  # the name starts with it, then holds it
    assert popup.list.currentItem().text() == "ReLU"
    QTest.keyClick(popup.search, Qt.Key.Key_Down)
    assert popup.list.currentItem().text() == "ReLU6"
    QTest.keyClick(popup.search, Qt.Key.Key_Escape)
