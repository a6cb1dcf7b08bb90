"""Wires leave an output to the right and enter an input from the left, and never run under the
nodes they join; the wire being drawn shows above everything."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QPainterPath
from PySide6.QtTest import QTest

from netbuilder.model.edits import Move
from ui.canvas.items import NODE_WIDTH, NodeItem
from ui.canvas.wire_items import wire_path

SAMPLES = 400


def points(path: QPainterPath) -> list[QPointF]:
    return [path.pointAtPercent(k / SAMPLES) for k in range(SAMPLES + 1)]


def inside(rect: QRectF, path: QPainterPath) -> list[QPointF]:
    """The points of ``path`` inside ``rect``'s box; the port points on its edge do not count."""
    box = rect.adjusted(1, 1, -1, -1)
    return [p for p in points(path) if box.contains(p)]


def heads_right(path: QPainterPath, at: float) -> bool:
    """The path runs rightwards at ``at`` (0: where it starts, 1: where it ends)."""
    angle = path.angleAtPercent(at) % 360  # degrees, anticlockwise from +x
    return min(angle, 360 - angle) < 1


def body(item: NodeItem) -> QRectF:
    return QRectF(item.pos(), QPointF(item.pos().x() + NODE_WIDTH, item.pos().y() + item.height()))


def test_the_digits_cnn_wires_that_wrap_to_the_next_band_go_round_their_nodes(window) -> None:
    win = window()
    graph, scene = win.document.project.graph, win.scene
    backward = [e for e in graph.edges if graph.node(e.dst).position[0] < graph.node(e.src).position[0]]
    assert len(backward) == 4  # relu1 -> pool1, relu2 -> pool2, relu3 -> flatten, relu4 -> fc2 wrap to the next band
    for edge in graph.edges:
        path = scene.wire_items[edge].path()
        src, dst = scene.node_items[edge.src], scene.node_items[edge.dst]
        assert path.pointAtPercent(0) == src.port_pos(edge.src_port, False)
        assert path.pointAtPercent(1) == dst.port_pos(edge.dst_port, True)
        assert heads_right(path, 0) and heads_right(path, 1), edge
        assert inside(body(src), path) == [] and inside(body(dst), path) == [], edge


@pytest.mark.parametrize("dy", [-300.0, -40.0, 0.0, 40.0, 300.0], ids=["far above", "above", "level", "below",
                                                                        "far below"])
def test_a_wire_into_a_node_to_the_left_loops_round_both_bodies(window, dy) -> None:
    win = window("linear_regression")
    graph, scene = win.document.project.graph, win.scene
    linear, y = graph.by_name("linear"), graph.by_name("y")
    edge = graph.in_edges(y.id)["in"]
    x0, y0 = linear.position
    win.document.push(Move({y.id: (x0 - 250.0, y0 + dy)}))  # the Output now sits left of what feeds it
    path = scene.wire_items[edge].path()
    assert heads_right(path, 0) and heads_right(path, 1)
    assert path.pointAtPercent(0) == scene.node_items[linear.id].port_pos("out", False)
    assert path.pointAtPercent(1) == scene.node_items[y.id].port_pos("in", True)
    assert inside(body(scene.node_items[linear.id]), path) == []
    assert inside(body(scene.node_items[y.id]), path) == []


def test_wire_path_forward_is_one_curve_that_stays_between_the_ports() -> None:
    src, dst = QPointF(180, 50), QPointF(300, 120)
    path = wire_path(src, dst, QRectF(0, 0, 180, 80), QRectF(300, 90, 180, 80))
    assert heads_right(path, 0) and heads_right(path, 1)
    assert all(src.x() - 0.5 <= p.x() <= dst.x() + 0.5 for p in points(path))


def test_the_wire_being_drawn_backwards_shows_above_the_nodes_and_clear_of_its_own(window) -> None:
    win = window("linear_regression")
    graph, scene = win.document.project.graph, win.scene
    linear = scene.node_items[graph.by_name("linear").id]
    port = linear.ports[("out", False)]
    viewport = win.view.viewport()
    start = win.view.mapFromScene(port.scenePos())
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    end = win.view.mapFromScene(linear.pos() + QPointF(-60, 30))  # back to the left of the node
    for k in range(1, 6):
        QTest.mouseMove(viewport, start + (end - start) * (k / 5))
    preview = scene.drawing.preview
    try:
        assert preview is not None and preview.isVisible() and preview.scene() is scene
        assert preview.zValue() > max(item.zValue() for item in scene.node_items.values())
        assert heads_right(preview.path(), 0) and heads_right(preview.path(), 1)
        assert inside(body(linear), preview.path()) == []
    finally:
        QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end + QPoint(0, 1))
    assert scene.drawing.preview is None and win.document.undo_stack.count() == 0
