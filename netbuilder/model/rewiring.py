"""Edits that rewire around one node, each built as one :class:`~netbuilder.model.edits.Compound`.

Insert a layer on a wire, before or after a node; take a node out keeping its wires through
(dissolve); cut all of a node's wires; make a node the model's output. The quick fixes
(:mod:`netbuilder.analysis.quick_fixes`) and the canvas's context menus build their edits here,
so a fix and the same gesture by hand are the same undo step. Each function only builds the
edit; the caller applies it (the GUI pushes it on the undo stack).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from netbuilder.errors import EditRefused
from netbuilder.model.edits import AddNode, Compound, Connect, Disconnect, Edit, Move, RemoveNode
from netbuilder.model.graph import Edge, Graph, Node
from netbuilder.model.layout import (
    COLUMN,
    NODE_HEIGHT,
    NODE_WIDTH,
    ROW,
    is_free,
    nearest_free,
    node_height,
    room_for,
    snap_grid,
)


def free_position(graph: Graph, x: float, y: float, height: float = NODE_HEIGHT) -> tuple[float, float]:
    """(x, y) on the grid when a node box of ``height`` there keeps clear of every node, else the nearest
    grid point that does (:func:`netbuilder.model.layout.nearest_free`: it looked only downwards before, and
    a layer inserted after one in a full row landed rows below, off screen)."""
    return nearest_free(graph, x, y, height)


def make_room(graph: Graph, node: Node, src: Node, dst: Node) -> dict[str, tuple[float, float]]:
    """Place ``node`` (going into the wire ``src`` -> ``dst``) where it overlaps no layer; the moves of the
    layers that make room for it. Where its position is taken, it goes to a free place in the chain (left of
    ``dst``, right of ``src``); else it takes the place a chain would give it (right of ``src``; on a wire back
    to a new band's start, ``dst``'s) and what is in the way moves one column right; where that cannot be done
    (a layer to the left is in the way), it goes to the nearest free spot."""
    height = node_height(node)
    if is_free(graph, *node.position, height):
        return {}
    # A free place in the chain first: just left of the end, or just right of the start.
    for x, y in ((dst.position[0] - COLUMN, dst.position[1]), (src.position[0] + COLUMN, src.position[1])):
        if src.position[0] < x < dst.position[0] or dst.position[0] <= src.position[0]:
            if is_free(graph, x, y, height):
                node.position = (x, y)
                return {}
    spot = (src.position[0] + COLUMN, src.position[1]) if dst.position[0] > src.position[0] else dst.position
    moves = room_for(graph, *spot, height)
    if moves is None:
        node.position = nearest_free(graph, *node.position, height)
        return {}
    node.position = spot
    return moves


def _new(graph: Graph, kind: str, params: Mapping[str, Any] | None, at: tuple[float, float],
         name: str | None = None) -> Node:
    node = graph.make_node(kind, name, params=params, position=at)
    node.position = free_position(graph, *at, node_height(node))
    return node


def first_input(node: Node) -> str:
    ports = node.input_ports()
    if not ports:
        raise EditRefused(f"{node.kind} '{node.name}' has no input")
    return ports[0].name


def first_output(node: Node) -> str:
    if not node.output_ports():
        raise EditRefused(f"{node.kind} '{node.name}' has no output")
    return node.output_ports()[0]


def insert_on_edge(graph: Graph, edge: Edge, kind: str, params: Mapping[str, Any] | None = None,
                   text: str | None = None, name: str | None = None) -> tuple[Compound, Node]:
    """A new ``kind`` layer (called ``name``, else the next free name) on ``edge`` (src → new → dst),
    placed between the two; the edit and the node."""
    src, dst = graph.node(edge.src), graph.node(edge.dst)
    mid = ((src.position[0] + dst.position[0]) / 2, (src.position[1] + dst.position[1]) / 2)
    node = graph.make_node(kind, name, params=params, position=mid)
    node.position = snap_grid(*mid)
    moves = make_room(graph, node, src, dst)  # as a layer dropped on the wire: room made, in the same step
    port_in, port_out = first_input(node), first_output(node)
    edits: list[Edit] = [Disconnect(edge), *([Move(moves)] if moves else []), AddNode(node),
                         Connect(edge.src, edge.src_port, node.id, port_in),
                         Connect(node.id, port_out, edge.dst, edge.dst_port)]
    return Compound(text or f"Insert {kind} '{node.name}' between '{src.name}' and '{dst.name}'", edits), node


def wire_before(graph: Graph, node_id: str) -> Edge | None:
    """The wire a layer inserted before ``node_id`` goes into: its first input's, else any of its wires in."""
    wires = graph.in_edges(node_id)
    return wires.get(first_input(graph.node(node_id))) or next(iter(wires.values()), None)


def insert_before(graph: Graph, node_id: str, kind: str, params: Mapping[str, Any] | None = None
                  ) -> tuple[Compound, Node]:
    """A new ``kind`` layer feeding ``node_id``'s first input: on its wire when it has one, else
    placed to its left and wired into it."""
    node = graph.node(node_id)
    port = first_input(node)
    edge = wire_before(graph, node_id)
    if edge is not None:
        return insert_on_edge(graph, edge, kind, params, f"Insert {kind} before '{node.name}'")
    new = _new(graph, kind, params, (node.position[0] - COLUMN, node.position[1]))
    edits = [AddNode(new), Connect(new.id, first_output(new), node_id, port)]
    return Compound(f"Insert {kind} '{new.name}' before '{node.name}'", edits), new


def insert_after(graph: Graph, node_id: str, kind: str, params: Mapping[str, Any] | None = None
                 ) -> tuple[Compound, Node]:
    """A new ``kind`` layer taking ``node_id``'s first output; the wires that left that output now
    leave the new layer."""
    node = graph.node(node_id)
    port = first_output(node)
    outs = [e for e in graph.out_edges(node_id) if e.src_port == port]
    new = _new(graph, kind, params, (node.position[0] + COLUMN / 2 if outs else node.position[0] + COLUMN,
                                     node.position[1]))
    port_in, port_out = first_input(new), first_output(new)
    edits: list[Edit] = [Disconnect(e) for e in outs]
    edits += [AddNode(new), Connect(node_id, port, new.id, port_in)]
    edits += [Connect(new.id, port_out, e.dst, e.dst_port) for e in outs]
    return Compound(f"Insert {kind} '{new.name}' after '{node.name}'", edits), new


def dissolve(graph: Graph, node_id: str, text: str | None = None) -> Compound:
    """Delete ``node_id`` and wire what fed its first input into everything its first output fed."""
    node = graph.node(node_id)
    source = graph.in_edges(node_id).get(first_input(node)) if node.input_ports() else None
    edits: list[Edit] = [RemoveNode(node_id)]
    if source is not None and node.output_ports():
        port = first_output(node)
        edits += [Connect(source.src, source.src_port, e.dst, e.dst_port)
                  for e in graph.out_edges(node_id) if e.src_port == port]
    return Compound(text or f"Delete {node.kind} '{node.name}' keeping its wires", edits)


def disconnect_all(graph: Graph, node_ids: list[str]) -> Compound | None:
    """Cut every wire into or out of these nodes (None when they have none)."""
    edges: list[Edge] = []
    for node_id in node_ids:
        for edge in [*graph.in_edges(node_id).values(), *graph.out_edges(node_id)]:
            if edge not in edges:
                edges.append(edge)
    if not edges:
        return None
    names = ", ".join(f"'{graph.node(n).name}'" for n in node_ids[:3]) + (" …" if len(node_ids) > 3 else "")
    return Compound(f"Disconnect {names}", [Disconnect(e) for e in edges])


def beside(graph: Graph, source: Node, node: Node) -> tuple[float, float]:
    """Where ``node`` (new, or in the graph already) goes to sit beside ``source``, fed by it: one column to
    its right, on its row where that is free, else a row or two below or above (its wire then crosses no
    layer: the next one in the chain sits on the row itself), else the free spot nearest."""
    x, y = source.position[0] + COLUMN, source.position[1]
    spots = [(x, y + k * ROW) for k in (0, 1, -1, 2, -2)]
    ignore = frozenset({node.id})
    height = node_height(node)
    if node.position in spots and is_free(graph, *node.position, height, ignore):
        return node.position  # beside it already
    return nearest_free(graph, x, y, height, spots, ignore)


def set_as_output(graph: Graph, node_id: str) -> tuple[Compound, str]:
    """Make ``node_id``'s first output what the model returns: the first Output's wire is moved to it,
    or, in a graph without an Output, one is added. Either way the Output goes :func:`beside` it, in the
    same edit (its wire would else run under the layers between, as if out of another). The edit and
    the Output's id."""
    node = graph.node(node_id)
    port = first_output(node)
    output = next(iter(graph.of_kind("Output")), None)
    if output is None:
        new = graph.make_node("Output")
        new.position = beside(graph, node, new)
        return Compound(f"Add an Output after '{node.name}'",
                        [AddNode(new), Connect(node_id, port, new.id, "in")]), new.id
    edits: list[Edit] = []
    if (old := graph.in_edges(output.id).get("in")) is not None:
        if old.src == node_id and old.src_port == port:
            raise EditRefused(f"'{node.name}' is the output already")
        edits.append(Disconnect(old))
    edits.append(Connect(node_id, port, output.id, "in"))
    if (spot := beside(graph, node, output)) != output.position:
        edits.append(Move({output.id: spot}))
    return Compound(f"Make '{node.name}' the output", edits), output.id


__all__ = [
    "NODE_WIDTH",
    "beside",
    "disconnect_all",
    "dissolve",
    "first_input",
    "first_output",
    "free_position",
    "insert_after",
    "insert_before",
    "insert_on_edge",
    "make_room",
    "set_as_output",
    "wire_before",
]
