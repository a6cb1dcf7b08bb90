"""Light and dark themes on Qt's Fusion style; ``system`` follows the platform's colour scheme.

Fusion looks the same on every platform and takes a whole QPalette, so both themes are plain
palettes. :data:`notifier` emits ``changed`` after a theme is applied, for what paints its own
colours (the canvas: :func:`canvas_background`, :func:`wire_colour` and the like).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QActionGroup, QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QStyleFactory

from ui import settings

LIGHT_CANVAS = QColor("#eceff1")
DARK_CANVAS = QColor("#1e2327")
LIGHT_WIRE_LABEL = QColor("#37474f")
DARK_WIRE_LABEL = QColor("#b0bec5")
LIGHT_WIRE = QColor("#546e7a")
DARK_WIRE = QColor("#90a4ae")
LABELS = {"system": "&System", "light": "&Light", "dark": "&Dark"}


class ThemeNotifier(QObject):
    """Emits ``changed`` after the palette changed (a menu choice or the system's scheme)."""

    changed = Signal()


notifier = ThemeNotifier()
_state = {"choice": "system", "listening": False}


def _dark_palette() -> QPalette:
    p = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#2b2f33", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#202326", QPalette.ColorRole.AlternateBase: "#2b2f33",
        QPalette.ColorRole.ToolTipBase: "#3a3f44", QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.PlaceholderText: "#8a8f94", QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#33383d", QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.BrightText: "#ff6b6b", QPalette.ColorRole.Light: "#454a50",
        QPalette.ColorRole.Midlight: "#3a3f44", QPalette.ColorRole.Mid: "#2a2e32",
        QPalette.ColorRole.Dark: "#1a1d20", QPalette.ColorRole.Shadow: "#000000",
        QPalette.ColorRole.Highlight: "#3d7fc4", QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#6ab0f3", QPalette.ColorRole.LinkVisited: "#b39ddb",
    }
    for role, colour in colours.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7f84"))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Highlight, QColor("#4a4f54"))
    return p


def system_is_dark() -> bool:
    """Whether the platform asks for dark colours (Unknown, e.g. offscreen, counts as light)."""
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def is_dark() -> bool:
    """Whether the theme in use now is dark."""
    choice = _state["choice"]
    return choice == "dark" or (choice == "system" and system_is_dark())


def canvas_background() -> QColor:
    """The canvas scene's background colour for the theme in use."""
    return QColor(DARK_CANVAS if is_dark() else LIGHT_CANVAS)


def wire_label_colour() -> QColor:
    """The colour of the shape labels on wires, readable on :func:`canvas_background`."""
    return QColor(DARK_WIRE_LABEL if is_dark() else LIGHT_WIRE_LABEL)


def grid_colour() -> QColor:
    """The canvas grid's lines: a shade off the background."""
    return canvas_background().darker(108) if not is_dark() else canvas_background().lighter(130)


def wire_colour() -> QColor:
    """The colour of a wire that is not selected."""
    return QColor(DARK_WIRE if is_dark() else LIGHT_WIRE)


def apply_theme(choice: str) -> None:
    """Use theme ``choice`` (``system``, ``light`` or ``dark``) for the whole application now."""
    app = QApplication.instance()
    assert isinstance(app, QApplication), "a QApplication must exist first"
    _state["choice"] = choice if choice in settings.THEMES else "system"
    if app.style().name().lower() != "fusion":
        app.setStyle(QStyleFactory.create("Fusion"))
    if not _state["listening"]:
        _state["listening"] = True
        QGuiApplication.styleHints().colorSchemeChanged.connect(_system_scheme_changed)
    app.setPalette(_dark_palette() if is_dark() else app.style().standardPalette())
    notifier.changed.emit()


def _system_scheme_changed(*_: object) -> None:
    if _state["choice"] == "system":
        apply_theme("system")


def choose_theme(choice: str) -> None:
    """Apply ``choice`` and remember it for the next start."""
    settings.set_theme(choice)
    apply_theme(choice)


class ThemeMenu(QMenu):
    """View > Theme: System / Light / Dark, checked as chosen; also keeps the window's canvas background in step.

    A QMenu owned by the window, so Qt drops its connection to :data:`notifier` when the window goes.
    """

    def __init__(self, window: QMainWindow) -> None:
        super().__init__("&Theme", window)
        self._window = window
        self._group = QActionGroup(self)
        for name in settings.THEMES:
            action = self.addAction(LABELS[name], lambda n=name: choose_theme(n))
            action.setCheckable(True)
            action.setData(name)
            self._group.addAction(action)
        self.aboutToShow.connect(self.sync)
        notifier.changed.connect(self._theme_changed)
        self.sync()

    def sync(self) -> None:
        """Check the theme in use."""
        for action in self._group.actions():
            action.setChecked(action.data() == _state["choice"])

    def _theme_changed(self) -> None:
        self.sync()
        self._window.scene.restyle()  # a new scene takes the theme's colours when it is made


def install_theme_menu(window: QMainWindow) -> ThemeMenu:
    """Append the Theme submenu to the window's View menu (found by its title, so its owner may reorder it)."""
    view = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "View")
    view.addSeparator()
    menu = ThemeMenu(window)
    view.addMenu(menu)
    return menu
