"""What the app remembers between runs: recent files, the last project, window layout, theme.

Stored with QSettings in INI format everywhere (not the Windows registry or a macOS plist), so a
test can redirect the whole store with ``QSettings.setPath(IniFormat, UserScope, tmp)``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QSize
from PySide6.QtWidgets import QMainWindow

ORGANIZATION = APPLICATION = "netbuilder"
MAX_RECENT = 10
THEMES = ("system", "light", "dark")


def store() -> QSettings:
    """The user's settings (a new handle each time; Qt shares the file behind them)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def _string_list(value: object) -> list[str]:
    # INI files give back a one-item list as a plain string, and an empty one as None.
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]  # type: ignore[union-attr]


def recent_files(existing_only: bool = True) -> list[Path]:
    """Recently opened or saved projects, most recent first; missing files left out unless asked for."""
    paths = [Path(p) for p in _string_list(store().value("recentFiles"))]
    return [p for p in paths if p.is_file()] if existing_only else paths


def add_recent_file(path: str | Path) -> None:
    """Put ``path`` first in the recent list (once), keeping at most :data:`MAX_RECENT`."""
    path = Path(path).resolve()
    paths = [path, *(p for p in recent_files(existing_only=False) if p != path)]
    store().setValue("recentFiles", [str(p) for p in paths[:MAX_RECENT]])


def remove_recent_file(path: str | Path) -> None:
    path = Path(path).resolve()
    store().setValue("recentFiles", [str(p) for p in recent_files(existing_only=False) if p != path])


def clear_recent_files() -> None:
    store().remove("recentFiles")


def has_quit_before() -> bool:
    """Whether the app has quit (and recorded :func:`last_project`) before: False on a first start."""
    return store().contains("session/lastProject")


def last_project() -> Path | None:
    """The file of the project open when the app last quit; None when none was (or it was untitled)."""
    value = store().value("session/lastProject")
    return Path(value) if value else None


def set_last_project(path: str | Path | None) -> None:
    """Remember the project open now (``None``: an untitled one), for :func:`last_project` at the next start."""
    store().setValue("session/lastProject", str(Path(path).resolve()) if path else "")


def theme() -> str:
    """The theme chosen in View > Theme: ``system``, ``light`` or ``dark``."""
    value = store().value("theme", "system")
    return value if value in THEMES else "system"


def set_theme(name: str) -> None:
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}; one of {', '.join(THEMES)}")
    store().setValue("theme", name)


FIRST_SIZE = QSize(1400, 860)  # the window at a first start: the least it opens at...
LARGEST_FIRST_SIZE = QSize(1800, 1100)  # ...growing with a larger screen up to this


def first_start_size(available: QSize | None) -> QSize:
    """The window's size at a first start (nothing saved yet), for a screen whose free area is
    ``available``: 1400 x 860, or as much of a larger screen as it offers up to 1800 x 1100, so that the
    canvas gets the room a larger screen has (the examples' first frames fit either way)."""
    if available is None or available.isEmpty():
        return QSize(FIRST_SIZE)
    return QSize(max(FIRST_SIZE.width(), min(available.width(), LARGEST_FIRST_SIZE.width())),
                 max(FIRST_SIZE.height(), min(available.height(), LARGEST_FIRST_SIZE.height())))


def save_window(window: QMainWindow) -> None:
    """Remember the window's size, place and dock layout (called on close)."""
    s = store()
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/state", window.saveState())


def restore_window(window: QMainWindow) -> bool:
    """Put the window back as it was last closed. False when nothing was saved (a first start)."""
    s = store()
    geometry, state = s.value("window/geometry"), s.value("window/state")
    if not isinstance(geometry, QByteArray) or not isinstance(state, QByteArray):
        return False
    return window.restoreGeometry(geometry) and window.restoreState(state)
