"""Automatic layout puts every node on the canvas grid, so a click never has to re-snap one."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netbuilder import load_project
from netbuilder.examples import EXAMPLE_NAMES, example_path
from netbuilder.model.graph import Edge, Graph
from netbuilder.model.layout import COLUMN, GRID, ROW, is_free, layered_positions, nearest_free, node_height, room_for
from tests.engine.strategies import grow_graph


def off_grid(positions: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    return {n: (x, y) for n, (x, y) in positions.items() if x % GRID or y % GRID}


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), steps=st.integers(1, 40), columns=st.sampled_from([None, 2, 3, 5]))
def test_every_layout_position_is_a_grid_point(seed: int, steps: int, columns: int | None) -> None:
    graph, _ = grow_graph(seed, steps)
    assert off_grid(layered_positions(graph, columns)) == {}


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_the_built_in_examples_are_laid_out_on_the_grid(name: str) -> None:
    graph = load_project(example_path(name)).graph
    positions = {n.id: n.position for n in graph}
    assert off_grid(positions) == {}
    assert _overlaps(graph) == []
    # In Arrange's columns, wrapped into bands of a few of them so that each example fits the default window
    # (the bands closer than Arrange's: their first frame reads without scrolling).
    assert any(all(positions[n][0] == x for n, (x, _y) in layered_positions(graph, columns).items())
               for columns in range(1, 6)), positions


def _boxes(graph):
    return {n.id: (n.position[0], n.position[1], n.position[0] + 180, n.position[1] + node_height(n)) for n in graph}


def _overlaps(graph) -> list[tuple[str, str]]:
    boxes = list(_boxes(graph).items())
    return [(a, b) for k, (a, ra) in enumerate(boxes) for b, rb in boxes[k + 1:]
            if ra[0] < rb[2] and rb[0] < ra[2] and ra[1] < rb[3] and rb[1] < ra[3]]


def test_a_long_import_is_laid_out_like_a_page_not_one_row(tmp_path) -> None:
    import torch

    from netbuilder.onnx.importer import import_onnx

    layers = []
    for _ in range(20):
        layers += [torch.nn.Linear(8, 8), torch.nn.ReLU()]
    torch.onnx.export(torch.nn.Sequential(*layers).eval(), (torch.randn(2, 8),), tmp_path / "deep.onnx",
                      dynamo=False, input_names=["x"], dynamic_axes={"x": {0: "n"}})
    project, _ = import_onnx(tmp_path / "deep.onnx")
    graph = project.graph
    xs = [n.position[0] for n in graph]
    ys = [n.position[1] for n in graph]
    width, height = max(xs) - min(xs) + 180, max(ys) - min(ys) + 80
    assert len({y for y in ys}) >= 3  # bands, not one row of 42
    assert 0.8 <= width / height <= 4.0, (width, height)
    assert _overlaps(graph) == []


def test_a_split_with_many_outputs_is_as_tall_as_its_ports_and_overlaps_nothing() -> None:
    g = Graph()
    x = g.add_node(g.make_node("Input", params={"shape": [12]}))
    split = g.add_node(g.make_node("Split", params={"sizes": [2, 2, 2, 2, 2, 2], "dim": 1}))
    g.connect(Edge(x.id, "out", split.id, "in"))
    for k in range(6):
        out = g.add_node(g.make_node("Output"))
        g.connect(Edge(split.id, f"out{k + 1}", out.id, "in"))
    assert node_height(split) == 80 + 5 * 20
    for node_id, position in layered_positions(g).items():
        g.move(node_id, position)
    assert _overlaps(g) == []


# ---- where a new node goes ------------------------------------------------------------------------
def _chain(n: int) -> Graph:
    graph = Graph()
    for k in range(n):
        graph.add_node(graph.make_node("ReLU", position=(k * COLUMN, 0.0)))
    return graph


def test_a_taken_spot_gives_the_first_free_preferred_one_else_the_nearest_free_grid_point() -> None:
    graph = _chain(2)
    assert not is_free(graph, 0.0, 0.0) and is_free(graph, 2 * COLUMN, 0.0)
    assert nearest_free(graph, 10.0, 5.0, preferred=[(COLUMN, 0.0), (2 * COLUMN, 0.0)]) == (2 * COLUMN, 0.0)
    x, y = nearest_free(graph, 10.0, 5.0)
    assert is_free(graph, x, y) and (x, y) == (round(x / GRID) * GRID, round(y / GRID) * GRID)
    assert abs(y) < 2 * ROW  # just above or below the chain, not far away


def test_room_is_made_by_moving_what_is_in_the_way_and_what_that_would_touch_one_column_right() -> None:
    graph = _chain(4)
    moves = room_for(graph, COLUMN, 0.0)
    ids = [n.id for n in graph]
    assert moves == {i: ((k + 1) * COLUMN, 0.0) for k, i in enumerate(ids) if k >= 1}
    assert room_for(graph, 5 * COLUMN, 0.0) == {}  # free already
    assert room_for(graph, COLUMN - 100.0, 0.0) is None  # the first node, left of it, cannot be pushed
