"""Wire labels never sit under a node or another label: each goes where its wire has room, and one that
finds none shows while its wire is hovered."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainterPathStroker
from PySide6.QtWidgets import QGraphicsSceneHoverEvent

from netbuilder.examples import EXAMPLE_NAMES
from netbuilder.model.edits import Move
from netbuilder.model.layout import layered_positions
from tests.ui.test_readable import branching_graph
from ui.canvas.wire_labels import wire_labels_of
from ui.document import Document


def graph_of(nodes: int):
    """A branching graph of at least ``nodes`` nodes, laid out as an ONNX import lays one out (one band)."""
    blocks = 1
    while len(graph := branching_graph(blocks)) < nodes:
        blocks += 1
    for node_id, position in layered_positions(graph).items():
        graph.node(node_id).position = position
    return graph


def show(win, graph=None):
    """``graph`` (or the example) in the window at 100 %, labels placed."""
    if graph is not None:
        win.document.project.graph = graph
        win.set_document(Document(win.document.project))
    win.view.reset_zoom()
    win.view.viewport().repaint()  # labels are placed before a paint
    return win


def node_rects(win) -> list[QRectF]:
    """Each node's box with its ports."""
    return [item.mapRectToScene(item.boundingRect() | item.childrenBoundingRect())
            for item in win.scene.node_items.values()]


def shown_labels(win) -> dict:
    return {wire: wire.label.sceneBoundingRect() for wire in win.scene.wire_items.values() if wire.label.isVisible()}


def overlaps(win) -> list[str]:
    labels = shown_labels(win)
    found = [f"{w.edge} under a node" for w, r in labels.items() if any(r.intersects(n) for n in node_rects(win))]
    found += [f"{a.edge} on {b.edge}" for (a, ra), (b, rb) in itertools.combinations(labels.items(), 2)
              if ra.intersects(rb)]
    # Seen on Xvfb: the steep middle of an S-curve struck through its own "[N, 64]".
    found += [f"{w.edge} struck through by its wire" for w, r in labels.items()
              if _line(w.path()).intersects(r.adjusted(0.5, 0.5, -0.5, -0.5))]
    return found


def _line(path):
    """The wire as drawn: its path stroked as wide as the pen."""
    stroker = QPainterPathStroker()
    stroker.setWidth(2.2)
    return stroker.createStroke(path)


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_on_every_example_every_label_shows_and_none_covers_a_node_or_a_label(window, name: str) -> None:
    win = show(window(name))
    assert overlaps(win) == []
    with_text = [w for w in win.scene.wire_items.values() if w.label.text()]
    assert with_text and all(w.label.isVisible() for w in with_text)  # the examples leave room for all


def test_on_a_200_node_graph_no_label_covers_a_node_or_a_label(window) -> None:
    win = show(window(), graph_of(200))
    assert len(win.scene.node_items) >= 200
    assert overlaps(win) == []
    wires = list(win.scene.wire_items.values())
    shown = [w for w in wires if w.label.isVisible()]
    assert len(shown) >= 0.6 * len(wires), (len(shown), len(wires))  # room is found, not given up on
    # Where a spot no other wire crosses is found, the label takes it (before: 24 of 212 struck through on the
    # 200-node graph, 14 of 188 on ShuffleNet; now 4 and 6, where wires cross everywhere along a short wire).
    assert len(struck_by_other_wires(win)) <= 0.04 * len(shown), struck_by_other_wires(win)


def test_a_label_with_no_room_hides_and_shows_on_hover(window) -> None:
    win = show(window("mnist_cnn"))
    graph = win.document.project.graph
    conv1, relu1 = graph.by_name("conv1"), graph.by_name("relu1")
    x, y = conv1.position
    win.document.push(Move({relu1.id: (x + 200, y)}))  # a wire 20 units long: no room for its shape
    win.view.viewport().repaint()
    wire = next(w for w in win.scene.wire_items.values() if w.edge.src == conv1.id)
    assert wire.label.text() == "[N, 32, 26, 26]" and not wire.label.isVisible()
    assert overlaps(win) == []
    event = QGraphicsSceneHoverEvent()
    wire.hoverEnterEvent(event)
    assert wire.label.isVisible() and wire.toolTip() == "[N, 32, 26, 26]"
    assert wire.zValue() > win.scene.node_items[conv1.id].zValue()  # over the nodes while hovered
    wire.hoverLeaveEvent(event)
    assert not wire.label.isVisible()
    win.document.undo_stack.undo()
    win.view.viewport().repaint()
    assert wire.label.isVisible() and overlaps(win) == []  # room again: shown again


def test_a_node_moved_onto_a_label_pushes_it_aside(window) -> None:
    win = show(window("mnist_cnn"))
    graph = win.document.project.graph
    wire = next(w for w in win.scene.wire_items.values() if w.edge.src == graph.by_name("relu1").id)
    before = wire.label.sceneBoundingRect()
    fc2 = graph.by_name("fc2")
    item = win.scene.node_items[fc2.id]
    # fc2's box with its top just above the label: the label must find another spot or hide.
    win.document.push(Move({fc2.id: (before.center().x() - 90, before.top() - 10)}))
    win.view.viewport().repaint()
    assert item.sceneBoundingRect().intersects(before)
    assert overlaps(win) == []
    assert not wire.label.isVisible() or wire.label.sceneBoundingRect() != before


def test_zoomed_out_nothing_is_placed_and_zooming_in_places_what_changed(window) -> None:
    win = show(window("mnist_cnn"))
    placer = wire_labels_of(win.scene)
    win.view.fit_everything()
    win.view.scale(0.2, 0.2)
    win.view.viewport().repaint()
    assert not win.scene.detailed
    graph = win.document.project.graph
    win.document.push(Move({graph.by_name("relu1").id: (graph.by_name("conv1").position[0] + 200, 0.0)}))
    assert placer._dirty  # marked, not placed, while the labels are hidden
    show(win)
    assert not placer._dirty and overlaps(win) == []
    assert all(w.label.isVisible() == placer.fits(w) for w in win.scene.wire_items.values())


def test_labels_keep_clear_after_every_node_is_dragged_about(window) -> None:
    win = show(window("mnist_cnn"))
    items = list(win.scene.node_items.values())
    for k, item in enumerate(items):  # as a drag moves an item (CanvasScene._drag_nodes), before the drop's edit
        item.place(item.pos() + QPointF(40 * (k % 3) - 40, 30 * (k % 2)))
        win.view.viewport().repaint()
        assert overlaps(win) == [], k


def test_on_an_imported_200_node_model_no_label_covers_a_node_or_a_label(window) -> None:
    """ShuffleNet from the ONNX model zoo (onnx ships it as test data): 205 layers, laid out in bands by the
    importer, as a user who opens it sees them."""
    import onnx

    from netbuilder.onnx.importer import import_onnx

    model = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light" / "light_shufflenet.onnx"
    project, _weights = import_onnx(model, "shufflenet")
    assert len(project.graph) >= 200
    ys = {node.position[1] for node in project.graph}
    assert len(ys) > 3  # in bands, not one long row
    win = show(window(), project.graph)
    assert overlaps(win) == []
    wires = list(win.scene.wire_items.values())
    shown = [w for w in wires if w.label.isVisible()]
    assert len(shown) >= 0.6 * len(wires), (len(shown), len(wires))
    # Where a spot no other wire crosses is found, the label takes it (before: 24 of 212 struck through on the
    # 200-node graph, 14 of 188 on ShuffleNet; now 4 and 6, where wires cross everywhere along a short wire).
    assert len(struck_by_other_wires(win)) <= 0.04 * len(shown), struck_by_other_wires(win)


def struck_by_other_wires(win) -> list[str]:
    """Labels shown that a wire other than their own runs through."""
    labels = shown_labels(win)
    return [f"{w.edge} struck through by {o.edge}" for w, r in labels.items() for o in win.scene.wire_items.values()
            if o is not w and _line(o.path()).intersects(r.adjusted(0.5, 0.5, -0.5, -0.5))]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_on_every_example_no_other_wire_strikes_through_a_label(window, name: str) -> None:
    assert struck_by_other_wires(show(window(name))) == []


def test_a_new_wire_through_a_label_moves_the_label(window) -> None:
    # Seen on Xvfb: after Set as Output the new wire to the Output ran straight through the "[N, 10]" label
    # of the wire beside it; the label stayed where it was, unreadable.
    from netbuilder.model.edits import AddNode, Connect

    win = show(window("mnist_cnn"))
    graph = win.document.project.graph
    wire = next(w for w in win.scene.wire_items.values() if w.edge.src == graph.by_name("conv2").id)
    label = wire.label.sceneBoundingRect()
    assert wire.label.isVisible()
    source = graph.make_node("Input", name="across", position=(label.left() - 400, label.top() - 600))
    sink = graph.make_node("ReLU", name="after", position=(label.right() + 200, label.top() - 600))
    win.document.push(AddNode(source))
    win.document.push(AddNode(sink))
    out = win.scene.node_items[source.id].port_pos("out", False)
    into = win.scene.node_items[sink.id].port_pos("in", True)
    # Both ports level with the label's middle: the wire between them is a straight line through it.
    win.document.push(Move({source.id: (source.position[0], source.position[1] + label.center().y() - out.y()),
                            sink.id: (sink.position[0], sink.position[1] + label.center().y() - into.y())}))
    win.view.viewport().repaint()
    win.document.push(Connect(source.id, "out", sink.id, "in"))
    win.view.viewport().repaint()
    across = next(w for w in win.scene.wire_items.values() if w.edge.src == source.id)
    assert _line(across.path()).intersects(label), "the test's wire does not cross where the label was"
    assert wire.label.isVisible(), "the label hid rather than move"
    assert not _line(across.path()).intersects(wire.label.sceneBoundingRect()), "the new wire strikes it through"
    assert overlaps(win) == []
