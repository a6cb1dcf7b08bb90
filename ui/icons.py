"""Icons from Material Design Icons 6 (Apache 2.0), as the qtawesome package ships them, in the theme's colours.

The glyphs are drawn from qtawesome's own font and charmap files, the way qtawesome's painter
draws them (a font glyph 7/8 of the icon's height, centred), but without importing qtawesome:
its ``import`` brings in QtPy, whose star imports of PySide6 made every class of QtCore, QtGui
and QtWidgets and cost about 0.4 s before the first paint here (measured with
``python -X importtime``; ui/startup.py keeps the first paint fast). Finding the package's files
(``importlib.util.find_spec``) runs none of its code.

An icon reads the palette each time it is painted (text colour; the disabled text colour when
its action is disabled; the highlighted text colour in a highlighted menu entry), so a theme
change recolours every icon without making it again.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QIcon, QIconEngine, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication

FONT_FILES = "materialdesignicons6-webfont-*.ttf"  # 6.9.96 in qtawesome 1.4; the charmap is named alike
PREFIX = "mdi6."  # qtawesome's name for this set: "mdi6.content-save-outline"
GLYPH_SCALE = 0.875  # qtawesome's: the glyph's em is 7/8 of the icon's height


class IconSetMissing(RuntimeError):
    """qtawesome (the package that ships the icon font) is not installed."""


@cache
def font_file() -> Path:
    """Material Design Icons 6's font in qtawesome's fonts folder, found without importing qtawesome."""
    spec = importlib.util.find_spec("qtawesome")
    if spec is None or not spec.submodule_search_locations:
        raise IconSetMissing("the icons come from the qtawesome package: pip install 'netbuilder[gui]'")
    found = sorted((Path(next(iter(spec.submodule_search_locations))) / "fonts").glob(FONT_FILES))
    if not found:
        raise IconSetMissing(f"this qtawesome ships no {FONT_FILES}: install the version in constraints.txt")
    return found[-1]


@cache
def charmap() -> dict[str, int]:
    """Every icon name of the set (without the ``mdi6.`` prefix) and its code point."""
    font = font_file()
    charmap_file = font.with_name(font.name.replace("-webfont-", "-webfont-charmap-")).with_suffix(".json")
    names = json.loads(charmap_file.read_text(encoding="utf-8"))
    return {name: int(code, 16) for name, code in names.items()}


@cache
def font_family() -> str:
    """The icon font's family, loaded into the application once."""
    font_id = QFontDatabase.addApplicationFont(str(font_file()))
    families = QFontDatabase.applicationFontFamilies(font_id)
    if not families:
        raise IconSetMissing(f"Qt could not load the icon font {font_file()}")
    return families[0]


def icon_colour(mode: QIcon.Mode, palette: QPalette | None = None) -> QColor:
    """The colour an icon is drawn in, in ``mode``, from ``palette`` (default: the application's)."""
    palette = palette or QApplication.palette()
    if mode == QIcon.Mode.Disabled:
        return palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText)
    if mode == QIcon.Mode.Selected:
        return palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.HighlightedText)
    return palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.ButtonText)


class GlyphIconEngine(QIconEngine):
    """Paints one glyph of the icon font in the palette's colour for the icon's mode."""

    def __init__(self, code: int) -> None:
        super().__init__()
        self._char = chr(code)

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        font = QFont(font_family())
        font.setPixelSize(max(1, round(GLYPH_SCALE * rect.height())))
        painter.save()
        painter.setFont(font)
        painter.setPen(icon_colour(mode))
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), self._char)
        painter.restore()

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:
        # Drawn at the screen's pixel size (a 200 % screen gets a sharp glyph, not a blown-up one).
        pixmap = QPixmap(size * scale)
        pixmap.setDevicePixelRatio(scale)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        self.paint(painter, QRect(QPoint(0, 0), size), mode, state)
        painter.end()
        return pixmap

    def clone(self) -> GlyphIconEngine:
        return GlyphIconEngine(ord(self._char))


def themed_icon(name: str) -> QIcon:
    """The icon ``name`` of Material Design Icons 6 (qtawesome's spelling, ``mdi6.undo``), in the theme's colours."""
    if not name.startswith(PREFIX) or name[len(PREFIX):] not in charmap():
        raise KeyError(f"no icon {name!r} in Material Design Icons 6 (names as qtawesome spells them: mdi6.undo)")
    return QIcon(GlyphIconEngine(charmap()[name[len(PREFIX):]]))


def app_icon() -> QIcon:
    """The app's own icon (resources/icons, installed as netbuilder_resources): windows and the task bar."""
    from importlib import resources

    icons = resources.files("netbuilder_resources").joinpath("icons")
    icon = QIcon()
    for name in ("netbuilder.svg", "netbuilder.png"):
        icon.addFile(str(icons.joinpath(name)))
    return icon
