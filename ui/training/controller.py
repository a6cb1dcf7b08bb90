"""One run at a time for the open document: start, pause, resume, stop, and what state it is in.

The controller holds no training logic: it writes a snapshot of the project (the engine's
:mod:`netbuilder.training.snapshot`), hands it to a :class:`TrainingWorker` (a child process
running ``netbuilder train``), and relays the engine's events. It knows which run is live, and
whether the graph has been edited since that run's snapshot was taken.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from netbuilder.files.project import Project
from netbuilder.model.fingerprint import graph_fingerprint
from netbuilder.training.events import Failed, Finished, Started
from netbuilder.training.snapshot import default_runs_folder, runs_beside, write_snapshot
from ui.files.autosave import data_dir
from ui.training.worker import TrainingWorker

IDLE, STARTING, RUNNING, PAUSED, STOPPING = "idle", "starting", "running", "paused", "stopping"
WORKER_ARGS = ("--nice", "10")


def runs_folder_for(project: Project) -> Path:
    """Beside the project file when it has one (the CLI's folder too), else in the user's data folder."""
    if project.path is not None:
        return runs_beside(project.path)  # torch-free: a reopened project lists its runs before torch loads
    return default_runs_folder(project, data_dir())


class RunController(QObject):
    """Runs ``document``'s project. ``state_changed(state)``, ``event(engine event)``, ``ended(last event)``."""

    state_changed = Signal(str)
    event = Signal(object)
    ended = Signal(object)
    graph_changed = Signal(bool)  # True once the graph differs from the live run's snapshot
    note = Signal(str)  # the worker's word while it starts (a data set's download progress)

    def __init__(self, document: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.state = IDLE
        self.worker: TrainingWorker | None = None
        self.run_id: int | None = None
        self.run_dir: Path | None = None
        self.runs_folder: Path | None = None
        self.snapshot_path: Path | None = None
        self.fingerprint: str | None = None
        self.started: Started | None = None
        self.last_end: Any = None
        self.environment: dict[str, str] = {}
        # A lower priority for the worker: the window's event loop gets a core the moment it needs one
        # (measured in benchmarks/bench_gui_training.py: p99 timer lateness 7 ms instead of 15 ms on 2 cores).
        self.worker_args: list[str] = list(WORKER_ARGS)
        self.resume_from: Path | None = None  # the next start resumes this checkpoint (a stopped run's last)
        self._diverged = False
        document.changed.connect(self._document_changed)

    def set_document(self, document: Any) -> None:
        """Follow another document; a live run goes on (it trains its own snapshot) until it ends."""
        try:
            self.document.changed.disconnect(self._document_changed)
        except (RuntimeError, TypeError):
            pass
        self.document = document
        document.changed.connect(self._document_changed)
        if not self.busy:  # the last run was the old project's: the graph it trained is no measure for this one
            self.fingerprint = self.last_end = self.run_id = self.run_dir = self.started = self.resume_from = None
            self._diverged = False
            self.graph_changed.emit(False)
        self._document_changed()

    @property
    def busy(self) -> bool:
        return self.state != IDLE

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    # ---- control -------------------------------------------------------------------------------
    def start(self) -> Path:
        """Train a snapshot of the project as it is now; returns the runs folder."""
        if self.busy:
            raise RuntimeError("a run is already going on; stop it first")
        project = self.document.project
        self.runs_folder = runs_folder_for(project)
        resume, self.resume_from = self.resume_from, None
        if resume is not None:  # the stopped run's own graph and settings, which its checkpoint fits
            from netbuilder.training.run_results import run_project

            trained = run_project(resume.parent, project)
            self.snapshot_path = write_snapshot(trained, self.runs_folder)
        else:
            self.snapshot_path = write_snapshot(project, self.runs_folder)
        self.fingerprint = graph_fingerprint(project.graph)
        self.run_id = self.run_dir = self.started = self.last_end = None
        self._diverged = False
        self.graph_changed.emit(False)
        self.worker = TrainingWorker(self)
        self.worker.event.connect(self._event)
        self.worker.ended.connect(self._ended)
        self.worker.note.connect(self.note)
        self.worker.extra_args = [*self.worker_args, *(["--resume", str(resume)] if resume is not None else [])]
        self._set_state(STARTING)
        self.worker.start(self.snapshot_path, self.runs_folder, self.environment)
        return self.runs_folder

    def pause(self) -> None:
        if self.state in (RUNNING, STARTING) and self.worker is not None:
            self.worker.pause()

    def resume(self) -> None:
        if self.state == PAUSED and self.worker is not None:
            self.worker.resume()

    def stop(self) -> None:
        """Stop after the current batch; the worker saves the weights so far as the run's last checkpoint."""
        if self.worker is not None and self.state in (STARTING, RUNNING, PAUSED):
            self._set_state(STOPPING)
            self.worker.stop()

    def stop_and_wait(self, msecs: int = 15_000) -> bool:
        """Stop and block until the run has saved and ended (closing the window). False if it had to be killed."""
        if self.worker is None or not self.worker.running:
            return True
        self.stop()
        if self.worker.wait(msecs):
            return True
        self.worker.kill()
        self.worker.wait(2000)
        return False

    # ---- what the worker says ----------------------------------------------------------------
    def _event(self, event: Any) -> None:
        name = type(event).__name__
        if isinstance(event, Started):
            self.started = event
            self.run_id = getattr(event, "run_id", None)
            run_dir = getattr(event, "run_dir", None)
            self.run_dir = Path(run_dir) if run_dir else None
            if self.state == STARTING:
                self._set_state(RUNNING)
        elif name == "Paused" and self.state != STOPPING:
            self._set_state(PAUSED)
        elif name == "Resumed" and self.state != STOPPING:
            self._set_state(RUNNING)
        self.event.emit(event)

    def _ended(self, last: Any) -> None:
        self.last_end = last
        if self.snapshot_path is not None:
            try:  # the engine kept a copy in the run's folder (project.nbproj)
                os.remove(self.snapshot_path)
            except OSError:
                pass
        self._set_state(IDLE)
        self.ended.emit(last)

    def _document_changed(self) -> None:
        if self.fingerprint is None or (self.state == IDLE and self.last_end is None):
            return
        diverged = graph_fingerprint(self.document.project.graph) != self.fingerprint
        if diverged != self._diverged:
            self._diverged = diverged
            self.graph_changed.emit(diverged)


def run_status(last: Any) -> str:
    """What a run's last event says it was: completed, stopped, early_stopped, failed."""
    if isinstance(last, Finished):
        return last.reason
    if isinstance(last, Failed):
        return "failed"
    return "unknown"
