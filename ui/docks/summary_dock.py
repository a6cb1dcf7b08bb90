"""The summary dock: every layer's output shape, parameters (trainable / frozen), multiply-adds and
activation memory per sample, with the totals and the model's size, like torchinfo; copied as
Markdown or CSV. A row and its node are selected together.

The figures are the engine's (:func:`netbuilder.analysis.summary.summarize`); the dock recomputes
them when what the graph computes changes (not on a move, not on a paint) and only while it is
shown, and only once torch is in (start-up loads it after the first paint).
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from netbuilder.analysis.summary import COLUMNS, Summary, summarize
from netbuilder.errors import NetbuilderError
from netbuilder.files.atomic import write_atomic
from netbuilder.model.fingerprint import graph_fingerprint
from ui.docks.summary_body import SummaryBody
from ui.document import Document
from ui.files.file_dialogs import save_file
from ui.fitting_scroll import FittingScroll
from ui.startup import torch_loaded

NUMERIC = frozenset(range(3, len(COLUMNS)))
COLUMN_PADDING = 16  # pixels beyond each column's widest text
# A summary that took longer than this to compute and fill (a graph of hundreds of layers) is refreshed once
# the edits settle, SETTLE_MS after the last, so an edit on the canvas never waits for the table.
SLOW_REFRESH_S = 0.02
SETTLE_MS = 250
DEAD_TIP = "Reaches no Output: not in the compiled model, not counted in the totals"
HEADER_TIPS = {
    "Output shape": "The shape of one batch; N is the batch size",
    "Parameters": "Weights and biases, as the compiled torch module holds them",
    "Trainable": "Parameters the optimizer updates (requires_grad)",
    "Frozen": "Parameters kept fixed (requires_grad False)",
    "Multiply-adds": "Per sample: the multiply-accumulates of matrix products and convolutions (biases not "
                     "counted); 2 per value for BatchNorm and LayerNorm; 0 for max pooling and activations",
    "Activations": "Per sample: the bytes of the layer's output (values × bytes of the dtype)",
}


def summary_key(graph) -> str:
    """What the summary is computed from: the graph's kinds, names, params and wires (not positions), and which
    layers are frozen (their weights count as frozen)."""
    return graph_fingerprint(graph) + "|" + ",".join(n.id for n in graph if n.frozen)


class SummaryDock(QDockWidget):
    """The model's summary table. ``node_clicked`` asks the window to select a node; ``message``
    goes to the status bar (text, milliseconds)."""

    node_clicked = Signal(str)
    message = Signal(str, int)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__("Summary", parent)
        self.setObjectName("SummaryDock")  # saveState remembers where the user put it
        self.summary: Summary | None = None
        self._key: str | None = None  # what the shown summary was computed from
        self._selected: list[str] = []
        self._syncing = False
        self._cost_s = 0.0  # what the last refresh took
        self._fitted: list[int] = []  # each column's longest text when the columns were last fitted
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._refresh_now)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        for column, name in enumerate(COLUMNS):
            header_item = self.table.horizontalHeaderItem(column)
            header_item.setToolTip(HEADER_TIPS.get(name, ""))
            side = Qt.AlignmentFlag.AlignRight if column in NUMERIC else Qt.AlignmentFlag.AlignLeft
            header_item.setTextAlignment(side | Qt.AlignmentFlag.AlignVCenter)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)  # a stretched last column would push its figures far from the rest
        rows = self.table.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)  # a compact list, like the Runs dock
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.itemSelectionChanged.connect(self._row_selected)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._menu)
        self.totals = QLabel()
        self.totals.setWordWrap(True)
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # The window's Edit and File ▸ Export menus hold these same actions.
        self.copy_markdown_action = QAction("Copy Summary as &Markdown", self)
        self.copy_markdown_action.setStatusTip("The table and its totals as a Markdown table, for a README or an issue")
        self.copy_markdown_action.triggered.connect(self.copy_markdown)
        self.copy_csv_action = QAction("Copy Summary as &CSV", self)
        self.copy_csv_action.setStatusTip("One line per layer with plain numbers, for a spreadsheet")
        self.copy_csv_action.triggered.connect(self.copy_csv)
        self.save_csv_action = QAction("Save Summary as CSV…", self)
        self.save_csv_action.setStatusTip("Save the summary table as a CSV file")
        self.save_csv_action.triggered.connect(self.save_csv_dialog)
        self.buttons = []
        for text, action in (("Copy Markdown", self.copy_markdown_action), ("Copy CSV", self.copy_csv_action),
                             ("Save as CSV…", self.save_csv_action)):
            button = QPushButton(text)
            button.setToolTip(action.statusTip())
            button.clicked.connect(action.trigger)
            self.buttons.append(button)
        self.body = SummaryBody(self.table, self.totals, self.buttons)
        self.setWidget(FittingScroll(self.body))  # a dock lower than its least height scrolls, never stops the splitter
        self._shown = False  # a dock behind another tab still says isVisible(); this signal says what shows
        self.visibilityChanged.connect(self._visibility_changed)
        # Floated out from behind another tab, it shows without a visibilityChanged.
        self.topLevelChanged.connect(lambda floating: floating and self._visibility_changed(self.isVisible()))
        self.document: Document | None = None
        self.set_document(document)

    # ---- following the document --------------------------------------------------------------
    def set_document(self, document: Document) -> None:
        if self.document is not None:
            self.document.changed.disconnect(self.refresh)
        self.document = document
        self._key = None
        self._selected = []
        document.changed.connect(self.refresh)
        self.refresh()

    def engine_ready(self) -> None:
        """Torch has loaded (after the first paint): the figures can be computed now."""
        self._refresh_now()

    def _visibility_changed(self, shown: bool) -> None:
        self._shown = shown
        if shown:
            self._refresh_now()

    def refresh(self) -> None:
        """Recompute, if the dock is shown and the graph computes something else than last time: now, or, for a
        graph whose summary is slow to make, once the edits settle (one recompute for a burst of edits)."""
        if self._shown and self._cost_s > SLOW_REFRESH_S:
            self._settle.start()
            return
        self._refresh_now()

    def _refresh_now(self) -> None:
        self._settle.stop()
        if not self._shown:
            return  # hidden, or behind another tab: computed when it is shown
        if not torch_loaded():
            self.totals.setText("The summary appears once torch has loaded.")
            return
        graph = self.document.project.graph
        key = summary_key(graph)
        if key == self._key:
            return
        self._key = key
        start = time.perf_counter()
        self.summary = summarize(graph, self.document.inference)
        self._fill(self.summary)
        self._cost_s = time.perf_counter() - start

    def _fill(self, summary: Summary) -> None:
        self._syncing = True
        cells = [row.cells() for row in summary.rows]
        widest = [max((len(line[c]) for line in cells), default=0) for c in range(len(COLUMNS))]
        # Fitting the columns reads every cell's width (more than the fill costs on a big graph): only when a
        # column's longest text grew or the rows are others.
        resize = self.table.rowCount() != len(summary.rows) or any(w > f for w, f in zip(widest, self._fitted,
                                                                                          strict=False)) \
            or not self._fitted
        self.table.setRowCount(len(summary.rows))
        dead_colour = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        for r, row in enumerate(summary.rows):
            for column, text in enumerate(cells[r]):
                item = QTableWidgetItem(text)
                if column in NUMERIC:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if column == 0:
                    item.setData(Qt.ItemDataRole.UserRole, row.node_id)
                if not row.compiled:
                    item.setForeground(dead_colour)
                    font = item.font()
                    font.setItalic(True)
                    item.setFont(font)
                    item.setToolTip(DEAD_TIP)
                self.table.setItem(r, column, item)
        self._syncing = False
        if resize:
            self._fitted = widest
            self.table.resizeColumnsToContents()  # no cut-off figure; then some air, and the user may resize
            for column in range(len(COLUMNS)):
                self.table.setColumnWidth(column, self.table.columnWidth(column) + COLUMN_PADDING)
        self.totals.setText("\n".join(summary.totals()))
        self.body.arrange()  # the columns' and the totals' widths decide whether they fit side by side
        self.select_nodes(self._selected)

    # ---- selection, both ways -------------------------------------------------------------
    def node_at(self, row: int) -> str | None:
        item = self.table.item(row, 0)
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def row_of(self, node_id: str) -> int | None:
        return next((r for r in range(self.table.rowCount()) if self.node_at(r) == node_id), None)

    def select_nodes(self, node_ids: list[str]) -> None:
        """Select the rows of the nodes selected on the canvas (none: no row)."""
        self._selected = list(node_ids)
        self._syncing = True
        try:
            self.table.clearSelection()
            model, selection = self.table.selectionModel(), self.table.selectionModel().selection()
            for node_id in node_ids:
                row = self.row_of(node_id)
                if row is not None:
                    index = self.table.model().index(row, 0)
                    selection.select(index, self.table.model().index(row, len(COLUMNS) - 1))
            model.select(selection, model.SelectionFlag.ClearAndSelect)
            if node_ids and (row := self.row_of(node_ids[0])) is not None:
                # The keyboard's place follows (arrow keys go on from the selected row, not from the top).
                model.setCurrentIndex(self.table.model().index(row, 0), model.SelectionFlag.NoUpdate)
                self.table.scrollToItem(self.table.item(row, 0))
        finally:
            self._syncing = False

    def _row_selected(self) -> None:
        if self._syncing:
            return
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        if len(rows) == 1 and (node_id := self.node_at(rows.pop())) is not None:
            self.node_clicked.emit(node_id)

    # ---- copies ----------------------------------------------------------------------------
    def _current(self) -> Summary | None:
        self.refresh()
        if self.summary is None or self._key != summary_key(self.document.project.graph):
            # Hidden since the last edit, or torch not in yet: computed now, for the copy alone.
            if not torch_loaded():
                self.message.emit("The summary is not ready: torch is still loading", 4000)
                return None
            return summarize(self.document.project.graph, self.document.inference)
        return self.summary

    def markdown(self) -> str | None:
        summary = self._current()
        return summary.to_markdown(self.document.project.name) if summary is not None else None

    def csv(self) -> str | None:
        summary = self._current()
        return summary.to_csv() if summary is not None else None

    def copy_markdown(self) -> None:
        if (text := self.markdown()) is not None:
            QGuiApplication.clipboard().setText(text)
            self.message.emit("Copied the summary as a Markdown table", 4000)

    def copy_csv(self) -> None:
        if (text := self.csv()) is not None:
            QGuiApplication.clipboard().setText(text)
            self.message.emit("Copied the summary as CSV", 4000)

    def save_csv(self, path: str | Path) -> bool:
        """Write the summary as CSV to ``path`` (atomically); the status bar says what happened."""
        if (text := self.csv()) is None:
            return False
        try:
            write_atomic(Path(path), text.encode("utf-8"))
        except (OSError, NetbuilderError) as exc:
            self.message.emit(f"Cannot save {path}: {getattr(exc, 'strerror', None) or exc}", 8000)
            return False
        self.message.emit(f"Saved {path}", 5000)
        return True

    def save_csv_dialog(self) -> None:
        name = f"{self.document.project.name}-summary.csv"
        path = save_file(self, "Save the summary as CSV", "csv", name, "CSV files (*.csv)", self.document.project.path)
        if path:
            self.save_csv(path)

    def _menu(self, position) -> None:
        menu = QMenu(self)
        for action in (self.copy_markdown_action, self.copy_csv_action, self.save_csv_action):
            menu.addAction(action)
        menu.exec(self.table.viewport().mapToGlobal(position))
