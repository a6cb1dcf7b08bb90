"""The Runs dock: every run of the project, from its history database, and what can be done with one.

Each row: the run (its name, or its number), when it started, its status (completed, stopped,
early-stopped, failed, interrupted), how long it took, its best monitored value, and the settings
that differ from the run before it. The box in front shows or hides the run on the Run dock's
chart (old runs are drawn from the history). A run can be renamed, noted or deleted; two selected
runs' settings compared; its results shown; its best or last weights loaded into the project or
exported; a stopped run resumed; or the project trained again with its settings.

The history, the run folders and the checkpoints are the engine's (:mod:`netbuilder.training.history`,
:mod:`netbuilder.training.run_results`); this dock only lists and asks.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from netbuilder.errors import NetbuilderError
from netbuilder.training.history import RunHistory, RunRecord, settings_diff
from ui.files.file_dialogs import save_file
from ui.fitting_scroll import FittingScroll
from ui.training.run_words import best_text, checkpoint_words, run_label

COLUMNS = ("Run", "Started", "Status", "Duration", "Best", "Changed from the run before")
STATUS_WORDS = {"completed": "completed", "stopped": "stopped", "early_stopped": "early-stopped", "failed": "failed",
                "interrupted": "interrupted", "running": "running"}


def run_folder(runs_folder: Path, run_id: int) -> Path:
    from netbuilder.training.run import run_folder as folder  # torch: imported when first needed

    return folder(runs_folder, run_id)


def duration_text(record: RunRecord) -> str:
    if record.finished is None:
        return "—"
    seconds = max(0.0, record.finished - record.started)
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds // 60)} min {int(seconds % 60)} s"


def changed_text(record: RunRecord, previous: RunRecord | None) -> str:
    if previous is None:
        return "(first run)"
    diff = settings_diff(previous.settings, record.settings)
    if previous.data != record.data:
        diff.append(("data", previous.data.get("dataset"), record.data.get("dataset")))
    return ", ".join(f"{k} {old} → {new}" for k, old, new in diff) or "same settings"


class RunsDock(QDockWidget):
    """The project's runs. Signals carry what the window does with a run."""

    show_results = Signal(Path, str)  # run folder, "best" | "last"
    train_requested = Signal()  # train the project now (after its settings were set, or to resume)
    message = Signal(str, int)

    def __init__(self, controller: Any, chart: Any, document: Any, parent: QWidget | None = None) -> None:
        super().__init__("Runs", parent)
        self.setObjectName("RunsDock")
        self.controller = controller
        self.chart = chart
        self._document = document  # a callable: the window's current document
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 4, 6, 4)
        self.where = QLabel()
        self.where.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.itemDoubleClicked.connect(lambda item, _c: self._results(self._record(item), "best"))
        buttons = QHBoxLayout()
        self.compare_button = QPushButton("Compare settings")
        self.compare_button.setToolTip("Select two runs to see the settings that differ")
        self.compare_button.clicked.connect(self.compare_selected)
        self.results_button = QPushButton("Show results")
        self.results_button.clicked.connect(lambda: self._results(self.selected_one(), "best"))
        self.load_button = QPushButton("Load weights into project")
        self.load_button.setToolTip("Use this run's best weights as the project's own (exports then carry them)")
        self.load_button.clicked.connect(lambda: self.load_weights(self.selected_one(), "best"))
        for b in (self.results_button, self.load_button, self.compare_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addWidget(self.where)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self.setWidget(FittingScroll(body))  # a low dock scrolls, never stops the splitter
        self.records: list[RunRecord] = []
        self.comparison = ""
        self.run_actions = self._make_run_actions()
        self.tree.itemSelectionChanged.connect(self._update_run_actions)
        controller.ended.connect(lambda _e: self.refresh())
        controller.state_changed.connect(lambda _s: self.refresh())

    # ---- the list --------------------------------------------------------------------------------
    def folder(self) -> Path:
        from ui.training.controller import runs_folder_for

        return runs_folder_for(self._document().project)

    def history(self) -> RunHistory | None:
        path = self.folder() / "history.sqlite"
        return RunHistory(path) if path.is_file() else None

    def refresh(self) -> None:
        history = self.history()
        self.records = history.runs() if history is not None else []
        if history is not None:
            history.close()
        self.where.setText(f"{len(self.records)} runs in {self.folder()}" if self.records
                           else "No runs yet: press Train (F5). Every run is kept here, with its settings and weights.")
        self.tree.blockSignals(True)
        self.tree.clear()
        previous = None
        for record in self.records:
            item = QTreeWidgetItem([run_label(record), time.strftime("%Y-%m-%d %H:%M", time.localtime(record.started)),
                                    STATUS_WORDS.get(record.status, record.status), duration_text(record),
                                    best_text(record), changed_text(record, previous)])
            item.setData(0, Qt.ItemDataRole.UserRole, record.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            shown = record.id in self.chart.runs() and self.chart.is_run_visible(record.id)
            item.setCheckState(0, Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)
            tip = "Tick to draw this run on the Run dock's chart"
            item.setToolTip(0, tip + (f"\n{record.note}" if record.note else ""))
            if record.message:
                item.setToolTip(2, record.message)
            self.tree.addTopLevelItem(item)
            previous = record
        self.tree.blockSignals(False)
        for c in range(len(COLUMNS) - 1):
            self.tree.resizeColumnToContents(c)

    def _record(self, item: QTreeWidgetItem | None) -> RunRecord | None:
        if item is None:
            return None
        run_id = item.data(0, Qt.ItemDataRole.UserRole)
        return next((r for r in self.records if r.id == run_id), None)

    def selected(self) -> list[RunRecord]:
        return [r for r in (self._record(i) for i in self.tree.selectedItems()) if r is not None]

    def selected_one(self) -> RunRecord | None:
        chosen = self.selected()
        return chosen[0] if chosen else None

    def item_of(self, run_id: int) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == run_id:
                return item
        return None

    # ---- overlay on the chart ----------------------------------------------------------------------
    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        record = self._record(item)
        if record is not None and column == 0:
            self.set_overlay(record.id, item.checkState(0) == Qt.CheckState.Checked)

    def set_overlay(self, run_id: int, shown: bool) -> None:
        """Draw run ``run_id`` on the chart (from the history when it is not there yet), or hide it."""
        if shown and run_id not in self.chart.runs():
            record = next((r for r in self.records if r.id == run_id), None)
            history = self.history()
            if history is None or record is None:
                return
            series = history.series(run_id)
            history.close()
            self.chart.add_run(run_id, run_label(record), live=False)
            if series.steps:
                per_epoch = max(1, max(series.step_epochs.count(e) for e in set(series.step_epochs)))
                epochs = [(s + 1) / per_epoch for s in series.steps]
                self.chart.append_steps(run_id, series.steps[0], series.losses, epochs,
                                        series.epochs[-1][3] if series.epochs else 0.0)
            for epoch, metrics, lr, elapsed in series.epochs:
                self.chart.append_epoch(run_id, epoch, metrics.get("train") or {}, metrics.get("val"),
                                        lr if lr is not None else float("nan"), elapsed or 0.0)
        elif run_id in self.chart.runs():
            self.chart.set_run_visible(run_id, shown)
        item = self.item_of(run_id)
        if item is not None:
            self.tree.blockSignals(True)
            item.setCheckState(0, Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)
            self.tree.blockSignals(False)

    # ---- actions ----------------------------------------------------------------------------------
    def _make_run_actions(self) -> list[QAction | None]:
        """What can be done to a run: one set of actions, in the dock's right-click menu and in Run ▸ Selected
        Run (each acts on the run selected in the list; None marks a separator)."""
        def act(text: str, fn, tip: str = "") -> QAction:
            action = QAction(text, self)
            action.setToolTip(tip or text.rstrip("…"))
            action.triggered.connect(lambda: (record := self.selected_one()) is not None and fn(record))
            return action

        self.resume_action = act("Resume This Run", self.resume, "Go on training from the run's last weights")
        self.compare_action = QAction("Compare Settings of the Two Selected", self)
        self.compare_action.triggered.connect(self.compare_selected)
        return [
            act("Show Results with Best Weights", lambda r: self._results(r, "best")),
            act("Show Results with Last Weights", lambda r: self._results(r, "last")),
            None,
            act("Load Best Weights into the Project", lambda r: self.load_weights(r, "best")),
            act("Load Last Weights into the Project", lambda r: self.load_weights(r, "last")),
            act("Export These Weights to ONNX…", self.export_onnx),
            None,
            self.resume_action,
            act("Train Again with These Settings", self.train_again),
            None,
            act("Rename Run…", self.rename),
            act("Note on Run…", self.note),
            self.compare_action,
            act("Delete Run…", self.delete),
        ]

    def _update_run_actions(self) -> None:
        record = self.selected_one()
        for action in self.run_actions:
            if action is not None:
                action.setEnabled(record is not None)
        resumable = record is not None and record.status in ("stopped", "interrupted") and \
            (run_folder(self.folder(), record.id) / "last.safetensors").is_file()
        self.resume_action.setEnabled(resumable)
        self.compare_action.setEnabled(len(self.selected()) == 2)

    def fill_menu(self, menu: QMenu) -> None:
        """Put the run actions into ``menu`` (the window's Run ▸ Selected Run)."""
        menu.aboutToShow.connect(self._update_run_actions)
        for action in self.run_actions:
            menu.addSeparator() if action is None else menu.addAction(action)

    def run_menu(self, item: QTreeWidgetItem | None) -> QMenu | None:
        """The right-click menu of the run in ``item`` (it becomes the selected one, unless it already is
        among the selected); None off the rows."""
        if self._record(item) is None:
            return None
        if not item.isSelected():
            self.tree.setCurrentItem(item)
        menu = QMenu(self)
        self.fill_menu(menu)
        self._update_run_actions()
        return menu

    def _menu(self, pos) -> None:
        menu = self.run_menu(self.tree.itemAt(pos))
        if menu is not None:
            menu.exec(self.tree.viewport().mapToGlobal(pos))
            menu.deleteLater()  # its actions are the dock's, and stay

    def _results(self, record: RunRecord | None, which: str) -> None:
        if record is not None:
            self.show_results.emit(run_folder(self.folder(), record.id), which)

    def _with_history(self, fn) -> None:
        history = self.history()
        if history is None:
            return
        try:
            fn(history)
        finally:
            history.close()
        self.refresh()

    def rename_to(self, record: RunRecord, name: str) -> None:
        self._with_history(lambda h: h.rename(record.id, name.strip()))
        if record.id in self.chart.runs():  # the legend follows
            shown = self.chart.is_run_visible(record.id)
            self.chart.remove_run(record.id)
            self.set_overlay(record.id, shown)

    def rename(self, record: RunRecord) -> None:
        name, ok = QInputDialog.getText(self, "Rename run", "Name:", text=record.name or run_label(record))
        if ok:
            self.rename_to(record, name)

    def note(self, record: RunRecord) -> None:
        text, ok = QInputDialog.getMultiLineText(self, "Note", f"A note on {run_label(record)}:", record.note)
        if ok:
            self._with_history(lambda h: h.set_note(record.id, text))

    def delete_now(self, record: RunRecord) -> None:
        from netbuilder.training.run import delete_run

        try:
            delete_run(self.folder(), record.id)
        except NetbuilderError as exc:
            self.message.emit(str(exc), 8000)
            return
        if record.id in self.chart.runs():
            self.chart.remove_run(record.id)
        self.refresh()
        self.message.emit(f"Deleted {run_label(record)} and its checkpoints", 5000)

    def delete(self, record: RunRecord) -> None:
        answer = QMessageBox.question(self, "Delete run", f"Delete {run_label(record)}, its history and its "
                                      "checkpoints? This cannot be undone.")
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_now(record)

    def compare(self, a: RunRecord, b: RunRecord) -> str:
        diff = settings_diff(a.settings, b.settings)
        lines = [f"{k}: {old} → {new}" for k, old, new in diff]
        if a.data != b.data:
            lines.append(f"data: {a.data} → {b.data}")
        return "\n".join(lines) or "The two runs have the same settings and data."

    def compare_selected(self) -> None:
        chosen = self.selected()
        if len(chosen) != 2:
            self.message.emit("Select two runs (Ctrl+click) to compare their settings", 6000)
            return
        a, b = sorted(chosen, key=lambda r: r.id)
        self.comparison = self.compare(a, b)
        box = QMessageBox(QMessageBox.Icon.Information, "Settings compared",
                          f"{run_label(a)} → {run_label(b)}\n\n{self.comparison}", QMessageBox.StandardButton.Ok, self)
        box.setModal(False)
        box.open()

    def load_weights(self, record: RunRecord | None, which: str) -> bool:
        """Write the run's weights beside the project file: the project's own weights from now on."""
        from netbuilder.files.weights import weights_beside
        from netbuilder.training.run_results import save_run_weights

        if record is None:
            return False
        project = self._document().project
        if project.path is None:
            self.message.emit("Save the project first: its weights are kept beside its file", 8000)
            return False
        from netbuilder.training.run_results import checkpoint_of

        try:
            run_dir = run_folder(self.folder(), record.id)
            used = checkpoint_of(run_dir, which)  # a stopped run with no best epoch has only its last weights
            dest = save_run_weights(project, run_dir, which, weights_beside(project.path))
        except NetbuilderError as exc:
            QMessageBox.warning(self, "Cannot load these weights", str(exc))
            return False
        self._document().trained_weights = None  # the project's own weights hold them now
        self.message.emit(f"The project's weights are now {checkpoint_words(record, used)} ({dest.name}); "
                          "exports carry them", 8000)
        return True

    def _export_name(self, record: RunRecord, suffix: str) -> str:
        """The file name a run's export suggests: the project's name and the run's, e.g. ``mnist-run1.onnx``."""
        project = self._document().project
        stem = project.path.stem if project.path else project.name
        run = record.name or f"run{record.id}"
        return f"{stem}-{run}{suffix}"

    def export_weights(self, record: RunRecord, path: str | None = None) -> bool:
        """The run's best weights as a safetensors file (for the project as it is now, which must fit them)."""
        from netbuilder.training.run_results import checkpoint_of, save_run_weights

        if path is None:
            path = save_file(self, "Export the run's weights", "weights", self._export_name(record, ".safetensors"),
                             "safetensors weights (*.safetensors)", self._document().project.path)
        if not path:
            return False
        try:
            project = self._document().project
            run_dir = run_folder(self.folder(), record.id)
            used = checkpoint_of(run_dir, "best")
            saved = save_run_weights(project, run_dir, "best", Path(path))
        except NetbuilderError as exc:
            QMessageBox.warning(self, "Cannot export", str(exc))
            return False
        self.message.emit(f"Wrote {saved}: {checkpoint_words(record, used)}", 8000)
        return True

    def export_onnx(self, record: RunRecord, path: str | None = None) -> bool:
        from netbuilder.onnx.exporter import export_onnx
        from netbuilder.training.run_results import checkpoint_of, run_project

        if path is None:
            path = save_file(self, "Export the run's model to ONNX", "onnx", self._export_name(record, ".onnx"),
                             "ONNX models (*.onnx)", self._document().project.path)
        if not path:
            return False
        run_dir = run_folder(self.folder(), record.id)
        try:
            project = run_project(run_dir, self._document().project)
            used = checkpoint_of(run_dir, "best")
            report = export_onnx(project, path, used, run_id=record.id)
        except NetbuilderError as exc:
            QMessageBox.warning(self, "Cannot export", str(exc))
            return False
        self.message.emit(f"{report.summary()}; with {checkpoint_words(record, used)}", 8000)
        return True

    def train_again(self, record: RunRecord) -> bool:
        """Set the project's training settings to the run's (one undo step), then train."""
        from netbuilder.files.project_edits import SetTraining

        document = self._document()
        changes = {k: v for k, v in record.settings.items() if document.project.training.get(k) != v}
        if changes and not document.push(SetTraining(changes)):
            return False
        self.train_requested.emit()
        return True

    def resume(self, record: RunRecord) -> bool:
        run_dir = run_folder(self.folder(), record.id)
        last = run_dir / "last.safetensors"
        if not last.is_file():
            self.message.emit(f"{run_label(record)} has no last checkpoint to resume from", 6000)
            return False
        if self.controller.busy:
            self.message.emit("A run is going on: stop it first", 6000)
            return False
        self.controller.resume_from = last
        self.train_requested.emit()
        return True
