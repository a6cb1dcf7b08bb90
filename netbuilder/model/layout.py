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


# ---- where a new node goes: never onto another ---------------------------------------------------
NODE_WIDTH = 180.0  # a node's width on the canvas (ui/canvas/items.py draws it so)
CLEAR_X = 60.0  # the least room kept beside a new node: its wires and their shape labels show
CLEAR_Y = 30.0  # ... and above and below it


def _collides(a: tuple[float, float, float], b: tuple[float, float, float]) -> bool:
    """Whether two node boxes (x, y, height) come closer than CLEAR_X / CLEAR_Y."""
    return abs(a[0] - b[0]) < NODE_WIDTH + CLEAR_X and a[1] - CLEAR_Y < b[1] + b[2] and b[1] - CLEAR_Y < a[1] + a[2]


def _box(node: Node) -> tuple[float, float, float]:
    return node.position[0], node.position[1], node_height(node)


def is_free(graph: Graph, x: float, y: float, height: float = NODE_HEIGHT, ignore: frozenset[str] = frozenset()
            ) -> bool:
    """Whether a node box of ``height`` at (x, y) keeps clear of every node's box (``ignore``: ids not counted)."""
    return not any(_collides((x, y, height), _box(n)) for n in graph if n.id not in ignore)


def _spiral() -> list[tuple[float, float]]:
    """Moves two GRID steps apart within two columns, nearest first; as near, below before above."""
    steps, pitch = int(2 * COLUMN // (2 * GRID)), 2 * GRID
    return sorted(((i * pitch, j * pitch) for i in range(-steps, steps + 1) for j in range(-steps, steps + 1)),
                  key=lambda d: (d[0] ** 2 + d[1] ** 2, d[1] < 0, d[0]))


_SPIRAL = _spiral()  # 3,600 moves


def _clear_move(graph: Graph, boxes: list[tuple[float, float, float]], ignore: frozenset[str] = frozenset()
                ) -> tuple[float, float] | None:
    """The move of the _SPIRAL nearest to none that puts none of ``boxes`` on a node (checked only against the
    nodes near enough to matter, ``ignore``'s ids not counted), or None when each does."""
    reach = 2 * COLUMN
    left, top = min(b[0] for b in boxes), min(b[1] for b in boxes)
    right, bottom = max(b[0] for b in boxes) + NODE_WIDTH, max(b[1] + b[2] for b in boxes)
    near = [_box(n) for n in graph if left - reach - 2 * NODE_WIDTH < n.position[0] < right + reach + NODE_WIDTH
            and top - reach - 4 * ROW < n.position[1] < bottom + reach + 4 * ROW and n.id not in ignore]
    for ox, oy in _SPIRAL:
        if not any(_collides((x + ox, y + oy, h), box) for x, y, h in boxes for box in near):
            return ox, oy
    return None


def nearest_free(graph: Graph, x: float, y: float, height: float = NODE_HEIGHT,
                 preferred: list[tuple[float, float]] | None = None, ignore: frozenset[str] = frozenset()
                 ) -> tuple[float, float]:
    """A grid point for a new node box of ``height``: the first of ``preferred`` that is free, else the free one
    nearest (x, y) (a walk outwards two GRID steps at a time, then further down). ``ignore``: ids not counted
    (the node being placed, when it is in the graph already)."""
    for px, py in preferred or []:
        px, py = snap_grid(px, py)
        if is_free(graph, px, py, height, ignore):
            return px, py
    x, y = snap_grid(x, y)
    move = _clear_move(graph, [(x, y, height)], ignore)
    if move is not None:
        return x + move[0], y + move[1]
    reach = 2 * COLUMN
    for step in range(1, 1000):  # crowded all round: below, a row at a time
        if is_free(graph, x, y + reach + step * ROW, height, ignore):
            return x, y + reach + step * ROW
    return x, y + reach + 1000 * ROW


def free_shift(graph: Graph, boxes: list[tuple[float, float, float]], dx: float, dy: float) -> tuple[float, float]:
    """A move for a group of new node boxes ``(x, y, height)`` (a paste, a duplicate) that puts none of them on a
    node: (dx, dy) itself when that is clear, else the clear move nearest it (as nearest_free walks), else
    (dx, dy)."""
    if not boxes:
        return dx, dy
    move = _clear_move(graph, [(x + dx, y + dy, h) for x, y, h in boxes])
    return (dx, dy) if move is None else (dx + move[0], dy + move[1])


def room_for(graph: Graph, x: float, y: float, height: float = NODE_HEIGHT) -> dict[str, tuple[float, float]] | None:
    """Make room for a new node box at (x, y) by moving what is in the way right: the nodes it would touch, and
    each node those would then touch, move one COLUMN right (a chain makes room for a layer put into it). The
    new positions of the nodes that move (empty: the spot is free); None where a node left of x is in the way
    (it cannot be pushed aside rightwards)."""
    new = (x, y, height)
    boxes = {n.id: _box(n) for n in graph}
    moving = {i for i, b in boxes.items() if _collides(new, b)}
    if any(boxes[i][0] < x for i in moving):
        return None
    frontier = set(moving)
    while frontier:
        shifted = [(boxes[i][0] + COLUMN, boxes[i][1], boxes[i][2]) for i in frontier]
        frontier = {i for i, b in boxes.items() if i not in moving and any(_collides(s, b) for s in shifted)}
        if any(boxes[i][0] < x for i in frontier):
            return None
        moving |= frontier
    return {i: (boxes[i][0] + COLUMN, boxes[i][1]) for i in moving}


def snap_grid(x: float, y: float) -> tuple[float, float]:
    """(x, y) on the nearest grid point."""
    return round(x / GRID) * GRID, round(y / GRID) * GRID
