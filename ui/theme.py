"""Light and dark themes on Qt's Fusion style; ``system`` follows the platform's colour scheme.

Fusion looks the same on every platform and takes a whole QPalette, so both themes are plain
palettes. :data:`notifier` emits ``changed`` after a theme is applied, for what paints its own
colours (the canvas: :func:`canvas_colours`, :func:`canvas_background`, :func:`wire_colour` and the like).

Every text colour here passes WCAG 2.x AA (a contrast ratio of at least 4.5:1) on the background it
is drawn on, in both themes: :func:`canvas_text_pairs` and :func:`panel_text_pairs` list those pairs
and tests/ui/test_contrast.py holds each to :func:`contrast_ratio`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QActionGroup, QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QStyleFactory, QWidget

from ui import settings

AA_CONTRAST = 4.5  # WCAG 2.x success criterion 1.4.3, level AA, for normal-size text
LIGHT_CANVAS = QColor("#eceff1")
DARK_CANVAS = QColor("#1e2327")
LIGHT_WIRE_LABEL = QColor("#37474f")
DARK_WIRE_LABEL = QColor("#b0bec5")
LIGHT_WIRE = QColor("#546e7a")
DARK_WIRE = QColor("#90a4ae")
LABELS = {"system": "&System", "light": "&Light", "dark": "&Dark"}
# Node headers by layer category: dark enough for white titles (>= 4.5:1) in both themes.
HEADER_COLOURS = {
    "Input / Output": "#3949ab", "Core": "#00796b", "Reshape": "#6d4c41", "Regularisation": "#546e7a",
    "Convolution": "#1565c0", "Pooling": "#00727f", "Normalisation": "#7b1fa2", "Recurrent": "#c43e00",
    "Attention": "#ad1457", "Activation": "#2e7d32", "Merge": "#a15c00",
}
OTHER_HEADER = "#546e7a"  # a category without its own colour


def relative_luminance(colour: QColor) -> float:
    """WCAG 2.x relative luminance of an opaque sRGB colour (0 black .. 1 white)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(colour.red()) + 0.7152 * linear(colour.green()) + 0.0722 * linear(colour.blue())


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2.x contrast ratio of two colours, 1 (none) to 21 (black on white)."""
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@dataclass(frozen=True)
class CanvasColours:
    """What the canvas paints in one theme. A ``*_text`` colour is drawn on the background named beside it
    (see :func:`canvas_text_pairs`)."""

    background: QColor
    wire: QColor
    wire_label: QColor  # on ``background``
    node_body: QColor
    node_border: QColor
    node_text: QColor  # the output shape, on ``node_body``
    port_text: QColor  # input port names, on ``node_body``
    problem_body: QColor
    problem_text: QColor  # on ``problem_body``
    header_text: QColor  # titles and kinds, on every header colour
    port_fill: QColor
    port_border: QColor
    hover_label_back: QColor  # behind a wire's label shown on hover over a node
    headers: dict[str, QColor] = field(default_factory=dict)

    def header(self, category: str) -> QColor:
        """The header colour of a layer category."""
        return self.headers.get(category) or self.headers["other"]


def _headers() -> dict[str, QColor]:
    return {**{k: QColor(v) for k, v in HEADER_COLOURS.items()}, "other": QColor(OTHER_HEADER)}


LIGHT_COLOURS = CanvasColours(
    background=LIGHT_CANVAS, wire=LIGHT_WIRE, wire_label=LIGHT_WIRE_LABEL, node_body=QColor("#fafafa"),
    node_border=QColor("#546e7a"), node_text=QColor("#263238"), port_text=QColor("#455a64"),
    problem_body=QColor("#ffebee"), problem_text=QColor("#b71c1c"), header_text=QColor("#ffffff"),
    port_fill=QColor("#fafafa"), port_border=QColor("#212121"), hover_label_back=QColor("#eceff1"),
    headers=_headers())
DARK_COLOURS = CanvasColours(
    background=DARK_CANVAS, wire=DARK_WIRE, wire_label=DARK_WIRE_LABEL, node_body=QColor("#2d3338"),
    node_border=QColor("#78909c"), node_text=QColor("#e6e6e6"), port_text=QColor("#c5ccd1"),
    problem_body=QColor("#3a2326"), problem_text=QColor("#ff8a80"), header_text=QColor("#ffffff"),
    port_fill=QColor("#cfd8dc"), port_border=QColor("#101316"), hover_label_back=QColor("#1e2327"),
    headers=_headers())


def canvas_text_pairs(colours: CanvasColours) -> list[tuple[str, QColor, QColor]]:
    """Every (what, text colour, background) the canvas draws text with in ``colours``' theme."""
    pairs = [("wire label", colours.wire_label, colours.background),
             ("wire label shown on hover", colours.wire_label, colours.hover_label_back),
             ("output shape", colours.node_text, colours.node_body),
             ("input port name", colours.port_text, colours.node_body),
             ("problem", colours.problem_text, colours.problem_body),
             ("input port name on a node with a problem", colours.port_text, colours.problem_body)]
    pairs += [(f"title on a {name} header", colours.header_text, colour) for name, colour in colours.headers.items()]
    return pairs


# Text roles and the backgrounds Qt's widgets draw them on (a line edit's Text on Base, a button's
# ButtonText on Button, a selected row's HighlightedText on Highlight, ...).
PANEL_TEXT_ROLES = [
    (QPalette.ColorRole.WindowText, QPalette.ColorRole.Window), (QPalette.ColorRole.Text, QPalette.ColorRole.Base),
    (QPalette.ColorRole.Text, QPalette.ColorRole.AlternateBase), (QPalette.ColorRole.Text, QPalette.ColorRole.Window),
    (QPalette.ColorRole.ButtonText, QPalette.ColorRole.Button),
    (QPalette.ColorRole.ToolTipText, QPalette.ColorRole.ToolTipBase),
    (QPalette.ColorRole.HighlightedText, QPalette.ColorRole.Highlight),
    (QPalette.ColorRole.PlaceholderText, QPalette.ColorRole.Base),
    (QPalette.ColorRole.Link, QPalette.ColorRole.Base), (QPalette.ColorRole.LinkVisited, QPalette.ColorRole.Base),
    (QPalette.ColorRole.Link, QPalette.ColorRole.Window),
]


def panel_text_pairs(palette: QPalette) -> list[tuple[str, QColor, QColor]]:
    """Every (what, text colour, background) of ``palette`` that Qt's widgets draw text with.

    The Disabled group is left out: WCAG 1.4.3 sets no contrast for inactive controls, and their text
    reads greyed out on purpose.
    """
    pairs = []
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        for text, back in PANEL_TEXT_ROLES:
            pairs.append((f"{group.name} {text.name} on {back.name}", palette.color(group, text),
                          palette.color(group, back)))
    dark = relative_luminance(palette.color(QPalette.ColorRole.Window)) < 0.2
    for name, (light_tone, dark_tone) in TONES.items():
        for back in (QPalette.ColorRole.Window, QPalette.ColorRole.Base, QPalette.ColorRole.AlternateBase):
            pairs.append((f"{name} message on {back.name}", QColor(dark_tone if dark else light_tone),
                          palette.color(back)))
    return pairs


class ThemeNotifier(QObject):
    """Emits ``changed`` after the palette changed (a menu choice or the system's scheme)."""

    changed = Signal()


notifier = ThemeNotifier()
_state = {"choice": "system", "listening": False}


# Message colours on panels, light and dark: a refused value's reason or a data problem (error), a note
# that the graph changed since a run began (warning), a layer's doc line or category (hint). Each reads
# at AA on its theme's Window, Base and AlternateBase colours (tests/ui/test_contrast.py).
TONES = {"error": ("#c62828", "#ff8a80"), "warning": ("#9a3412", "#fdba74"), "hint": ("#4e5f68", "#b0bec5")}


def tone(name: str) -> QColor:
    """A message colour (``error``, ``warning``, ``hint``) in the theme in use now."""
    light, dark = TONES[name]
    return QColor(dark if is_dark() else light)


class _ToneKeeper(QObject):
    """A child of the tinted widget: re-applies its style sheet on a theme change, and dies with it."""

    def __init__(self, widget: QWidget, name: str, template: str) -> None:
        super().__init__(widget)
        self._widget, self._name, self._template = widget, name, template
        notifier.changed.connect(self.apply)
        self.apply()

    def apply(self) -> None:
        self._widget.setStyleSheet(self._template.replace("{colour}", tone(self._name).name()))


def use_tone(widget: QWidget, name: str | None, template: str = "color: {colour};") -> None:
    """Styles ``widget`` with message colour ``name`` through ``template`` now and after every theme change;
    ``None`` takes the tone off (the widget's style sheet emptied)."""
    for keeper in widget.findChildren(_ToneKeeper):
        notifier.changed.disconnect(keeper.apply)
        keeper.setParent(None)
        keeper.deleteLater()
    if name is None:
        widget.setStyleSheet("")
        return
    _ToneKeeper(widget, name, template)


def _dark_palette() -> QPalette:
    p = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#2b2f33", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#202326", QPalette.ColorRole.AlternateBase: "#2b2f33",
        QPalette.ColorRole.ToolTipBase: "#3a3f44", QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.PlaceholderText: "#8f959a", QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#33383d", QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.BrightText: "#ff6b6b", QPalette.ColorRole.Light: "#454a50",
        QPalette.ColorRole.Midlight: "#3a3f44", QPalette.ColorRole.Mid: "#2a2e32",
        QPalette.ColorRole.Dark: "#1a1d20", QPalette.ColorRole.Shadow: "#000000",
        QPalette.ColorRole.Highlight: "#2f6eb0", QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#6ab0f3", QPalette.ColorRole.LinkVisited: "#b39ddb",
    }
    for role, colour in colours.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7f84"))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Highlight, QColor("#4a4f54"))
    return p


def _light_palette(standard: QPalette) -> QPalette:
    """Fusion's own light palette, with the text colours it draws below AA made darker: white on its
    selection blue (3.7:1), the half-transparent placeholder text (3.9:1 on white) and visited links
    (magenta, 3.1:1)."""
    p = QPalette(standard)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        p.setColor(group, QPalette.ColorRole.Highlight, QColor("#2a6fb0"))
        p.setColor(group, QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
        p.setColor(group, QPalette.ColorRole.PlaceholderText, QColor("#6b6b6b"))
        p.setColor(group, QPalette.ColorRole.LinkVisited, QColor("#7b1fa2"))
    return p


def system_is_dark() -> bool:
    """Whether the platform asks for dark colours (Unknown, e.g. offscreen, counts as light)."""
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def is_dark() -> bool:
    """Whether the theme in use now is dark."""
    choice = _state["choice"]
    return choice == "dark" or (choice == "system" and system_is_dark())


def canvas_colours() -> CanvasColours:
    """The canvas's colours in the theme in use."""
    return DARK_COLOURS if is_dark() else LIGHT_COLOURS


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
    app.setPalette(_dark_palette() if is_dark() else _light_palette(app.style().standardPalette()))
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
