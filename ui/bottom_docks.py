"""The bottom docks' height: laid out once when the window first shows, grown once for a first chart (only
while the user has not resized them), and read from the dock in front (a tab behind keeps a stale geometry)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar

from ui.dock_actions import in_front
from ui.fitting_scroll import fitting_height


class BottomDocks:
    """The bottom dock area of ``window``."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self._grown = False  # the bottom docks have made room for a chart once (see tall_enough)
        self._laid_height: int | None = None  # how tall the window laid them out (a different height: the user's)

    def tall_enough(self, dock: QDockWidget) -> None:
        """A first chart or matrix needs room to be read: the bottom docks grow once per window, to what the dock's
        body needs without scrolling (at least a third of the window, at most 45 %), and only while they are as
        tall as the window made them: a height the user gave them stands. A table (the Summary) scrolls instead.
        Whatever the height, the user can drag it back down: every bottom dock scrolls below its body's size."""
        window = self.window
        if dock.isFloating() or self._grown:
            return
        self._grown = True
        now = self.area_height()
        if self._laid_height is not None and now is not None and abs(now - self._laid_height) > 20:
            return  # the user has dragged the splitter since the window laid the docks out
        wanted = min(int(window.height() * 0.45), max(window.height() // 3, fitting_height(dock)))
        if dock.height() < wanted:
            self.resize(dock, wanted)

    def resize(self, dock: QDockWidget, height: int) -> None:
        """Make the bottom docks ``height`` tall (the dock itself: resizeDocks sizes the area, tab bar included)."""
        window = self.window
        bars = [bar for bar in window.findChildren(QTabBar) if bar.parent() is window and bar.isVisible()
                and any(bar.tabText(i) == dock.windowTitle() for i in range(bar.count()))]
        window.resizeDocks([dock], [height + (bars[0].height() if bars else 0)], Qt.Orientation.Vertical)

    def area_height(self) -> int | None:
        """How tall the bottom docks are: the one in front's height (a tab behind keeps a stale geometry)."""
        window = self.window
        docked = [d for d in window.findChildren(QDockWidget) if d.parent() is window and not d.isFloating()
                  and window.dockWidgetArea(d) == Qt.DockWidgetArea.BottomDockWidgetArea and in_front(d)]
        return max((d.height() for d in docked), default=None)

    def note_height(self) -> None:
        """Remember the height the window laid the docks out at (once it has settled after showing)."""
        self._laid_height = self.area_height()
