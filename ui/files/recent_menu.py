"""File > Open Recent: the last projects opened or saved, most recent first; below them, the built-in examples."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from netbuilder.examples import EXAMPLE_NAMES, example_path
from netbuilder.files.project import load_project
from ui import settings

EXAMPLES_HEADER = "Examples"


def example_titles() -> list[tuple[str, str, str]]:
    """Each built-in example's name, title and description (its section of the teaching text)."""
    found = []
    for name in EXAMPLE_NAMES:
        project = load_project(example_path(name))
        found.append((name, project.name, project.description))
    return found


class RecentFilesMenu(QMenu):
    """Rebuilt from the settings each time it opens (and on :meth:`rebuild`); files gone from disk are left out.

    The recent files come first (numbered, with Clear Recent); then, under a separator and an
    "Examples" header, the built-in examples, which are never in the recent list.

    Parameters
    ----------
    open_path:
        Called with the chosen file.
    open_example:
        Called with the chosen example's name (one of :data:`netbuilder.examples.EXAMPLE_NAMES`).
    """

    def __init__(self, open_path: Callable[[Path], object], open_example: Callable[[str], object],
                 parent: QWidget | None = None) -> None:
        super().__init__("Open &Recent", parent)
        self._open_path = open_path
        self._open_example = open_example
        self._examples = example_titles()  # read once: they are installed files
        self.aboutToShow.connect(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        self.clear()
        self.recent_actions: list[QAction] = []  # most recent first
        self.example_actions: list[QAction] = []  # in the teaching text's order
        paths = settings.recent_files()
        for k, path in enumerate(paths, 1):
            # &1 … &9 and &0 for the tenth give each entry a key; && shows a literal & in a name.
            text = f"&{k % 10} {path.name.replace('&', '&&')}"
            action = self.addAction(text, lambda p=path: self._open_path(p))
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            self.recent_actions.append(action)
        if not paths:
            self.addAction("No recent files").setEnabled(False)
        self.addSeparator()
        clear = self.addAction("&Clear Recent", self._clear)
        clear.setEnabled(bool(paths))
        self.addSeparator()
        header = self.addAction(EXAMPLES_HEADER)  # a header, not a command: Fusion draws sections as bare lines
        header.setEnabled(False)
        font = header.font()
        font.setBold(True)
        header.setFont(font)
        for name, title, description in self._examples:
            action = self.addAction(title.replace("&", "&&"), lambda n=name: self._open_example(n))
            action.setToolTip(description)
            action.setStatusTip(description)
            self.example_actions.append(action)
        self.setToolTipsVisible(True)
        self.setEnabled(True)

    def _clear(self) -> None:
        settings.clear_recent_files()
        self.rebuild()
