"""Docks keep the size the user gives them: the bottom area makes room for a chart once, the Inspector
does not widen for a layer with wide editors."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt


def settle(qtbot) -> None:
    qtbot.wait(50)


def bottom_height(win) -> int:
    """The bottom docks' height, as the user sees it: the one in front (a tab behind keeps a stale one)."""
    return win.bottom.area_height()


def bottom_docks(win) -> list:
    return [win.problems, win.run_dock, win.results_dock, win.runs_dock, win.summary_dock]


def test_the_bottom_docks_grow_once_for_the_first_chart_and_then_keep_the_users_size(window, qtbot) -> None:
    # Seen on Xvfb: a click on the Summary tab grew the bottom docks to 45 % of the window (a table scrolls: it
    # needs no room), and Train did the same; the canvas shrank and Frame All zoomed out to 8 px text.
    from ui.fitting_scroll import fitting_height

    win = window("mnist_cnn")
    settle(qtbot)
    small = bottom_height(win)
    win.summary_dock.show()
    win.summary_dock.raise_()
    settle(qtbot)
    assert abs(bottom_height(win) - small) <= 12, "the Summary tab pushed the canvas up"
    win._run_state_changed("starting")  # the first chart
    settle(qtbot)
    grown = bottom_height(win)
    assert grown > small + 50
    assert grown <= 0.45 * win.height() and grown >= min(fitting_height(win.run_dock), 0.45 * win.height()) - 4
    scroll = win.run_dock.widget()
    qtbot.waitUntil(lambda: not scroll.verticalScrollBar().isVisible(), timeout=2000)  # the chart shows whole
    # The user drags the splitter back down; the next run and the next Summary leave it there.
    win.resizeDocks([win.run_dock], [160], Qt.Orientation.Vertical)
    settle(qtbot)
    dragged = bottom_height(win)
    assert dragged < grown - 50
    win._run_state_changed("starting")
    settle(qtbot)
    assert abs(bottom_height(win) - dragged) <= 4
    win.summary_dock.raise_()
    settle(qtbot)
    assert abs(bottom_height(win) - dragged) <= 4


@pytest.mark.parametrize("front", ["problems", "run_dock", "results_dock", "runs_dock", "summary_dock"])
def test_the_user_can_drag_the_bottom_docks_down_to_a_few_lines_whichever_tab_is_in_front(window, qtbot,
                                                                                          front) -> None:
    # Seen on Xvfb: after the Summary had been in front (its table, four lines of totals and its buttons), the
    # splitter stopped at ~190 px; a tabbed dock area is as tall as its tallest tab's minimum.
    import torch  # noqa: F401  (the app loads it after the first paint; the Summary fills once it is in)

    from ui.fitting_scroll import FittingScroll

    win = window("mnist_cnn")
    win.engine_ready()  # the Summary's table and totals are filled
    for dock in bottom_docks(win):  # each tab has been in front once, with its contents
        dock.show()
        dock.raise_()
        settle(qtbot)
    dock = getattr(win, front)
    dock.raise_()
    win.resizeDocks([dock], [20], Qt.Orientation.Vertical)  # the user drags the splitter right down
    settle(qtbot)
    lines = win.fontMetrics().lineSpacing()
    assert bottom_height(win) <= 7 * lines, f"the bottom docks stop at {bottom_height(win)} px with {front} in front"
    body = dock.widget()
    if isinstance(body, FittingScroll) and body.widget().height() > body.viewport().height():
        assert body.verticalScrollBar().isVisible()  # what does not fit scrolls, nothing is cut off


def whole(widget, within) -> bool:
    """``widget`` shows whole inside ``within``'s visible part."""
    from PySide6.QtCore import QPoint, QRect

    top_left = widget.mapTo(within, QPoint(0, 0))
    return QRect(QPoint(0, 0), within.size()).contains(QRect(top_left, widget.size()))


def test_in_a_low_bottom_dock_only_the_summarys_table_scrolls(window, qtbot) -> None:
    # Seen on Xvfb: at the bottom docks' first height the Summary showed two scrollbars, its own and the
    # table's, with three table rows and its totals half cut off; the totals now stand beside the table.
    import torch  # noqa: F401

    win = window("mnist_cnn")
    win.resize(1400, 860)
    dock = win.summary_dock
    dock.show()
    dock.raise_()
    settle(qtbot)
    assert bottom_height(win) <= 150  # the first height, as a new window has it
    win.engine_ready()
    totals = dock.totals
    qtbot.waitUntil(lambda: "Model size" in totals.text())
    qtbot.wait(100)
    scroll = dock.widget()
    assert not scroll.verticalScrollBar().isVisible() and not scroll.horizontalScrollBar().isVisible()
    assert whole(totals, scroll.viewport()) and all(whole(b, scroll.viewport()) for b in dock.buttons)
    assert totals.height() >= totals.sizeHint().height() - 2, "a line of the totals is cut off"
    assert totals.x() >= dock.table.geometry().right(), "the totals are not beside the table"
    table = dock.table
    assert table.viewport().height() >= 3 * table.rowHeight(0), "the table shows fewer than three rows"
    assert table.verticalScrollBar().isVisible()  # its 13 rows scroll, in the table
    columns = sum(table.columnWidth(c) for c in range(table.columnCount()))
    assert table.viewport().width() >= columns, "a column of the table is cut off"


def test_in_a_narrow_dock_the_summarys_totals_go_under_the_table(window, qtbot) -> None:
    import torch  # noqa: F401

    win = window("mnist_cnn")
    dock = win.summary_dock
    dock.show()
    dock.setFloating(True)
    win.engine_ready()
    dock.resize(460, 420)
    qtbot.waitUntil(lambda: "Model size" in dock.totals.text())
    qtbot.wait(100)
    scroll, totals = dock.widget(), dock.totals
    assert totals.y() >= dock.table.geometry().bottom(), "the totals are not under the table"
    assert not scroll.verticalScrollBar().isVisible()
    assert whole(totals, scroll.viewport()) and all(whole(b, scroll.viewport()) for b in dock.buttons)
    assert totals.height() >= totals.heightForWidth(totals.width()) - 2, "a line of the totals is cut off"
    assert dock.table.height() > 0.5 * scroll.viewport().height(), "the table does not take the room left"
    dock.resize(460, 150)  # lower than the totals and the buttons need under a table: the dock scrolls
    qtbot.wait(100)
    assert scroll.verticalScrollBar().isVisible()


def test_selecting_a_layer_with_wide_editors_does_not_widen_the_inspector(window, qtbot) -> None:
    win = window("mnist_cnn")
    settle(qtbot)
    graph = win.document.project.graph
    widths = set()
    for node in graph:
        win.scene.select_nodes([node.id])
        settle(qtbot)
        widths.add(win.inspector.width())
    win.scene.select_nodes([])
    settle(qtbot)
    widths.add(win.inspector.width())
    assert len(widths) == 1, f"the Inspector's width changed with the selection: {sorted(widths)}"


def test_the_inspector_reads_in_full_without_scrolling_sideways(window, qtbot) -> None:
    # Seen on Xvfb: a layer reaching no Output said "Parameters 0 (not in the model: it reaches no…" past the
    # dock's edge, its problem text too, over a horizontal scrollbar.
    from netbuilder.model.edits import AddNode

    win = window("mnist_cnn")
    graph = win.document.project.graph
    stray = graph.make_node("Conv2d", params={"out_channels": 8, "kernel_size": 3}, position=(2000, 2000))
    win.document.push(AddNode(stray))
    win.scene.select_nodes([stray.id])
    settle(qtbot)
    scroll = win.inspector.widget()
    assert not scroll.horizontalScrollBar().isVisible()
    assert scroll.widget().width() <= scroll.viewport().width()


def test_view_menu_brings_a_dock_behind_a_tab_to_the_front(window, qtbot) -> None:
    # Seen on Xvfb: with the Runs tab in front, View ▸ Summary closed the Summary (Qt's toggle action is
    # checked for a dock behind a tab), and choosing it again put it back behind Runs.
    from ui.dock_actions import in_front

    win = window("mnist_cnn")
    win.runs_dock.show()
    win.runs_dock.raise_()
    settle(qtbot)
    summary, action = win.summary_dock, win.dock_actions[win.summary_dock]
    assert not in_front(summary)
    action.trigger()
    settle(qtbot)
    assert in_front(summary) and action.isChecked()
    action.trigger()  # in front: the entry closes it
    settle(qtbot)
    assert summary.isHidden() and not action.isChecked()
    action.trigger()
    settle(qtbot)
    assert in_front(summary) and action.isChecked()


def test_a_bottom_dock_the_user_resized_first_does_not_jump_for_the_first_chart(window, qtbot) -> None:
    # Seen on Xvfb: the splitter dragged down to ~20 %, then the first click on the Summary tab: ~45 %.
    win = window("mnist_cnn")
    settle(qtbot)
    front = next(d for d in (win.problems, win.run_dock, win.results_dock, win.runs_dock, win.summary_dock)
                 if d.isVisible() and not d.visibleRegion().isEmpty())
    win.resizeDocks([front], [bottom_height(win) + 80], Qt.Orientation.Vertical)  # the user's drag
    settle(qtbot)
    dragged = bottom_height(win)
    win.summary_dock.show()
    win.summary_dock.raise_()
    settle(qtbot)
    assert abs(bottom_height(win) - dragged) <= 12  # the tabs' heights differ by a few pixels; a jump is ~200


def test_a_view_menu_entry_deleted_before_its_dock_does_not_raise_when_the_title_changes(qtbot, monkeypatch) -> None:
    # Seen closing a window on a 10,000-node graph: the Problems dock's title changed while the window was being
    # torn down, after its View menu entry was deleted, and each change printed "Internal C++ object
    # (PySide6.QtGui.QAction) already deleted" from a lambda that outlived the entry.
    import sys

    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication, QDockWidget, QWidget

    from ui.dock_actions import dock_view_action

    raised: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda _type, value, _tb: raised.append(value))
    dock, menu_owner = QDockWidget("Problems"), QWidget()
    qtbot.addWidget(dock)
    action = dock_view_action(dock, menu_owner)
    dock.setWindowTitle("Problems (1 error)")
    assert action.text() == "Problems (1 error)"
    menu_owner.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    dock.setWindowTitle("Problems (2 errors)")
    assert raised == []

