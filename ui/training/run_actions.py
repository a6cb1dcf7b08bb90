"""Run ▸ Train (F5), Pause/Resume (F6), Stop (Shift+F5): the menu, the toolbar, and when each may act.

A project with errors cannot start: Train's tooltip says why ahead of time, and pressing it puts the
reason in the status bar (the Problems dock has the full list). A run that fails says what happened
in a dialog and in the Problems dock; the app, the project and the run's history stay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QMessageBox, QStyle, QToolBar, QWidget

from netbuilder.analysis.shape_inference import Problem
from netbuilder.training.events import Failed
from ui.shortcuts import ACTION_KEYS, action_keys
from ui.training.controller import IDLE, PAUSED, STARTING, STOPPING, RunController, run_status

RUN_KEYS = {name: ACTION_KEYS[name].everywhere[0] for name in ("Train", "Pause", "Stop")}  # for tooltips


def start_blocker(document: Any) -> str | None:
    """Why ``document``'s project cannot start training now, or None when it can."""
    if not (document.project.data.get("dataset") or ""):
        return "the project has no data set: choose one in the Data dock"
    errors = [p for p in document.problems() if p.severity == "error"]
    if errors:
        more = f" (and {len(errors) - 1} more in the Problems dock)" if len(errors) > 1 else ""
        return f"{errors[0].message}{more}"
    return None


def failure_text(event: Failed) -> tuple[str, str]:
    """A failed run's dialog title and body: what happened, at which step, what to try."""
    titles = {"nan": "Training diverged", "out_of_memory": "Out of memory", "setup": "The run could not start",
              "crash": "The training process stopped", "internal": "Internal error in training"}
    body = event.message[:1].upper() + event.message[1:]
    if event.kind not in ("setup",) and f"step {event.step}" not in body:
        body = f"At step {event.step}: {event.message}"
    # The engine's message says what the run's folder keeps (its last checkpoint, or none yet).
    body += "\n\nThe project is unchanged and the app keeps working."
    return titles.get(event.kind, "Training failed"), body


class RunActions(QObject):
    """The run actions of a main window, bound to its :class:`RunController`."""

    message = Signal(str, int)  # for the status bar: text, timeout in ms
    run_problem = Signal(list)  # [Problem] of the last run, for the Problems dock
    blocked = Signal(str)  # Train was pressed but cannot start: the reason

    def __init__(self, controller: RunController, window: QWidget,
                 document: Callable[[], Any]) -> None:
        super().__init__(window)
        self.controller = controller
        self.window = window
        self._document = document
        style = window.style()
        self.train = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "&Train", window)
        self.pause = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaPause), "&Pause", window)
        self.stop = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "&Stop", window)
        self.pause.setCheckable(True)  # shown pressed while the run is paused
        for action, name in ((self.train, "Train"), (self.pause, "Pause"), (self.stop, "Stop")):
            action.setShortcuts(action_keys(name))
            window.addAction(action)  # the keys work wherever the focus is in the window
        self.train.triggered.connect(self.start)
        self.pause.triggered.connect(lambda _checked=False: self.toggle_pause())
        self.stop.triggered.connect(self.controller.stop)
        controller.state_changed.connect(self.update)
        controller.ended.connect(self._ended)
        self.last_dialog: QMessageBox | None = None
        self.update()

    def fill_menu(self, menu: QMenu) -> None:
        for action in (self.train, self.pause, self.stop):
            menu.addAction(action)

    def fill_toolbar(self, toolbar: QToolBar) -> None:
        for action in (self.train, self.pause, self.stop):
            toolbar.addAction(action)

    # ---- state --------------------------------------------------------------------------------
    def update(self, *_: object) -> None:
        """Enable what may act now; Train's tooltip says why it cannot start."""
        state = self.controller.state
        idle = state == IDLE
        self.pause.setEnabled(state in (STARTING, "running", PAUSED))
        self.pause.setText("&Resume" if state == PAUSED else "&Pause")
        self.pause.setChecked(state == PAUSED)
        self.pause.setToolTip(f"{'Resume' if state == PAUSED else 'Pause'} the run ({RUN_KEYS['Pause']})")
        self.stop.setEnabled(state in (STARTING, "running", PAUSED))
        self.stop.setToolTip(f"Stop after this batch and keep the weights trained so far ({RUN_KEYS['Stop']})")
        blocker = start_blocker(self._document()) if idle else None
        self.train.setEnabled(idle)
        if not idle:
            tip = "A run is going on: stop it first" if state != STOPPING else "Stopping the run…"
        elif blocker:
            tip = f"Cannot train yet: {blocker}"
        else:
            tip = f"Train this project ({RUN_KEYS['Train']})"
        self.train.setToolTip(tip)
        self.train.setStatusTip(tip)

    def toggle_pause(self) -> None:
        if self.controller.state == PAUSED:
            self.controller.resume()
        else:
            self.controller.pause()

    def start(self) -> bool:
        if self.controller.busy:
            self.message.emit("A run is going on: stop it (Shift+F5) before training again", 6000)
            return False
        # A resume trains the run's own snapshot, which trained before (the engine checks it again):
        # what the project has become since, a half-wired layer say, does not block it.
        blocker = None if self.controller.resume_from is not None else start_blocker(self._document())
        if blocker:
            self.message.emit(f"Cannot train yet: {blocker}", 10000)
            self.blocked.emit(blocker)
            self.update()
            return False
        self.run_problem.emit([])
        try:
            folder = self.controller.start()
        except Exception as exc:  # a runs folder that cannot be written: say where and why
            self.message.emit(f"Cannot start the run: {exc}", 10000)
            return False
        self.message.emit(f"Training… the run is saved in {folder}", 6000)
        return True

    def _ended(self, last: Any) -> None:
        self.update()
        status = run_status(last)
        if isinstance(last, Failed):
            title, body = failure_text(last)
            self.run_problem.emit([Problem("error", f"run-{last.kind}", f"The last run failed ({title.lower()}): "
                                                                   f"{last.message}")])
            self.message.emit(f"{title}: {last.message}", 15000)
            box = QMessageBox(QMessageBox.Icon.Warning, title, body, QMessageBox.StandardButton.Ok, self.window)
            box.setModal(False)  # the app stays usable; the dialog waits for the user
            box.open()
            self.last_dialog = box
        else:
            self.message.emit(f"Run {status.replace('_', ' ')}", 8000)
