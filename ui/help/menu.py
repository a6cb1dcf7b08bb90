"""The Help menu: Keyboard Shortcuts, User Guide (F1), About netbuilder."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox

from ui.help.about import show_about
from ui.help.shortcut_sheet import ShortcutSheet
from ui.help.user_guide import UserGuideDialog
from ui.shortcuts import action_keys


class HelpMenu(QMenu):
    """Help, for ``window`` (whose actions the shortcut sheet lists); each dialog is made when first asked for
    and kept (not modal) for the next time. ``device_setting`` gives the open project's Device setting, for About.
    """

    def __init__(self, window: QMainWindow, device_setting: Callable[[], str]) -> None:
        super().__init__("&Help", window)
        self._window = window
        self._device_setting = device_setting
        self.sheet: ShortcutSheet | None = None
        self.guide: UserGuideDialog | None = None
        self.shortcuts_action = self.addAction("&Keyboard Shortcuts", self.show_shortcuts)
        self.shortcuts_action.setShortcuts(action_keys("Keyboard Shortcuts"))
        window.addAction(self.shortcuts_action)
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

    def show_about(self) -> QMessageBox:
        return show_about(self._window, self._device_setting)


def install_help_menu(window: QMainWindow, device_setting: Callable[[], str]) -> HelpMenu:
    """Append the Help menu to ``window``'s menu bar."""
    menu = HelpMenu(window, device_setting)
    window.menuBar().addMenu(menu)
    return menu
