"""The Summary dock: every layer's figures and the totals, as the engine counts them; a row and its
node selected together; live with edits (recomputed only when what the graph computes changes, and
only while shown); dead layers greyed and not counted; copies as Markdown and CSV."""

from __future__ import annotations

import pytest
import torch  # noqa: F401  (the app loads torch after its first paint; the summary waits for it)
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QFontMetrics, QGuiApplication, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from netbuilder import summarize
from netbuilder.model.edits import AddNode, Connect, Move, SetParams
from ui.docks import summary_dock as summary_module


def shown_summary(win):
    dock = win.summary_dock
    dock.show()
    dock.raise_()
    QTest.qWait(20)
    return dock


def cell(dock, node_name: str, column: str) -> str:
    from netbuilder.analysis.summary import COLUMNS

    row = next(r for r in range(dock.table.rowCount()) if dock.table.item(r, 0).text() == node_name)
    return dock.table.item(row, COLUMNS.index(column)).text()


def click_row(qtbot, dock, row: int) -> None:
    rect = dock.table.visualItemRect(dock.table.item(row, 1))
    qtbot.mouseClick(dock.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


@pytest.fixture
def counted(monkeypatch):
    """How often the dock computes a summary."""
    calls: list[int] = []
    real = summary_module.summarize

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(summary_module, "summarize", counting)
    return calls


def test_the_dock_shows_every_layer_and_the_totals_of_the_digits_cnn(window) -> None:
    win = window("mnist_cnn")
    dock = shown_summary(win)
    graph = win.document.project.graph
    assert [dock.table.item(r, 0).text() for r in range(dock.table.rowCount())] == \
        [graph.node(n).name for n in graph.topological_order()]
    assert (cell(dock, "conv2", "Output shape"), cell(dock, "conv2", "Parameters")) == ("[N, 64, 11, 11]", "18,496")
    assert cell(dock, "conv2", "Multiply-adds") == f"{11 * 11 * 64 * 32 * 9:,}"
    assert cell(dock, "conv1", "Activations") == "84.5 KiB"
    assert (cell(dock, "fc1", "Trainable"), cell(dock, "fc1", "Frozen")) == ("36,928", "0")
    totals = dock.totals.text()
    assert "Total parameters: 93,322 (trainable 93,322)" in totals
    assert "Multiply-adds per sample: 2,794,240 (2.79 M)" in totals
    assert "Model size: 0.36 MiB at fp32, 0.18 MiB at fp16" in totals


def test_no_column_cuts_its_text(window) -> None:
    dock = shown_summary(window("mnist_cnn"))
    table = dock.table
    metrics = QFontMetrics(table.font())
    for column in range(table.columnCount()):
        texts = [table.horizontalHeaderItem(column).text()] + [table.item(r, column).text()
                                                                for r in range(table.rowCount())]
        widest = max(metrics.horizontalAdvance(t) for t in texts)
        assert table.columnWidth(column) >= widest + 8, table.horizontalHeaderItem(column).text()


def test_clicking_a_row_selects_its_node_and_selecting_a_node_selects_its_row(window, qtbot) -> None:
    win = window("mnist_cnn")
    dock = shown_summary(win)
    graph = win.document.project.graph
    fc1 = graph.by_name("fc1").id
    click_row(qtbot, dock, dock.row_of(fc1))
    assert win.scene.selected_node_ids() == [fc1]
    assert win.inspector.node_id == fc1  # the inspector follows, as for a click on the canvas
    conv2 = graph.by_name("conv2").id
    win.scene.select_nodes([conv2])
    assert [i.row() for i in dock.table.selectionModel().selectedRows()] == [dock.row_of(conv2)]
    win.scene.clearSelection()
    assert dock.table.selectionModel().selectedRows() == []


def test_an_edit_updates_the_rows_and_totals_and_undo_brings_them_back(window) -> None:
    win = window("mnist_cnn")
    dock = shown_summary(win)
    fc1 = win.document.project.graph.by_name("fc1").id
    assert win.document.push(SetParams(fc1, {"out_features": 32}))
    assert cell(dock, "fc1", "Parameters") == f"{576 * 32 + 32:,}"
    assert cell(dock, "fc2", "Parameters") == f"{32 * 10 + 10:,}"
    assert f"Total parameters: {93_322 - 36_928 - 650 + 18_464 + 330:,}" in dock.totals.text()
    win.document.undo_stack.undo()
    assert cell(dock, "fc1", "Parameters") == "36,928"
    assert "Total parameters: 93,322" in dock.totals.text()


def test_a_move_or_a_repaint_does_not_recompute(window, counted) -> None:
    win = window("mnist_cnn")
    dock = shown_summary(win)
    counted.clear()
    conv1 = win.document.project.graph.by_name("conv1")
    x, y = conv1.position
    assert win.document.push(Move({conv1.id: (x + 40, y + 40)}))
    win.view.viewport().repaint()
    dock.repaint()
    assert counted == []
    assert win.document.push(SetParams(conv1.id, {"out_channels": 16}))
    assert len(counted) == 1 and cell(dock, "conv1", "Parameters") == f"{16 * 9 + 16:,}"


def test_a_hidden_summary_waits_until_it_is_shown(window, counted) -> None:
    win = window("mnist_cnn")
    dock = shown_summary(win)
    win.problems.raise_()  # the Summary tab goes behind the Problems tab
    QTest.qWait(20)
    counted.clear()
    fc1 = win.document.project.graph.by_name("fc1").id
    for width in (10, 20, 30):
        assert win.document.push(SetParams(fc1, {"out_features": width}))
    assert counted == []
    dock.raise_()
    QTest.qWait(20)
    assert len(counted) == 1 and cell(dock, "fc1", "Parameters") == f"{576 * 30 + 30:,}"


def test_a_layer_reaching_no_output_is_greyed_and_not_counted(window) -> None:
    win = window("mnist_cnn")
    dock = shown_summary(win)
    doc = win.document
    graph = doc.project.graph
    dangling = graph.make_node("Linear", "dangling", {"out_features": 1000})
    assert doc.push(AddNode(dangling))
    assert doc.push(Connect(graph.by_name("flatten").id, "out", dangling.id, "in"))
    row = dock.row_of(dangling.id)
    item = dock.table.item(row, 3)
    assert item.text() == "577,000"
    grey = dock.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
    assert item.foreground().color() == grey and item.font().italic()
    assert item.toolTip().startswith("Reaches no Output")
    live = dock.table.item(dock.row_of(graph.by_name("fc1").id), 3)
    assert live.foreground().color() != grey and not live.font().italic()
    totals = dock.totals.text()
    assert "Total parameters: 93,322 (trainable 93,322)" in totals
    assert "Not counted: 577,000 parameters in 1 layer(s) that reach no Output" in totals


def test_copies_are_the_engines_markdown_and_csv(window, tmp_path) -> None:
    win = window("mnist_cnn")
    dock = shown_summary(win)
    expected = summarize(win.document.project.graph)
    clipboard = QGuiApplication.clipboard()
    dock.copy_markdown_action.trigger()
    assert clipboard.text() == expected.to_markdown("Digits CNN")
    assert clipboard.text().splitlines()[2].startswith("| Layer | Kind | Output shape | Parameters |")
    dock.copy_csv_action.trigger()
    assert clipboard.text() == expected.to_csv()
    assert dock.save_csv(tmp_path / "summary.csv")
    assert (tmp_path / "summary.csv").read_text(encoding="utf-8") == expected.to_csv()
    assert not dock.save_csv(tmp_path / "no such folder" / "summary.csv")


def test_copying_while_the_dock_is_hidden_copies_the_current_graph(window) -> None:
    win = window("mnist_cnn")
    win.summary_dock.hide()
    fc1 = win.document.project.graph.by_name("fc1").id
    assert win.document.push(SetParams(fc1, {"out_features": 8}))
    win.summary_dock.copy_csv_action.trigger()
    assert "fc1,Linear,\"[N, 8]\",4616," in QGuiApplication.clipboard().text()


def _menu_actions(menu: QMenu) -> list:
    found = []
    for action in menu.actions():
        found += _menu_actions(action.menu()) if action.menu() is not None else [action]
    return found


def test_the_context_menu_holds_the_main_menus_actions(window, qtbot) -> None:
    win = window("mnist_cnn")
    dock = shown_summary(win)
    in_menus = [a for top in win.menuBar().actions() for a in _menu_actions(top.menu())]
    seen: list[list[str]] = []

    def read_and_close() -> None:
        menu = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMenu) and w.isVisible())
        seen.append([a.text() for a in menu.actions()])
        assert all(a in in_menus for a in menu.actions())
        menu.close()

    QTimer.singleShot(50, read_and_close)
    dock.table.customContextMenuRequested.emit(QPoint(10, 10))
    assert seen == [["Copy Summary as &Markdown", "Copy Summary as &CSV", "Save Summary as CSV…"]]
    assert dock.copy_markdown_action in _menu_actions(win.edit_menu)
    assert win.dock_actions[dock] in in_menus


def test_opening_another_project_shows_its_summary(window) -> None:
    win = window("mnist_cnn")
    dock = shown_summary(win)
    win.open_example("linear_regression")
    assert [dock.table.item(r, 0).text() for r in range(dock.table.rowCount())] == ["x", "linear", "y"]
    assert "Total parameters: 2 (trainable 2)" in dock.totals.text()
    assert "Model size: 8 B at fp32, 4 B at fp16" in dock.totals.text()


def test_before_torch_has_loaded_the_dock_says_so_and_fills_once_it_is_in(window, monkeypatch, counted) -> None:
    monkeypatch.setattr(summary_module, "torch_loaded", lambda: False)
    win = window("linear_regression")
    dock = shown_summary(win)
    assert dock.table.rowCount() == 0 and counted == []
    assert dock.totals.text() == "The summary appears once torch has loaded."
    monkeypatch.setattr(summary_module, "torch_loaded", lambda: True)
    win.engine_ready()
    assert dock.table.rowCount() == 3 and "Total parameters: 2" in dock.totals.text()


def test_floated_out_from_behind_a_tab_it_fills(window) -> None:
    win = window("linear_regression")
    win.problems.raise_()  # the Summary tab is behind, never shown yet
    QTest.qWait(20)
    assert win.summary_dock.table.rowCount() == 0
    win.summary_dock.setFloating(True)
    QTest.qWait(20)
    assert win.summary_dock.table.rowCount() == 3


def test_on_a_graph_slow_to_summarise_a_burst_of_edits_recomputes_once_they_settle(window, counted, monkeypatch,
                                                                                  qtbot) -> None:
    """A summary that is slow to make (hundreds of layers: 230 ms a refresh at 1,000) must not make every edit
    wait for it: the edits go through at once and the table catches up, once, after the last."""
    import ui.docks.summary_dock as summary_dock

    win = window("mnist_cnn")
    dock = shown_summary(win)
    monkeypatch.setattr(summary_dock, "SLOW_REFRESH_S", 0.0)  # any refresh counts as slow
    fc1 = win.document.project.graph.by_name("fc1").id
    assert win.document.push(SetParams(fc1, {"out_features": 40}))  # measured slow: the next ones wait
    counted.clear()
    for width in (10, 20, 30):
        assert win.document.push(SetParams(fc1, {"out_features": width}))
    assert counted == []  # nothing computed while the edits came
    qtbot.waitUntil(lambda: cell(dock, "fc1", "Parameters") == f"{576 * 30 + 30:,}",
                    timeout=summary_dock.SETTLE_MS + 2000)
    assert len(counted) == 1
