"""The Run dock: the live chart of the run in progress, its progress bar, and what state it is in.

It shows what the :class:`RunController` relays; the chart buffers every point and redraws from
its own timer, so a batch's event costs an append, never a repaint.
"""

from __future__ import annotations

import math
import time
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QLabel, QProgressBar, QVBoxLayout, QWidget

from netbuilder.training.events import Epoch, Failed, Finished, Started, Steps
from ui import theme
from ui.fitting_scroll import FittingScroll
from ui.training.chart import TrainingChart
from ui.training.controller import PAUSED, STARTING, STOPPING, RunController, run_status

PROGRESS_MS = 250  # the progress bar's update interval
NOT_TRAINED = "Not trained yet: press Train (F5) to train this project."
IDLE_WITH_RUNS = "No run in progress: press Train (F5) to train this project; its earlier runs are in the Runs dock."


def clock(seconds: float) -> str:
    """``0:42``, ``12:05``, ``1:02:03``; ``--`` for an unknown time."""
    if not math.isfinite(seconds) or seconds < 0:
        return "--"
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def progress_text(event: Steps, elapsed: float) -> str:
    return (f"epoch {event.epoch + 1}  ·  batch {event.batch + 1}/{event.steps_per_epoch}  ·  "
            f"{event.samples_per_s:,.0f} samples/s  ·  {clock(elapsed)} elapsed  ·  ETA {clock(event.eta_s)}")


class RunDock(QDockWidget):
    """Live curves and progress of the project's runs."""

    def __init__(self, controller: RunController, parent: QWidget | None = None) -> None:
        super().__init__("Run", parent)
        self.setObjectName("RunDock")
        self.controller = controller
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 4, 6, 4)
        self.status = QLabel(NOT_TRAINED)
        self.status.setWordWrap(True)
        self.changed_note = QLabel("The graph has changed since this run started; the run trains the graph "
                                   "as it was when Train was pressed.")
        self.changed_note.setWordWrap(True)
        theme.use_tone(self.changed_note, "warning")
        self.changed_note.hide()
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.progress.setValue(0)
        self._pending_progress: tuple[int, str] | None = None
        self._progress_timer = QTimer(self)
        self._progress_timer.setInterval(PROGRESS_MS)
        self._progress_timer.timeout.connect(self._show_progress)
        self.chart = TrainingChart()
        layout.addWidget(self.status)
        layout.addWidget(self.changed_note)
        layout.addWidget(self.progress)
        layout.addWidget(self.chart, 1)
        # A narrow window scrolls the chart's controls instead of refusing to be narrower than them.
        self.setWidget(FittingScroll(body))
        self._epochs = 0
        self._key: Any = None
        self._count = 0
        self._t0 = time.monotonic()
        controller.event.connect(self._event)
        controller.state_changed.connect(self._state)
        controller.ended.connect(self._ended)
        controller.graph_changed.connect(self.changed_note.setVisible)
        controller.note.connect(self._note)

    def reset(self, has_runs: bool = False) -> None:
        """Idle, as for a project just opened (another project, or a new one): nothing of the last run's
        status, note or progress stays. ``has_runs``: the project has earlier runs (in the Runs dock)."""
        self._progress_timer.stop()
        self._pending_progress = None
        self._key = None
        self.status.setText(IDLE_WITH_RUNS if has_runs else NOT_TRAINED)
        self.changed_note.hide()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")

    # ---- events ------------------------------------------------------------------------------
    def _event(self, event: Any) -> None:
        if isinstance(event, Started):
            self._count += 1
            self._t0 = time.monotonic()
            self._key = event.run_id if event.run_id is not None else f"run {self._count}"
            name = f"run {event.run_id}" if event.run_id is not None else str(self._key)
            self.chart.add_run(self._key, name, live=True)
            self.chart.set_planned(self._key, event.epochs * event.steps_per_epoch, event.epochs)
            self._epochs = event.epochs
            self.progress.setRange(0, max(1, event.epochs * event.steps_per_epoch))
            self.progress.setValue(0)
            self.progress.setFormat(f"Starting {name}…")  # until its first report: not the last run's end
            self.status.setText(f"Training on {event.device}: {event.train_samples:,} samples"
                                + (f", {event.val_samples:,} for validation" if event.val_samples else "")
                                + f", {event.epochs} epochs of {event.steps_per_epoch} batches.")
        elif isinstance(event, Steps) and self._key is not None:
            per_epoch = max(1, event.steps_per_epoch)
            n = len(event.losses)
            epochs = [(event.first_step + i + 1) / per_epoch for i in range(n)]
            self.chart.append_steps(self._key, event.first_step, event.losses, epochs, self._elapsed_now())
            # Shown from a 4 Hz timer: QProgressBar.setValue repaints at once (3-4 ms each), which once a
            # report (~15 a second) cost the window 5 % of a core while the worker wanted every cycle.
            self._pending_progress = (event.step + 1, progress_text(event, self._elapsed_now()))
            if not self._progress_timer.isActive():
                self._progress_timer.start()
        elif isinstance(event, Epoch) and self._key is not None:
            self.chart.append_epoch(self._key, event.epoch, event.train, event.val, event.learning_rate,
                                    event.elapsed_s)

    def _show_progress(self) -> None:
        if self._pending_progress is None:
            self._progress_timer.stop()
            return
        value, text = self._pending_progress
        self._pending_progress = None
        self.progress.setValue(value)
        self.progress.setFormat(text)

    def _elapsed_now(self) -> float:
        return time.monotonic() - self._t0

    def _note(self, text: str) -> None:
        """The worker's progress before its first batch: a data set downloading, its size so far."""
        if self.controller.state == STARTING:
            self.status.setText(f"Starting the run: {text}…")

    def _state(self, state: str) -> None:
        if state == STARTING:
            self.status.setText("Starting the run: loading the data and building the model…")
            # Nothing of the last run's progress stays while the new one starts (its first report can be seconds away).
            self._progress_timer.stop()
            self._pending_progress = None
            self.progress.setRange(0, 0)  # busy until the first batch
            self.progress.setValue(0)
            self.progress.setFormat("Starting a new run…")
        elif state == PAUSED:
            self.status.setText("Paused: the run waits, everything in memory. Resume (F6) goes on exactly "
                                "where it was.")
        elif state == STOPPING:
            self.status.setText("Stopping after this batch; the weights trained so far are saved…")

    def _ended(self, last: Any) -> None:
        self._show_progress()  # the last report's progress, now
        status = run_status(last)
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
        where = f" (run {self.controller.run_id})" if self.controller.run_id is not None else ""
        if isinstance(last, Finished):
            best = {k: v for k, v in last.best.items() if k != "epoch"}
            shown = "  ".join(f"{k} {v:.4g}" for k, v in list(best.items())[:4])
            words = {"completed": "Finished", "stopped": "Stopped", "early_stopped": "Stopped early (no improvement)",
                     "interrupted": "Interrupted"}
            self.status.setText(f"{words.get(status, status)}{where} after {last.epochs_done} epochs, "
                                f"{last.steps_done} steps. Best: {shown or '—'}. The weights are kept in the run's "
                                "checkpoints.")
        elif isinstance(last, Failed):
            self.status.setText(f"Failed{where} at step {last.step}: {last.message}")
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft)
