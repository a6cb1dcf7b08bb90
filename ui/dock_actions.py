"""View ▸ <dock>: bring a dock to the front, or close it when it is in front.

Qt's own ``QDockWidget.toggleViewAction`` is checked while the dock is open, tabbed behind another or not,
so choosing View ▸ Summary with the Runs tab in front closed the Summary instead of showing it. This action
shows and raises a dock that is closed or behind a tab, and closes one the user is looking at; its check
mark still says whether the dock is open.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QWidget


def in_front(dock: QDockWidget) -> bool:
    """Whether ``dock`` is open and on screen: not closed, not a tab behind another."""
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


class _DockViewAction(QAction):
    """Follows the dock's own action's title ("Problems (2 errors)"). A method, not a lambda: a slot of the
    action itself is disconnected when the action is deleted, where a lambda outlived it and raised
    "Internal C++ object already deleted" each time the dock's title changed while a window closed; and the
    dock's own action, deleted with its dock, is not read once it is gone."""

    def __init__(self, qt_own: QAction, parent: QWidget) -> None:
        super().__init__(qt_own.text(), parent)
        self._qt_own = qt_own
        qt_own.changed.connect(self._follow_title)

    def _follow_title(self) -> None:
        if shiboken6.isValid(self._qt_own):  # the dock's own action says it changed as a closing window deletes it
            self.setText(self._qt_own.text())


def dock_view_action(dock: QDockWidget, parent: QWidget) -> QAction:
    """The View menu's entry for ``dock`` (see the module's text)."""
    qt_own = dock.toggleViewAction()
    action = _DockViewAction(qt_own, parent)
    action.setCheckable(True)
    action.setChecked(qt_own.isChecked())
    action.setStatusTip(f"Show the {dock.windowTitle().split(' (')[0]} panel in front, or close it when it is")
    qt_own.toggled.connect(action.setChecked)

    def chosen(_checked: bool) -> None:
        if in_front(dock):
            dock.close()
        else:
            dock.show()
            dock.raise_()
        action.setChecked(qt_own.isChecked())

    action.triggered.connect(chosen)
    return action
