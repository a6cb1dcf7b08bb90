"""The Help menu: Keyboard Shortcuts, User Guide (F1), About netbuilder."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow, QMenu

from ui.help.about import show_about
from ui.help.shortcut_sheet import ShortcutSheet
from ui.help.user_guide import UserGuideDialog
from ui.shortcuts import action_keys


class HelpMenu(QMenu):
    """Help, for ``window``; each dialog is made when first asked for and kept (not modal) for the next time.

    The About box reads the device setting from ``window.document`` when it opens.
    """

    def __init__(self, window: QMainWindow) -> None:
        super().__init__("&Help", window)
        self._window = window
        self.sheet: ShortcutSheet | None = None
        self.guide: UserGuideDialog | None = None
        self.shortcuts_action = self.addAction("&Keyboard Shortcuts", self.show_shortcuts)
        self.guide_action = self.addAction("&User Guide", self.show_guide)
        self.guide_action.setShortcuts(action_keys("User Guide"))
        window.addAction(self.guide_action)  # F1 works before the menu has been opened
        self.addSeparator()
        self.about_action = self.addAction("&About netbuilder", self.show_about)

    def show_shortcuts(self) -> ShortcutSheet:
        if self.sheet is None:
            self.sheet = ShortcutSheet(self._window)
        self.sheet.show()  # rebuilt from the window's actions as it shows
        self.sheet.refresh()  # also when it was open already
        self.sheet.raise_()
        self.sheet.activateWindow()
        return self.sheet

    def show_guide(self) -> UserGuideDialog:
        if self.guide is None:
            self.guide = UserGuideDialog(self._window)
        self.guide.show()
        self.guide.raise_()
        self.guide.activateWindow()
        return self.guide

    def show_about(self):
        document = self._window.document  # type: ignore[attr-defined]
        return show_about(self._window, lambda: str(document.project.training.get("device", "auto")))


def install_help_menu(window: QMainWindow) -> HelpMenu:
    """Append the Help menu to ``window``'s menu bar."""
    menu = HelpMenu(window)
    window.menuBar().addMenu(menu)
    return menu
