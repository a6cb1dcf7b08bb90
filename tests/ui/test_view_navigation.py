"""Finding your way on the canvas: zoom, frame, pan, multi-select, snapping while dragging."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from ui.canvas.items import GRID, NodeItem


def _scale(win) -> float:
    return win.view.transform().m11()


def _centre_of(win, item: NodeItem) -> QPoint:
    return win.view.mapFromScene(item.sceneBoundingRect().center())


def test_zoom_keys_and_actual_size(window) -> None:
    win = window()
    win.view.setFocus()
    before = _scale(win)
    QTest.keyClick(win.view, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert _scale(win) > before
    QTest.keyClick(win.view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(win.view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert _scale(win) < before
    QTest.keyClick(win.view, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert _scale(win) == 1.0


def test_f_frames_the_selection_and_home_frames_everything(window) -> None:
    win = window()
    win.view.setFocus()
    QTest.keyClick(win.view, Qt.Key.Key_Home)
    everything = _scale(win)
    graph = win.document.project.graph
    item = win.scene.node_items[graph.by_name("image").id]
    win.view.scale(2.0, 2.0)
    win.view.centerOn(win.scene.node_items[graph.by_name("logits").id])  # the far end: image is out of view

    def visible():
        return win.view.mapToScene(win.view.viewport().rect()).boundingRect()

    assert not visible().intersects(item.sceneBoundingRect())
    item.setSelected(True)
    QTest.keyClick(win.view, Qt.Key.Key_F)
    assert visible().contains(item.sceneBoundingRect())
    assert _scale(win) > everything  # one node fills more of the view than the whole graph
    QTest.keyClick(win.view, Qt.Key.Key_Home)
    assert abs(_scale(win) - everything) < 1e-9


def test_typing_f_in_the_palette_search_is_a_letter_not_a_frame(window) -> None:
    win = window()
    win.view.resetTransform()
    win.palette.search.setFocus()
    QTest.keyClicks(win.palette.search, "f")
    assert win.palette.search.text() == "f"
    assert _scale(win) == 1.0


def test_space_and_drag_pans_without_moving_or_selecting_anything(window) -> None:
    win = window()
    win.view.resetTransform()
    win.view.setFocus()
    before = win.document.project.to_json()
    bar = win.view.horizontalScrollBar()
    start_value = bar.value()
    item = win.scene.node_items[win.document.project.graph.by_name("conv1").id]
    start = _centre_of(win, item)  # even starting on a node, space + drag pans
    QTest.keyPress(win.view, Qt.Key.Key_Space)
    viewport = win.view.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for k in range(1, 6):
        QTest.mouseMove(viewport, start + QPoint(-20 * k, 0))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(-100, 0))
    QTest.keyRelease(win.view, Qt.Key.Key_Space)
    assert bar.value() == start_value + 100
    assert win.document.project.to_json() == before and win.document.undo_stack.count() == 0
    assert not item.isSelected()


def test_ctrl_click_adds_to_the_selection(window) -> None:
    win = window()
    graph = win.document.project.graph
    a, b = (win.scene.node_items[graph.by_name(n).id] for n in ("conv1", "fc1"))
    viewport = win.view.viewport()
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _centre_of(win, a))
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, _centre_of(win, b))
    assert set(win.scene.selected_node_ids()) == {a.node_id, b.node_id}
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, _centre_of(win, a))
    assert win.scene.selected_node_ids() == [b.node_id]


def test_a_dragged_node_moves_from_grid_point_to_grid_point_while_snapping(window) -> None:
    win = window()
    win.view.resetTransform()
    item = win.scene.node_items[win.document.project.graph.by_name("fc1").id]
    win.view.centerOn(item)
    viewport = win.view.viewport()
    start = _centre_of(win, item)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    seen = []
    for k in range(1, 8):
        QTest.mouseMove(viewport, start + QPoint(7 * k, 3 * k))
        seen.append((item.pos().x(), item.pos().y()))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(49, 21))
    assert all(x % GRID == 0 and y % GRID == 0 for x, y in seen), seen
    assert len(set(seen)) > 2  # it did move along the way
    x, y = win.document.project.graph.node(item.node_id).position
    assert x % GRID == 0 and y % GRID == 0


def test_with_snapping_off_a_drag_lands_where_the_mouse_left_it(window) -> None:
    win = window()
    win.view.resetTransform()
    win.edit_actions.snap.trigger()  # as the menu item does
    assert not win.edit_actions.snap.isChecked()
    item = win.scene.node_items[win.document.project.graph.by_name("fc1").id]
    win.view.centerOn(item)
    x0, y0 = win.document.project.graph.node(item.node_id).position
    viewport = win.view.viewport()
    start = _centre_of(win, item)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for k in range(1, 8):
        QTest.mouseMove(viewport, start + QPoint(7 * k, 3 * k))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(49, 21))
    assert win.document.project.graph.node(item.node_id).position == (x0 + 49, y0 + 21)


def test_undo_is_ctrl_z_and_redo_both_ctrl_shift_z_and_the_platform_binding(window) -> None:
    win = window()
    win.view.setFocus()
    graph = win.document.project.graph
    win.scene.add_layer("ReLU", win.view.mapToScene(win.view.viewport().rect().center()))
    QTest.keyClick(win.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(graph) == 14
    QTest.keyClick(win.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert len(graph) == 15
    QTest.keyClick(win.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(win.view, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert len(graph) == 15
    win.document.undo_stack.setClean()


def test_ctrl_equals_zooms_in_like_ctrl_plus(window) -> None:
    win = window()
    win.view.setFocus()
    before = _scale(win)
    QTest.keyClick(win.view, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert _scale(win) > before
