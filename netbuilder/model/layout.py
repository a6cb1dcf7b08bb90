"""Automatic layout: layers left to right by depth, wrapped into bands like lines of text."""

from __future__ import annotations

import math

from netbuilder.model.graph import Graph, Node

GRID = 10.0  # the canvas snaps dragged nodes to multiples of this; every layout position is one of them
COLUMN = 300.0  # a node is 180 wide: 120 px for the wire and its shape label
ROW = 130.0  # the least distance from one node's top to the next one's in a column
# A node's height on the canvas (ui/canvas/items.py draws it so): a header, a row per input port, a footer.
NODE_HEIGHT = 80.0  # with one input
PORT_ROW = 20.0  # each further input
GAP = 50.0  # the least room between two nodes in a column, whatever their heights


def node_height(node: Node) -> float:
    """How tall ``node`` is drawn: taller with each port row past the first (a merge of five is 160; a
    Split of three outputs, 120)."""
    return NODE_HEIGHT + PORT_ROW * (max(len(node.input_ports()), len(node.output_ports()), 1) - 1)


def columns_for(graph: Graph, aspect: float = 1.6) -> int | None:
    """How many columns a band should hold for the whole layout to come out about ``aspect`` times as wide
    as it is tall (a window's shape), so that a long import is laid out like a page, not as one row that
    no zoom shows readably: None (one band) for a graph of 8 columns or fewer."""
    depth: dict[str, int] = {}
    for node_id in graph.topological_order():
        depth[node_id] = max((depth[e.src] + 1 for e in graph.in_edges(node_id).values()), default=0)
    levels = max(depth.values(), default=0) + 1
    if levels <= 8:
        return None
    per_level: dict[int, float] = {}
    for node_id, d in depth.items():
        per_level[d] = per_level.get(d, 0.0) + on_grid(max(ROW, node_height(graph.node(node_id)) + GAP))
    band = max(per_level.values()) + ROW * 0.6
    return max(5, round(math.sqrt(aspect * levels * band / COLUMN)))


def on_grid(length: float) -> float:
    """``length`` rounded up to a whole number of GRID steps."""
    return math.ceil(length / GRID) * GRID


def layered_positions(graph: Graph, max_columns: int | None = None) -> dict[str, tuple[float, float]]:
    """A position for every node, on the grid: column = longest path from an Input, rows within a
    column (a tall node, a merge of many inputs, pushes the next one down); with ``max_columns``, the
    columns after it start a new band below (the examples use 5)."""
    depth: dict[str, int] = {}
    for node_id in graph.topological_order():
        depth[node_id] = max((depth[e.src] + 1 for e in graph.in_edges(node_id).values()), default=0)
    columns: dict[int, list[str]] = {}
    for node_id, d in depth.items():
        columns.setdefault(d, []).append(node_id)
    # Each node takes ROW, or its height and a GAP where it is taller, so that no two overlap.
    # Off the grid, a band's nodes would jump to it on their first drag, and a click that
    # re-snapped them would edit the file: every step is a whole number of GRID steps.
    pitch = {node_id: on_grid(max(ROW, node_height(graph.node(node_id)) + GAP)) for node_id in depth}
    tallest = max((sum(pitch[n] for n in ids) for ids in columns.values()), default=ROW)
    band_height = on_grid(tallest + ROW * 0.6)
    positions = {}
    for d, ids in columns.items():
        band, column = divmod(d, max_columns) if max_columns else (0, d)
        y = band * band_height
        for node_id in ids:
            positions[node_id] = (column * COLUMN, y)
            y += pitch[node_id]
    return positions
