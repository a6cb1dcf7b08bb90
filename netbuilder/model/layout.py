"""Automatic layout: layers left to right by depth, wrapped into bands like lines of text."""

from __future__ import annotations

import math

from netbuilder.model.graph import Graph

GRID = 10.0  # the canvas snaps dragged nodes to multiples of this; every layout position is one of them
COLUMN = 300.0  # a node is 180 wide: 120 px for the wire and its shape label
ROW = 130.0


def on_grid(length: float) -> float:
    """``length`` rounded up to a whole number of GRID steps."""
    return math.ceil(length / GRID) * GRID


def layered_positions(graph: Graph, max_columns: int | None = None) -> dict[str, tuple[float, float]]:
    """A position for every node, on the grid: column = longest path from an Input, rows within a
    column; with ``max_columns``, the columns after it start a new band below (the examples use 5)."""
    depth: dict[str, int] = {}
    for node_id in graph.topological_order():
        depth[node_id] = max((depth[e.src] + 1 for e in graph.in_edges(node_id).values()), default=0)
    columns: dict[int, list[str]] = {}
    for node_id, d in depth.items():
        columns.setdefault(d, []).append(node_id)
    tallest = max((len(c) for c in columns.values()), default=1)
    # Off the grid, a band's nodes would jump to it on their first drag, and a click that
    # re-snapped them would edit the file.
    band_height = on_grid(tallest * ROW + ROW * 0.6)
    positions = {}
    for d, ids in columns.items():
        band, column = divmod(d, max_columns) if max_columns else (0, d)
        for row, node_id in enumerate(ids):
            positions[node_id] = (column * COLUMN, band * band_height + row * ROW)
    return positions
