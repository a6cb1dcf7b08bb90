"""Zoomed out past readability the canvas shows an overview: boxes without ports or shape labels."""

from __future__ import annotations

from netbuilder.model.edits import SetParams
from ui.canvas.items import DETAIL_ZOOM


def _zoom_to(win, qtbot, scale: float) -> None:
    win.view.resetTransform()
    win.view.scale(scale, scale)
    win.view.viewport().repaint()
    qtbot.wait(10)


def test_zooming_out_hides_ports_and_labels_and_zooming_in_brings_them_back(window, qtbot):
    win = window("mnist_cnn")
    ports = [p for item in win.scene.node_items.values() for p in item.ports.values()]
    labels = [w.label for w in win.scene.wire_items.values()]
    _zoom_to(win, qtbot, DETAIL_ZOOM / 2)
    assert not win.scene.detailed
    assert not any(p.isVisible() for p in ports) and not any(label.isVisible() for label in labels)
    overview = win.view.viewport().grab().toImage()
    _zoom_to(win, qtbot, 1.0)
    assert win.scene.detailed
    assert all(p.isVisible() for p in ports) and all(label.isVisible() for label in labels)
    assert win.view.viewport().grab().toImage() != overview


def test_an_edit_made_in_the_overview_shows_its_labels_on_zooming_in(window, qtbot):
    win = window("mnist_cnn")
    fc = next(n for n in win.document.project.graph if n.kind == "Linear")
    _zoom_to(win, qtbot, DETAIL_ZOOM / 2)
    win.document.push(SetParams(fc.id, {"out_features": 77}))
    _zoom_to(win, qtbot, 1.0)
    out_wire = next(w for e, w in win.scene.wire_items.items() if e.src == fc.id)
    assert out_wire.label.isVisible() and "77" in out_wire.label.text()


def test_a_port_added_in_the_overview_stays_hidden_until_zooming_in(window, qtbot):
    win = window("mnist_cnn")
    _zoom_to(win, qtbot, DETAIL_ZOOM / 2)
    node_id = win.scene.add_layer("Add", win.view.mapToScene(win.view.viewport().rect().center()))
    item = win.scene.node_items[node_id]
    assert item.ports and not any(p.isVisible() for p in item.ports.values())
    _zoom_to(win, qtbot, 1.0)
    assert all(p.isVisible() for p in item.ports.values())


def _pixel_at(win, scene_point):
    """The colour the viewport shows at a scene point."""
    image = win.view.viewport().grab().toImage()
    at = win.view.mapFromScene(scene_point)
    return image.pixelColor(at.x(), at.y())


def test_the_overview_shows_every_box_in_its_colour_and_follows_moves_and_selection(window, qtbot):
    from netbuilder.model.edits import Move

    win = window("mnist_cnn")
    _zoom_to(win, qtbot, DETAIL_ZOOM / 2)
    for item in win.scene.node_items.values():  # each box, drawn in one go by the overview, in its colour
        assert _pixel_at(win, item.body_rect().center()) == item._overview_colour, item.node.name
    item = next(iter(win.scene.node_items.values()))
    old_centre = item.body_rect().center()
    win.document.push(Move({item.node_id: (item.pos().x(), item.pos().y() - 400)}))
    win.view.viewport().repaint()
    assert _pixel_at(win, item.body_rect().center()) == item._overview_colour  # drawn where it went
    assert _pixel_at(win, old_centre) != item._overview_colour  # and no longer where it was
    item.setSelected(True)
    win.view.viewport().repaint()
    image = win.view.viewport().grab().toImage()
    top_left = win.view.mapFromScene(item.body_rect().topLeft())
    around = [image.pixelColor(top_left.x() + dx, top_left.y() + dy) for dx in range(-1, 3) for dy in range(-1, 3)]
    # The selection outline, amber (#ffca28) blended by antialiasing: no box or background is near it.
    assert any(c.red() >= 0xd0 and c.green() >= 0xa0 and c.blue() <= 0x90 for c in around), [c.name() for c in around]


def test_zoomed_out_a_box_is_still_clicked_and_dragged(window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    win = window("mnist_cnn")
    _zoom_to(win, qtbot, DETAIL_ZOOM / 2)
    item = next(iter(win.scene.node_items.values()))
    at = win.view.mapFromScene(item.body_rect().center())
    QTest.mouseClick(win.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    assert win.scene.selectedItems() == [item]
    before = item.pos()
    QTest.mousePress(win.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    for step in range(1, 6):
        QTest.mouseMove(win.view.viewport(), at + type(at)(0, 12 * step))
    QTest.mouseRelease(win.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       at + type(at)(0, 60))
    assert item.pos().y() > before.y() + 60  # 60 px at this zoom is well over 100 scene units
    assert tuple(item.node.position) == (item.pos().x(), item.pos().y())
