"""Both themes pass WCAG 2.x AA (4.5:1) for every text on nodes, wires and panels, and the dark theme's
nodes are dark."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from ui import theme
from ui.canvas.items import FOOTER, HEADER
from ui.theme import AA_CONTRAST, DARK_COLOURS, LIGHT_COLOURS, contrast_ratio, relative_luminance

THEMES = {"light": LIGHT_COLOURS, "dark": DARK_COLOURS}


def test_the_contrast_ratio_is_wcags() -> None:
    black, white = QColor("#000000"), QColor("#ffffff")
    assert contrast_ratio(black, white) == pytest.approx(21.0)
    assert contrast_ratio(white, black) == pytest.approx(21.0)
    assert contrast_ratio(QColor("#3949ab"), QColor("#3949ab")) == pytest.approx(1.0)
    # Reference values from WebAIM's contrast checker.
    assert contrast_ratio(QColor("#767676"), white) == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio(QColor("#777777"), white) == pytest.approx(4.48, abs=0.01)
    assert relative_luminance(QColor("#808080")) == pytest.approx(0.2159, abs=1e-4)


@pytest.mark.parametrize("name", THEMES)
def test_every_text_on_the_canvas_passes_aa(name: str) -> None:
    pairs = theme.canvas_text_pairs(THEMES[name])
    assert len(pairs) >= 6 + len(theme.HEADER_COLOURS)
    failing = [(what, text.name(), back.name(), round(contrast_ratio(text, back), 2)) for what, text, back in pairs
               if contrast_ratio(text, back) < AA_CONTRAST]
    assert failing == []


@pytest.mark.parametrize("name", THEMES)
def test_every_text_in_the_panels_passes_aa(qapp, name: str) -> None:
    theme.apply_theme(name)
    pairs = theme.panel_text_pairs(QApplication.palette())
    failing = [(what, text.name(), back.name(), round(contrast_ratio(text, back), 2)) for what, text, back in pairs
               if contrast_ratio(text, back) < AA_CONTRAST]
    assert failing == []


@pytest.mark.parametrize("name", THEMES)
def test_nodes_are_painted_in_the_themes_colours(window, name: str) -> None:
    """The pairs checked above are the ones painted: sample a node's header and body in a grab."""
    win = window("mnist_cnn")
    theme.apply_theme(name)
    win.view.reset_zoom()
    item = win.scene.node_items[win.document.project.graph.by_name("conv1").id]
    win.view.centerOn(item)
    image = win.view.viewport().grab().toImage()

    def at(x: float, y: float) -> QColor:
        return image.pixelColor(win.view.mapFromScene(item.pos() + QPointF(x, y)))

    colours = THEMES[name]
    assert at(4, HEADER * 0.75) == colours.header(item.node.spec.category)
    assert at(4, item.height() - FOOTER / 2) == colours.node_body
    if name == "dark":
        assert relative_luminance(colours.node_body) < 0.05  # no glaring white bodies in the dark
        assert relative_luminance(at(4, item.height() - FOOTER / 2)) < 0.05


def test_message_colours_follow_the_theme_and_no_panel_hard_codes_one(qapp) -> None:
    """A refused value's reason, a run's note and a layer's doc line take the theme's message colours (which
    the panel test above holds at AA), and change with the theme; no widget in ui/ sets a text colour of its own."""
    from pathlib import Path

    from PySide6.QtWidgets import QLabel

    label = QLabel("learning rate must be more than 0")
    theme.apply_theme("light")
    theme.use_tone(label, "error")
    assert theme.TONES["error"][0] in label.styleSheet()
    theme.apply_theme("dark")
    assert theme.TONES["error"][1] in label.styleSheet()
    theme.use_tone(label, None)
    assert label.styleSheet() == ""
    theme.apply_theme("light")
    root = Path(theme.__file__).parent
    literal = [f"{path.relative_to(root)}:{n}" for path in root.rglob("*.py") if path.name != "theme.py"
               for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
               if "color: #" in line or "color:#" in line]
    assert literal == []
