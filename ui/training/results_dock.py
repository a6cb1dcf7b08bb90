"""The Results dock: what a run's model does with the data it was judged on.

- A model of one input feature: the teaching text's own picture, the data as a scatter with the
  fitted line (or the sigmoid of a logistic model) over it; with more inputs, predicted against true.
- A classifier: the confusion matrix (counts, or normalised by row) with each class's precision and
  recall; a click on a cell shows its samples (thumbnails for images, values otherwise) with their
  true and predicted labels and probabilities; the most confused pairs; the highest-loss samples
  (fastai's ``plot_top_losses``); the class probabilities of a chosen sample as bars.

Everything shown is computed by the engine (:mod:`netbuilder.training.run_results` and
:mod:`netbuilder.training.results`), on a thread of its own (loading a large data set and predicting
takes seconds; the window keeps working meanwhile); this module only draws it. Each view exports as PNG, the
numbers as CSV.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from netbuilder.errors import NetbuilderError
from ui.files.file_dialogs import save_file
from ui.fitting_scroll import FittingScroll
from ui.training.results_views import ClassView, FitView, engine_results

if TYPE_CHECKING:
    from netbuilder.training.run_results import RunResults

class ResultsDock(QDockWidget):
    """Results of a run (by default the latest): pick its best or last checkpoint; export PNG and CSV."""

    message = Signal(str, int)
    _loaded = Signal(int, object, str)  # request number, RunResults or None, error

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Results", parent)
        self.project_path: Callable[[], Path | None] = lambda: None  # where its save dialogs start (the window's)
        self._request = 0
        self.loading = False
        self._loaded.connect(self._show_loaded)
        self.setObjectName("ResultsDock")
        self.run_dir: Path | None = None
        self.results: RunResults | None = None
        self._fallback = None
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 4, 6, 4)
        bar = QHBoxLayout()
        self.title = QLabel("No results yet: train the project (F5), and its model's results show here.")
        self.title.setWordWrap(True)
        self.which = QComboBox()
        self.which.addItems(["best", "last"])
        self.which.setToolTip("best: the epoch with the best monitored metric; last: where the run ended")
        self.which.currentTextChanged.connect(lambda _t: self.reload())
        self.png = QPushButton("PNG…")
        self.png.setToolTip("Save this view as a picture")
        self.png.clicked.connect(self._export_png_dialog)
        self.csv = QPushButton("CSV…")
        self.csv.setToolTip("Save the numbers: every sample's prediction (and the confusion matrix)")
        self.csv.clicked.connect(self._export_csv_dialog)
        bar.addWidget(self.title, 1)
        bar.addWidget(QLabel("Weights:"))
        bar.addWidget(self.which)
        bar.addWidget(self.png)
        bar.addWidget(self.csv)
        layout.addLayout(bar)
        self.stack = QStackedWidget()
        self.empty = QLabel("")
        self.fit = FitView()
        self.classes = ClassView()
        for w in (self.empty, self.fit, self.classes):
            self.stack.addWidget(w)
        layout.addWidget(self.stack, 1)
        self.setWidget(FittingScroll(body))  # a small window scrolls the views rather than refusing to shrink
        self._set_enabled(False)

    def _set_enabled(self, on: bool) -> None:
        for w in (self.which, self.png, self.csv):
            w.setEnabled(on)

    def clear(self) -> None:
        """Show nothing (another project was opened): its runs' results are one click away in the Runs dock."""
        self._request += 1  # a result still being computed is not shown
        self.loading = False
        self.run_dir = self.results = None
        self.title.setText("No results yet: train the project (F5), and its model's results show here.")
        self.stack.setCurrentWidget(self.empty)
        self._set_enabled(False)

    def show_run(self, run_dir: Path, which: str | None = None, fallback: Any = None) -> bool:
        """Load run ``run_dir``'s results; False (and the reason shown) when they cannot be loaded."""
        self.run_dir = Path(run_dir)
        self._fallback = fallback
        if which is not None and which != self.which.currentText():
            self.which.blockSignals(True)
            self.which.setCurrentText(which)
            self.which.blockSignals(False)
        return self.reload()

    def reload(self) -> bool:
        """Compute the results of the chosen run off the GUI thread (loading the data and predicting can take
        seconds on a large set); they show when ready. False when no run is chosen."""
        if self.run_dir is None:
            return False
        self._request += 1
        request, run_dir, which, fallback = self._request, self.run_dir, self.which.currentText(), self._fallback
        self.results = None
        self.loading = True
        self.title.setText(f"Computing the results of {run_dir.name} ({which} weights)…")
        self.stack.setCurrentWidget(self.empty)
        self._set_enabled(False)

        def work() -> None:
            from netbuilder.training.run_results import load_results

            try:
                found, error = load_results(run_dir, which, fallback), ""
            except (NetbuilderError, OSError) as exc:
                found, error = None, str(exc)
            except Exception as exc:  # a bug: said in the dock, never a crash of the window
                found, error = None, f"internal error ({type(exc).__name__}: {exc}); please report it"
            try:
                self._loaded.emit(request, found, error)  # queued: shown on the GUI thread
            except RuntimeError:  # the dock went while this ran (the window closed)
                pass

        threading.Thread(target=work, name="netbuilder-results", daemon=True).start()
        return True

    def _show_loaded(self, request: int, r: RunResults | None, error: str) -> None:
        if request != self._request:  # a newer request is on its way
            return
        self.loading = False
        assert self.run_dir is not None
        if r is None:
            self.title.setText(f"Cannot show the results of {self.run_dir.name}: {error}")
            self.stack.setCurrentWidget(self.empty)
            self._set_enabled(True)
            return
        self.results = r
        used = r.checkpoint.stem
        self.title.setText(f"{self.run_dir.name}, {used} weights, on {len(r.data):,} "
                           f"{'held-out' if r.held_out else 'training'} samples of '{r.data.name}'")
        # The teaching text's picture for one input (a line, or logistic regression's sigmoid) before a matrix.
        if r.is_classifier and not (r.one_feature and r.data.task == "binary"):
            self.classes.show_results(r)
            self.stack.setCurrentWidget(self.classes)
        else:
            self.fit.show_results(r)
            self.stack.setCurrentWidget(self.fit)
        self._set_enabled(True)

    # ---- export ---------------------------------------------------------------------------------
    def export_png(self, path: str | Path) -> Path:
        path = Path(path)
        if not self.stack.currentWidget().grab().save(str(path)):
            raise OSError(f"could not write {path}")
        return path

    def export_csv(self, path: str | Path) -> list[Path]:
        """The predictions of every sample; for a classifier also ``<name>-confusion.csv``."""
        if self.results is None:
            raise ValueError("no results to export")
        path = Path(path)
        r = self.results
        names = r.class_names() if r.is_classifier else None
        path.write_text(engine_results().predictions_csv(r.predictions, names), encoding="utf-8")
        written = [path]
        if r.is_classifier:
            cm_path = path.with_name(path.stem + "-confusion.csv")
            cm_path.write_text(engine_results().confusion_csv(r.confusion(), names), encoding="utf-8")
            written.append(cm_path)
        return written

    def _export_png_dialog(self) -> None:
        path = save_file(self, "Save the view as PNG", "image", "results.png", "PNG images (*.png)",
                         self.project_path())
        if path:
            try:
                self.message.emit(f"Saved {self.export_png(path)}", 5000)
            except OSError as exc:
                self.message.emit(str(exc), 8000)

    def _export_csv_dialog(self) -> None:
        path = save_file(self, "Save the numbers as CSV", "csv", "predictions.csv", "CSV files (*.csv)",
                         self.project_path())
        if path:
            try:
                written = self.export_csv(path)
                self.message.emit("Saved " + ", ".join(str(p) for p in written), 5000)
            except OSError as exc:
                self.message.emit(f"Cannot save {path}: {exc.strerror or exc}", 8000)
