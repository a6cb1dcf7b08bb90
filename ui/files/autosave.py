"""Autosave of unsaved work, and recovery after a crash.

Every ``interval_ms`` an :class:`Autosaver` writes its document, when it has unsaved
changes, to ``<data dir>/autosave/<pid>-<random>.nbproj`` (atomically), with a sidecar
``.json`` naming the original file and the process id. A clean close, a save, or opening another
document removes both. Files whose process is no longer running were left by a crash:
:func:`offer_recovery` asks whether to recover them at the next start.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from netbuilder.errors import NetbuilderError
from netbuilder.files.atomic import write_atomic
from netbuilder.files.processes import pid_alive
from netbuilder.files.project import load_project
from ui.document import Document

INTERVAL_MS = 30_000
DATA_DIR_ENV = "NETBUILDER_DATA_DIR"


def data_dir() -> Path:
    """The user's data folder for netbuilder; ``$NETBUILDER_DATA_DIR`` overrides it (tests do)."""
    if override := os.environ.get(DATA_DIR_ENV):
        return Path(override)
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    if not location or not Path(location).name:  # no application name set (a script, not the app)
        location = str(Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation))
                       / "netbuilder")
    return Path(location)


def autosave_dir() -> Path:
    return data_dir() / "autosave"


def boot_id() -> str | None:
    """This boot of the machine (Linux), so that a process id reused after a restart is not taken
    for the process that wrote an autosave before it."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


class Autosaver(QObject):
    """Writes a document with unsaved changes every ``interval_ms`` milliseconds.

    ``failed(reason)`` fires when a write fails (a full disk), for the status bar.

    Parameters
    ----------
    document:
        The document to save; :meth:`set_document` follows the one a window shows next.
    parent:
        Owns the autosaver (the window), so it stops when the window goes.
    interval_ms:
        How often to check; 30 s by default, tests use less.
    pid:
        The process id written in the sidecar; this process's by default (tests give a dead one
        to leave files that look like a crash's).
    """

    failed = Signal(str)

    def __init__(self, document: Document, parent: QObject | None = None, interval_ms: int = INTERVAL_MS,
                 pid: int | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.pid = os.getpid() if pid is None else pid
        stem = f"{self.pid}-{secrets.token_hex(4)}"
        self.project_file = autosave_dir() / f"{stem}.nbproj"
        self.info_file = autosave_dir() / f"{stem}.json"
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.autosave)
        self.timer.start()

    def set_document(self, document: Document) -> None:
        """Save ``document`` from now on; the old one's autosave goes (it was saved or given up)."""
        self.document = document
        self.discard()

    def autosave(self) -> bool:
        """Write the document if it has unsaved changes (else remove an old autosave). True if written."""
        document = self.document
        if document.undo_stack.isClean():
            self.discard()
            return False
        project = document.project
        try:
            self.project_file.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.project_file, project.to_json().encode("utf-8"))
            info = {"original": str(project.path) if project.path else None, "name": project.name,
                    "pid": self.pid, "boot": boot_id(), "saved_at": datetime.now().isoformat(timespec="seconds")}
            write_atomic(self.info_file, json.dumps(info, indent=1).encode("utf-8"))
        except (OSError, ValueError) as exc:  # a full disk must not interrupt editing
            self.failed.emit(f"Autosave failed: {exc}")
            return False
        return True

    def discard(self) -> None:
        """Remove this document's autosave (after a save, a clean close, or another document opened)."""
        self.info_file.unlink(missing_ok=True)
        self.project_file.unlink(missing_ok=True)

    def stop(self) -> None:
        self.timer.stop()
        self.discard()


@dataclass
class Leftover:
    """An autosave left by a process that is gone: what :func:`offer_recovery` asks about."""

    project_file: Path
    info_file: Path
    original: Path | None
    name: str
    saved_at: str

    @property
    def label(self) -> str:
        """The name and time as the question shows them, e.g. ``model.nbproj, 2025-01-31 14:02``."""
        name = self.original.name if self.original else self.name
        try:
            when = datetime.fromisoformat(self.saved_at).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            when = self.saved_at
        return f"{name}, {when}"

    def discard(self) -> None:
        self.info_file.unlink(missing_ok=True)
        self.project_file.unlink(missing_ok=True)


def leftovers() -> list[Leftover]:
    """Autosaves whose process is not running, newest first."""
    found = []
    for info_file in autosave_dir().glob("*.json"):
        project_file = info_file.with_suffix(".nbproj")
        try:
            info: dict[str, Any] = json.loads(info_file.read_text(encoding="utf-8"))
            pid = int(info["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # being written, or not ours
        rebooted = info.get("boot") is not None and info.get("boot") != boot_id()
        if (pid_alive(pid) and not rebooted) or not project_file.is_file():
            continue
        original = info.get("original")
        found.append(Leftover(project_file, info_file, Path(original) if original else None,
                              str(info.get("name", project_file.stem)), str(info.get("saved_at", ""))))
    return sorted(found, key=lambda x: x.saved_at, reverse=True)


def ask_user(parent: QWidget, leftover: Leftover) -> bool | None:
    """The question: True to recover, False to discard, None (Escape) to decide at the next start."""
    box = QMessageBox(QMessageBox.Icon.Question, "Recover unsaved work",
                      f"Recover unsaved work from {leftover.label}?", parent=parent)
    box.setInformativeText("netbuilder did not close normally; this is the last autosave of that project.")
    recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(recover)
    box.exec()
    clicked = box.clickedButton()
    return True if clicked is recover else False if clicked is discard else None


def offer_recovery(parent: QWidget, autosaver: Autosaver, open_document: Callable[[Document], bool],
                   ask: Callable[[QWidget, Leftover], bool | None] = ask_user) -> bool:
    """Offer each crash leftover, newest first; the first one recovered goes to ``open_document``.

    ``open_document(document)`` shows it (the window asks first about unsaved work of its own and
    returns False to keep that). A recovered project opens unsaved: its path is the original file
    (or none) and it is marked modified, so the user decides where to save it; ``autosaver`` (now
    on the recovered document) writes it before the crashed process's copy goes. Discarded
    leftovers are deleted; once one is recovered, older ones wait for the next start. Returns
    whether one was recovered.
    """
    for leftover in leftovers():
        answer = ask(parent, leftover)
        if answer is None:
            continue
        if not answer:
            leftover.discard()
            continue
        try:
            project = load_project(leftover.project_file)
        except NetbuilderError as exc:
            QMessageBox.warning(parent, "Cannot recover", f"{leftover.label}: {exc}")
            continue
        original = leftover.original  # Save goes back there; if its folder is gone, Save asks where
        project.path = original if original is not None and original.parent.is_dir() else None
        document = Document(project)
        document.undo_stack.resetClean()  # unsaved until the user saves it
        if not open_document(document):  # the window holds unsaved work of its own: keep both
            return False
        autosaver.set_document(document)
        autosaver.autosave()  # safe under this process before the crashed one's copy goes
        leftover.discard()
        return True
    return False
