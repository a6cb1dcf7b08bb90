"""The palette's search ranks as the quick-add does, and each entry shows its category's icon and its doc line."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from netbuilder.layers import CATALOG, CATEGORIES
from netbuilder.layers.search import search_kinds
from ui.docks.palette import category_icon, doc_colour, icon_colour
from ui.theme import apply_theme


@pytest.mark.parametrize(("typed", "first"), [("relu", ["ReLU", "ReLU6", "LeakyReLU", "PReLU"]), ("dense", ["Linear"]),
                                              ("fc", ["Linear"]), ("bn", ["BatchNorm1d", "BatchNorm2d"]),
                                              ("Conv2D", ["Conv2d"]), ("MaxPooling2D", ["MaxPool2d"]),
                                              ("conv", ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d"])])
def test_palette_and_quick_add_list_the_same_kinds_in_the_same_order(window, typed, first) -> None:
    win = window()
    win.palette.search.setFocus()
    QTest.keyClicks(win.palette.search, typed)
    shown = win.palette.shown_kinds()
    assert shown[:len(first)] == first and shown == search_kinds(typed)
    win.view.setFocus()
    QTest.keyClick(win.view, Qt.Key.Key_Tab)
    popup = win.edit_actions.quick_add.popup
    QTest.keyClicks(popup.search, typed)
    assert popup.kinds() == shown
    QTest.keyClick(popup.search, Qt.Key.Key_Escape)


def test_relu_shows_nothing_unrelated_and_clearing_brings_the_categories_back(window) -> None:
    win = window()
    win.palette.search.setText("relu")
    assert win.palette.shown_kinds() == ["ReLU", "ReLU6", "LeakyReLU", "PReLU"]
    win.palette.search.setText("")
    assert win.palette.shown_kinds() == list_by_category()
    win.palette.search.setText("qqqq")
    assert win.palette.shown_kinds() == [] and not win.palette.tree.matches.isHidden()
    assert win.palette.tree.matches.text(0) == "No layer matches"


def list_by_category() -> list[str]:
    return [k for c in CATEGORIES for k, s in CATALOG.items() if s.category == c]


def test_enter_in_the_search_adds_the_best_match_and_a_match_drags_and_double_clicks(window) -> None:
    win = window()
    graph = win.document.project.graph
    win.palette.search.setFocus()
    QTest.keyClicks(win.palette.search, "dense")
    QTest.keyClick(win.palette.search, Qt.Key.Key_Return)
    assert [n.kind for n in graph][-1] == "Linear" and win.document.undo_stack.count() == 1
    match = win.palette.tree.matches.child(0)
    win.palette.tree.itemDoubleClicked.emit(match, 0)
    assert [n.kind for n in graph][-2:] == ["Linear", "Linear"]


def test_each_entry_has_its_category_icon_and_its_doc_line(window, tmp_path) -> None:
    win = window()
    win.palette.search.setText("conv")
    tree = win.palette.tree
    entry = tree.matches.child(0)
    icon = entry.icon(0)
    assert isinstance(icon, QIcon) and not icon.isNull()
    image = icon.pixmap(18, 18).toImage()
    seen = {image.pixelColor(x, y).rgba() for x in range(18) for y in range(18)}
    assert icon_colour("Convolution").rgba() in seen and QColor("white").rgba() in seen  # a white picture on colour
    conv, pool = (tree.icons[c].pixmap(18, 18).toImage().pixelColor(3, 9) for c in ("Convolution", "Normalisation"))
    assert conv != pool  # categories differ at a glance
    assert CATALOG["Conv1d"].doc in entry.toolTip(0)
    # The doc line is drawn under the name: the row is two lines high, and the text shows in a grab.
    rect = tree.visualItemRect(entry)
    assert rect.height() >= 2 * tree.fontMetrics().lineSpacing()
    win.palette.resize(320, 600)
    win.palette.grab().save(str(tmp_path / "palette.png"))


def _luminance(colour: QColor) -> float:
    def channel(v: int) -> float:
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.red()) + 0.7152 * channel(colour.green()) + 0.0722 * channel(colour.blue())


def _contrast(a: QColor, b: QColor) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_icons_letters_and_the_doc_lines_pass_wcag_aa(window, theme) -> None:
    win = window()
    apply_theme(theme)
    QApplication.processEvents()  # widgets hear of the new palette through posted events
    for category in CATEGORIES:
        assert _contrast(icon_colour(category), QColor("white")) >= 4.5, category
    palette = win.palette.tree.palette()
    base = palette.color(QPalette.ColorRole.Base)
    assert _contrast(doc_colour(palette), base) >= 4.5
    assert (base.lightness() < 128) == (theme == "dark")  # the theme took


def test_every_category_has_its_picture_from_the_icon_set(window) -> None:
    from ui.docks.palette import CATEGORY_GLYPHS
    from ui.icons import charmap

    window()
    assert set(CATEGORY_GLYPHS) == set(CATEGORIES)  # a new category needs its picture
    assert all(charmap().get(CATEGORY_GLYPHS[c]) for c in CATEGORIES)
    # The pictures differ: no two categories' marks are the same image.
    images = {c: category_icon(c).pixmap(18, 18).toImage() for c in CATEGORIES}
    assert len({bytes(img.constBits()) for img in images.values()}) == len(CATEGORIES)
