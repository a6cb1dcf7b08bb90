"""Every file dialog of the app starts where the user would expect, never in the process's working directory.

The start folder is the open project's folder once it has been saved; else the last folder used for that
kind of file (remembered in the settings); else the user's Documents folder (or home). The dialogs are
Qt's static ones (``QFileDialog.getSaveFileName`` and friends), so a test can stand in for them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget

from ui import settings


def default_folder() -> Path:
    """The user's Documents folder when there is one, else their home."""
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if documents and Path(documents).is_dir():
        return Path(documents)
    return Path.home()


def _remembered(kind: str) -> Path | None:
    value = settings.store().value(f"dialogs/{kind}")
    return Path(value) if value and Path(value).is_dir() else None


def remember_folder(kind: str, chosen: str | Path) -> None:
    """Remember where ``chosen`` (a file, or a folder) lies, for the next dialog for ``kind``."""
    path = Path(chosen)
    folder = path if path.is_dir() else path.parent
    settings.store().setValue(f"dialogs/{kind}", str(folder.resolve()))


def start_folder(kind: str, project_path: Path | None) -> Path:
    """Where a dialog for ``kind`` of file starts: the project's folder, the last one used, or Documents."""
    if project_path is not None and Path(project_path).parent.is_dir():
        return Path(project_path).parent.resolve()
    return _remembered(kind) or default_folder()


def _start(kind: str, project_path: Path | None, name: str) -> str:
    folder = start_folder(kind, project_path)
    return str(folder / name) if name else str(folder)


def save_file(parent: QWidget | None, title: str, kind: str, name: str, file_filter: str,
              project_path: Path | None) -> str:
    """Ask where to save a ``kind`` of file, suggesting ``name`` (a bare name, or a full path that is kept):
    the chosen path, or "" when cancelled."""
    start = name if Path(name).is_absolute() else _start(kind, project_path, name)
    path, _ = QFileDialog.getSaveFileName(parent, title, start, file_filter)
    if path:
        remember_folder(kind, path)
    return path


def open_file(parent: QWidget | None, title: str, kind: str, file_filter: str, project_path: Path | None) -> str:
    """Ask for an existing ``kind`` of file to open: its path, or "" when cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, title, _start(kind, project_path, ""), file_filter)
    if path:
        remember_folder(kind, path)
    return path


def existing_folder(parent: QWidget | None, title: str, kind: str, project_path: Path | None) -> str:
    """Ask for an existing folder: its path, or "" when cancelled."""
    chosen = QFileDialog.getExistingDirectory(parent, title, _start(kind, project_path, ""))
    if chosen:
        remember_folder(kind, chosen)
    return chosen
