"""File > Open Recent: the last projects opened or saved, most recent first."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QMenu, QWidget

from ui import settings


class RecentFilesMenu(QMenu):
    """Rebuilt from the settings each time it opens (and on :meth:`rebuild`); files gone from disk are left out.

    Parameters
    ----------
    open_path:
        Called with the chosen file.
    """

    def __init__(self, open_path: Callable[[Path], object], parent: QWidget | None = None) -> None:
        super().__init__("Open &Recent", parent)
        self._open_path = open_path
        self.aboutToShow.connect(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        self.clear()
        paths = settings.recent_files()
        for k, path in enumerate(paths, 1):
            # &1 … &9 and &0 for the tenth give each entry a key; && shows a literal & in a name.
            text = f"&{k % 10} {path.name.replace('&', '&&')}"
            action = self.addAction(text, lambda p=path: self._open_path(p))
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
        if not paths:
            self.addAction("No recent files").setEnabled(False)
        self.addSeparator()
        clear = self.addAction("&Clear Recent", self._clear)
        clear.setEnabled(bool(paths))
        self.setToolTipsVisible(True)
        self.setEnabled(True)

    def _clear(self) -> None:
        settings.clear_recent_files()
        self.rebuild()
