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
