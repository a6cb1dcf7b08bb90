"""Automatic layout puts every node on the canvas grid, so a click never has to re-snap one."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netbuilder import load_project
from netbuilder.examples import EXAMPLE_NAMES, example_path
from netbuilder.model.layout import GRID, layered_positions
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
    assert positions == layered_positions(graph, 5)  # Arrange on a fresh example finds nothing to do
