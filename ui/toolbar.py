"""The main toolbar: New, Open, Save | Undo, Redo | Arrange, Frame All | Train, Pause, Stop | Export.

It holds the menus' own QActions (one action, two places: a key, a tooltip or an enabled state
changed in one shows in the other). The icons are Material Design Icons from qtawesome's font
(ui/icons.py), drawn in the palette's text colour at each paint, so they read on the light and
the dark theme alike. The icon goes on the action, so the menus show it too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar, QToolButton, QWidget

from ui.icons import themed_icon

# A toolbar entry: the action, its icon's name (qtawesome's spelling), and whether its text shows beside the
# icon (icons everyone knows, New, Open, Save, Undo, Redo, go alone); None puts a separator.
ToolbarItem = tuple[QAction, str, bool] | None


def plain_text(action: QAction) -> str:
    """The action's text as a user reads it: no & mnemonic, no key shown after a tab."""
    return action.text().split("\t")[0].replace("&&", "\0").replace("&", "").replace("\0", "&")


class MainToolBar(QToolBar):
    """The window's toolbar, holding the menus' ``items``; object name ``MainToolBar`` for saveState.

    Parameters
    ----------
    items:
        The actions in order, each with its qtawesome icon name and whether its text shows; ``None``
        for a separator. An action with a menu (File ▸ Export) becomes a button that opens the menu.
    own_tooltips:
        Actions that word their own tooltip (Train says why it cannot start); the others get their
        text and key ("Undo Add Linear (Ctrl+Z)"), kept up to date as the text changes.
    """

    def __init__(self, items: Sequence[ToolbarItem], own_tooltips: Iterable[QAction] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__("Toolbar", parent)
        self.setObjectName("MainToolBar")  # saveState/restoreState find it by this name
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        keep = set(own_tooltips)
        for item in items:
            if item is None:
                self.addSeparator()
                continue
            action, icon, with_text = item
            action.setIcon(themed_icon(icon))
            self.addAction(action)
            button = self.widgetForAction(action)
            if isinstance(button, QToolButton):
                if action.menu() is not None:
                    button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
                if with_text:
                    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            if action.menu() is None and action not in keep:
                action.changed.connect(lambda a=action: self._tooltip(a))
                self._tooltip(action)

    def actions_shown(self) -> list[QAction]:
        """The actions on the toolbar, in order (separators left out)."""
        return [a for a in self.actions() if not a.isSeparator()]

    @staticmethod
    def _tooltip(action: QAction) -> None:
        """The tooltip names the action as the menu does now ("Undo Add Linear") and its key."""
        text = plain_text(action)
        key = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        wanted = f"{text} ({key})" if key else text
        if action.toolTip() != wanted:
            action.setToolTip(wanted)  # emits changed once more, which then finds nothing to do


def export_button_action(menu: QMenu) -> QAction:
    """File ▸ Export's own menu action, for a toolbar button that opens the menu."""
    action = menu.menuAction()
    action.setToolTip("Export the model: ONNX, PyTorch code or weights")
    return action
