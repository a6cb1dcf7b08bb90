"""Finding your way in a graph larger than the view: the minimap, the zoom percentage in the status bar,
and arrow keys that nudge the selection."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from netbuilder.model.edits import Move
from netbuilder.model.layout import GRID, layered_positions
from ui.canvas.view import ZoomLabel
from ui.document import Document

LEFT, NONE, SHIFT = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier


def long_cnn(window):
    """The digits CNN laid out in one row of 14 layers (4,000 units wide): no zoom that reads fits it, so it
    opens at 100 % on its start, with the minimap."""
    win = window("mnist_cnn")
    project = win.document.project
    for node_id, position in layered_positions(project.graph).items():
        project.graph.node(node_id).position = position
    win.set_document(Document(project))
    win.document.undo_stack.setClean()
    return win


def visible(win):
    return win.view.mapToScene(win.view.viewport().rect()).boundingRect()


def repaint(win) -> None:
    win.view.viewport().repaint()


# ---- minimap ---------------------------------------------------------------------------------------
def test_the_minimap_shows_while_the_graph_reaches_past_the_view(window) -> None:
    win = long_cnn(window)
    minimap = win.view.minimap
    assert minimap.isVisible()
    area = win.view.viewport().geometry()
    assert area.contains(minimap.geometry())  # over the canvas, in its corner
    win.view.fit_everything()
    repaint(win)
    assert not minimap.isVisible()  # all of it on screen: no need
    small = window("linear_regression")
    assert not small.view.minimap.isVisible()


def test_the_minimap_outlines_the_part_on_screen(window) -> None:
    win = long_cnn(window)
    minimap = win.view.minimap
    image = minimap.grab().toImage()
    highlight = minimap.palette().color(QPalette.ColorRole.Highlight)
    seen = {QColor(image.pixel(x, y)).rgb() for x in range(image.width()) for y in range(image.height())}
    assert highlight.rgb() in seen
    corner = minimap.scene_point(QPointF(minimap.width() - 8, minimap.height() / 2))
    assert not visible(win).contains(corner)  # the map shows more than the view


def test_a_click_on_the_minimap_moves_the_view_there_and_a_drag_follows(window) -> None:
    win = long_cnn(window)
    minimap = win.view.minimap
    graph = win.document.project.graph
    far = win.scene.node_items[graph.by_name("logits").id]
    assert not visible(win).contains(far.sceneBoundingRect())
    spot = minimap._mapping().map(far.sceneBoundingRect().center()).toPoint()
    before = win.document.project.to_json()
    QTest.mouseClick(minimap, LEFT, NONE, spot)
    assert visible(win).contains(far.sceneBoundingRect())
    start = win.scene.node_items[graph.by_name("image").id]
    spot2 = minimap._mapping().map(start.sceneBoundingRect().center()).toPoint()
    QTest.mousePress(minimap, LEFT, NONE, spot)
    for k in range(1, 6):
        QTest.mouseMove(minimap, spot + (spot2 - spot) * (k / 5))
    QTest.mouseRelease(minimap, LEFT, NONE, spot2)
    assert visible(win).contains(start.sceneBoundingRect())
    assert win.document.project.to_json() == before and win.document.undo_stack.count() == 0


def tall_bottom_dock(win, qtbot, fraction: float = 0.5) -> None:
    """The Runs dock in front and about ``fraction`` of the window tall: a short canvas, as a user who follows
    a run has."""
    win.resize(1600, 1000)
    win.runs_dock.show()
    win.runs_dock.raise_()
    qtbot.wait(20)
    win.resizeDocks([win.runs_dock], [round(win.height() * fraction)], Qt.Orientation.Vertical)
    qtbot.wait(50)


def layers_under_the_minimap(win) -> list[str]:
    """The layers on screen whose boxes the minimap lies over (none while it is hidden), by name."""
    view, minimap = win.view, win.view.minimap
    if not minimap.isVisible():
        return []
    over = QRectF(minimap.geometry().translated(-view.viewport().pos()))
    graph = win.document.project.graph
    return [graph.node(n).name for n, item in win.scene.node_items.items()
            if view.mapFromScene(item.sceneBoundingRect()).boundingRect().intersects(over.toRect())]


def put_in_the_corner(win, name: str) -> None:
    """Scroll so that layer ``name`` lies in the canvas's bottom-right corner, where the minimap goes."""
    view = win.view
    item = win.scene.node_items[win.document.project.graph.by_name(name).id]
    area = view.viewport().rect()
    spot = QPointF(area.width() - 40 - item.sceneBoundingRect().width() * view.transform().m11() / 2,
                   area.height() - 30)  # the node's centre, its right end 40 px from the corner
    scale = view.transform().m11()
    centre = item.sceneBoundingRect().center() + (QPointF(area.center()) - spot) / scale
    view.cover(QRectF(centre, centre).adjusted(-5000, -5000, 5000, 5000))
    view.centerOn(centre)
    repaint(win)


def test_over_a_layer_the_minimap_is_see_through_and_whole_under_the_pointer(window, qtbot) -> None:
    """A short canvas (a tall dock below it) with a layer in its corner. The map hid there, so on a dense graph
    (ShuffleNet) it was almost never shown, and gone after the first click; it now stays, drawn faint so the
    layer shows beneath, and whole while the pointer is on it."""
    win = window("mnist_cnn")
    tall_bottom_dock(win, qtbot)
    view, minimap = win.view, win.view.minimap
    assert view.viewport().height() < 450  # the short canvas
    view.reset_zoom()
    put_in_the_corner(win, "fc2")
    assert not visible(win).contains(minimap.graph_rect())  # the graph reaches past the view: a map helps
    assert "fc2" in layers_under_the_minimap(win)
    assert minimap.isVisible() and minimap.faint()
    faint = view.grab(minimap.geometry()).toImage()
    QApplication.sendEvent(minimap, QEvent(QEvent.Type.Enter))  # the pointer on the map: drawn whole
    minimap.setAttribute(Qt.WidgetAttribute.WA_UnderMouse, True)
    assert not minimap.faint()
    repaint(win)
    whole = view.grab(minimap.geometry()).toImage()
    # Whole, the map's own background covers the layer; faint, the layer's colours come through.
    assert sum(faint.pixelColor(x, y) != whole.pixelColor(x, y) for x in range(0, faint.width(), 4)
               for y in range(0, faint.height(), 4)) > 0.3 * (faint.width() // 4) * (faint.height() // 4)
    minimap.setAttribute(Qt.WidgetAttribute.WA_UnderMouse, False)
    # A click on it still jumps, and it stays for the next one.
    graph = win.document.project.graph
    image = win.scene.node_items[graph.by_name("image").id]
    QTest.mouseClick(minimap, LEFT, NONE, minimap._mapping().map(image.sceneBoundingRect().center()).toPoint())
    repaint(win)
    assert visible(win).contains(image.sceneBoundingRect().center()) and minimap.isVisible()
    # Scrolled so the corner is free (the graph's last band at the top of the canvas), it is whole.
    full = minimap.graph_rect()
    view.centerOn(QPointF(full.center().x(), full.bottom() + (view.viewport().height() / 2 - 60)))
    repaint(win)
    assert minimap.isVisible() and not minimap.faint() and layers_under_the_minimap(win) == []


def test_a_layer_moved_under_the_minimap_makes_it_see_through(window, qtbot) -> None:
    win = long_cnn(window)
    minimap = win.view.minimap
    assert minimap.isVisible() and not minimap.faint()
    view = win.view
    corner = view.mapToScene(minimap.geometry().translated(-view.viewport().pos()).center())
    graph = win.document.project.graph
    win.document.push(Move({graph.by_name("conv1").id: (corner.x() - 90, corner.y() - 30)}))  # a drag, let go
    repaint(win)
    assert minimap.isVisible() and minimap.faint()
    win.document.undo_stack.undo()
    repaint(win)
    assert not minimap.faint()


def test_a_canvas_too_small_for_the_minimap_has_none(window, qtbot) -> None:
    win = long_cnn(window)
    assert win.view.minimap.isVisible()
    tall_bottom_dock(win, qtbot, 0.8)
    win.view.reset_zoom()
    win.view.centerOn(win.view.minimap.graph_rect().bottomLeft() + QPointF(0, 2000))  # empty canvas in view
    repaint(win)
    minimap = win.view.minimap
    assert minimap.height() > 0.4 * win.view.viewport().height()  # it would fill the canvas
    assert not minimap.isVisible()


# ---- zoom percentage ----------------------------------------------------------------------------------
def zoom_label(win) -> ZoomLabel:
    return win.statusBar().findChild(ZoomLabel)


def test_the_status_bar_shows_the_zoom_and_a_click_sets_100_percent(window) -> None:
    win = long_cnn(window)
    label = zoom_label(win)
    # Too long to fit readably, it opens at the least zoom where its text reads (80 % or a little more).
    assert label.isVisible() and label.text() == f"{round(win.view.zoom_percent())} %"
    assert 80 <= win.view.zoom_percent() < 100
    QTest.mouseClick(label, LEFT)
    assert label.text() == "100 %"
    win.view.setFocus()
    QTest.keyClick(win.view, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert label.text() == "115 %"
    QTest.keyClick(win.view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(win.view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert label.text() == "87 %"
    centre = win.view.viewport().rect().center()
    wheel_up = QPoint(0, 120)
    from PySide6.QtGui import QWheelEvent

    event = QWheelEvent(QPointF(centre), QPointF(win.view.viewport().mapToGlobal(centre)), QPoint(), wheel_up,
                        Qt.MouseButton.NoButton, NONE, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(win.view.viewport(), event)
    assert label.text() == "100 %"
    win.view.fit_everything()
    repaint(win)  # however the zoom changed, the next paint tells the label
    assert label.text() != "100 %" and win.view.zoom_percent() < 100
    QTest.mouseClick(label, LEFT)
    assert label.text() == "100 %" and abs(win.view.zoom_percent() - 100) < 1e-6
    win.view.scale(2, 2)
    QTest.keyClick(win.view, Qt.Key.Key_Home)  # Frame All: every layer on screen, and the label says how far out
    shown = win.view.mapToScene(win.view.viewport().rect()).boundingRect()
    assert all(shown.contains(item.sceneBoundingRect()) for item in win.scene.node_items.values())
    assert label.text() == f"{round(win.view.zoom_percent())} %" and win.view.zoom_percent() < 100


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, _watched, event) -> bool:
        self.count += event.type() == QEvent.Type.Paint
        return False


def test_a_window_left_alone_rests_with_the_minimap_shown(window, qtbot) -> None:
    """The minimap repaints only when what it shows moves: it lies over the canvas, so a repaint of it on every
    canvas paint repainted the canvas again, for ever (a window left alone took a whole core)."""
    win = long_cnn(window)
    assert win.view.minimap.isVisible()  # the long row reaches past the view at 100 %
    counter = PaintCounter()
    win.view.viewport().installEventFilter(counter)
    qtbot.wait(300)
    counter.count = 0
    qtbot.wait(700)
    assert counter.count <= 2
    win.view.horizontalScrollBar().setValue(win.view.horizontalScrollBar().value() + 40)  # the user scrolls
    qtbot.wait(200)
    assert counter.count >= 1  # the canvas and its map follow
    win.view.viewport().removeEventFilter(counter)


# ---- nudging ----------------------------------------------------------------------------------------------
def select(win, *names: str) -> list[str]:
    ids = [win.document.project.graph.by_name(n).id for n in names]
    win.scene.select_nodes(ids)
    return ids


def positions(win, ids):
    return [win.document.project.graph.node(i).position for i in ids]


def test_arrow_keys_nudge_the_selection_one_grid_step_and_shift_ten_each_one_undo_step(window) -> None:
    win = window("mnist_cnn")
    ids = select(win, "conv1", "pool1")
    (x1, y1), (x2, y2) = positions(win, ids)
    win.view.setFocus()
    QTest.keyClick(win.view, Qt.Key.Key_Right)
    assert positions(win, ids) == [(x1 + GRID, y1), (x2 + GRID, y2)]
    QTest.keyClick(win.view, Qt.Key.Key_Down, SHIFT)
    assert positions(win, ids) == [(x1 + GRID, y1 + 10 * GRID), (x2 + GRID, y2 + 10 * GRID)]
    QTest.keyClick(win.view, Qt.Key.Key_Left)
    QTest.keyClick(win.view, Qt.Key.Key_Up)
    assert positions(win, ids) == [(x1, y1 + 9 * GRID), (x2, y2 + 9 * GRID)]
    assert win.document.undo_stack.count() == 4 and win.document.undo_stack.text(0) == "Nudge 2 layers"
    item = win.scene.node_items[ids[0]]
    assert (item.pos().x(), item.pos().y()) == (x1, y1 + 9 * GRID)  # the canvas follows
    for _ in range(4):
        win.document.undo_stack.undo()
    assert positions(win, ids) == [(x1, y1), (x2, y2)]
    assert set(win.scene.selected_node_ids()) == set(ids)


def test_the_view_follows_a_layer_nudged_off_screen(window) -> None:
    # Seen on Xvfb: Shift+Down on a layer near the canvas's bottom edge moved it out of sight.
    win = window("mnist_cnn")
    [node_id] = select(win, "fc2")
    item = win.scene.node_items[node_id]
    win.view.reset_zoom()
    win.view.centerOn(item)
    win.view.setFocus()
    [(x, y)] = positions(win, [node_id])
    for _ in range(8):
        QTest.keyClick(win.view, Qt.Key.Key_Down, SHIFT)  # 800 units down: far past the bottom edge
        assert visible(win).contains(item.sceneBoundingRect()), "the nudged layer left the screen"
    assert positions(win, [node_id]) == [(x, y + 80 * GRID)]


def test_arrows_do_not_nudge_outside_the_canvas_or_without_a_selection(window) -> None:
    win = window("mnist_cnn")
    ids = select(win, "conv1")
    before = positions(win, ids)
    win.palette.search.setFocus()
    QTest.keyClicks(win.palette.search, "relu")
    QTest.keyClick(win.palette.search, Qt.Key.Key_Left)  # moves the text cursor
    QTest.keyClick(win.palette.search, Qt.Key.Key_Right, SHIFT)
    assert positions(win, ids) == before and win.document.undo_stack.count() == 0
    win.inspector.setFocus()
    QTest.keyClick(QApplication.focusWidget() or win, Qt.Key.Key_Down)
    assert positions(win, ids) == before and win.document.undo_stack.count() == 0
    win.scene.clearSelection()
    win.view.setFocus()
    bar = win.view.horizontalScrollBar()
    start = bar.value()
    QTest.keyClick(win.view, Qt.Key.Key_Right)  # nothing selected: the arrow scrolls, as in any view
    assert win.document.undo_stack.count() == 0
    assert bar.value() > start
    assert not any(a.isEnabled() for a in win.nudge.actions)
