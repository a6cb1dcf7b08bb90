"""View ▸ <dock>: bring a dock to the front, or close it when it is in front.

Qt's own ``QDockWidget.toggleViewAction`` is checked while the dock is open, tabbed behind another or not,
so choosing View ▸ Summary with the Runs tab in front closed the Summary instead of showing it. This action
shows and raises a dock that is closed or behind a tab, and closes one the user is looking at; its check
mark still says whether the dock is open.
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QWidget


def in_front(dock: QDockWidget) -> bool:
    """Whether ``dock`` is open and on screen: not closed, not a tab behind another."""
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


def dock_view_action(dock: QDockWidget, parent: QWidget) -> QAction:
    """The View menu's entry for ``dock`` (see the module's text)."""
    qt_own = dock.toggleViewAction()
    action = QAction(qt_own.text(), parent)
    action.setCheckable(True)
    action.setChecked(qt_own.isChecked())
    action.setStatusTip(f"Show the {dock.windowTitle().split(' (')[0]} panel in front, or close it when it is")
    qt_own.toggled.connect(action.setChecked)
    qt_own.changed.connect(lambda: action.setText(qt_own.text()))  # a title like "Problems (2 errors)"

    def chosen(_checked: bool) -> None:
        if in_front(dock):
            dock.close()
        else:
            dock.show()
            dock.raise_()
        action.setChecked(qt_own.isChecked())

    action.triggered.connect(chosen)
    return action
