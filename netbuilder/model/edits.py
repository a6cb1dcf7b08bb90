"""Undoable edits: command objects that change the Graph only, each with an exact inverse.

The GUI wraps each in a QUndoCommand (``redo`` calls :meth:`Edit.apply`, ``undo`` calls
:meth:`Edit.revert`). An edit that is refused raises :class:`EditRefused` and leaves the
graph as it was, compound edits included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from netbuilder.model.graph import Edge, Graph, Node


class Edit:
    """Base class: ``apply`` then ``revert`` leaves the graph exactly as before."""

    text = "Edit"

    def apply(self, graph: Graph) -> None:
        raise NotImplementedError

    def revert(self, graph: Graph) -> None:
        raise NotImplementedError


class AddNode(Edit):
    def __init__(self, node: Node) -> None:
        self.node = node
        self.text = f"Add {node.kind} '{node.name}'"

    def apply(self, graph: Graph) -> None:
        graph.add_node(self.node.copy())

    def revert(self, graph: Graph) -> None:
        graph.remove_node(self.node.id)


class RemoveNode(Edit):
    """Removes a node with its wires; revert puts both back."""

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        self.text = "Delete node"
        self._node: Node | None = None
        self._index = 0
        self._edges: list[tuple[Edge, int]] = []

    def apply(self, graph: Graph) -> None:
        node = graph.node(self.node_id)
        self.text = f"Delete {node.kind} '{node.name}'"
        self._node = node.copy()
        self._index = graph.index_of(self.node_id)
        edges = [*graph.in_edges(self.node_id).values(), *graph.out_edges(self.node_id)]
        self._edges = [(e, graph.out_edges(e.src).index(e)) for e in edges]
        for edge in edges:
            graph.disconnect(edge)
        graph.remove_node(self.node_id)

    def revert(self, graph: Graph) -> None:
        assert self._node is not None, "revert before apply"
        graph.add_node(self._node.copy(), self._index)
        for edge, index in sorted(self._edges, key=lambda ei: ei[1]):
            graph.connect(edge, index=index)


class Connect(Edit):
    def __init__(self, src: str, src_port: str, dst: str, dst_port: str) -> None:
        self.edge = Edge(src, src_port, dst, dst_port)
        self.text = "Connect"

    def apply(self, graph: Graph) -> None:
        graph.connect(self.edge)

    def revert(self, graph: Graph) -> None:
        graph.disconnect(self.edge)


class Disconnect(Edit):
    def __init__(self, edge: Edge | Sequence[str]) -> None:
        self.edge = Edge(*edge)
        self.text = "Disconnect"
        self._index = 0

    def apply(self, graph: Graph) -> None:
        outs = graph.out_edges(self.edge.src) if self.edge.src in graph.nodes else []
        self._index = outs.index(self.edge) if self.edge in outs else 0
        graph.disconnect(self.edge)

    def revert(self, graph: Graph) -> None:
        graph.connect(self.edge, index=self._index)


class SetParams(Edit):
    def __init__(self, node_id: str, changes: Mapping[str, Any]) -> None:
        self.node_id = node_id
        self.changes = dict(changes)
        self._old: dict[str, Any] = {}
        self.text = f"Set {', '.join(self.changes)}"

    def apply(self, graph: Graph) -> None:
        self._old = graph.set_params(self.node_id, self.changes)

    def revert(self, graph: Graph) -> None:
        graph.set_params(self.node_id, self._old)


class SetFrozen(Edit):
    """Freezes or unfreezes layers' weights for training (several selected layers are one edit)."""

    def __init__(self, node_ids: list[str] | str, frozen: bool) -> None:
        self.node_ids = [node_ids] if isinstance(node_ids, str) else list(node_ids)
        self.frozen = frozen
        self._old: dict[str, bool] = {}
        what = "Freeze" if frozen else "Unfreeze"
        self.text = f"{what} weights" if len(self.node_ids) == 1 else f"{what} {len(self.node_ids)} layers' weights"

    def apply(self, graph: Graph) -> None:
        self._old = {n: graph.set_frozen(n, self.frozen) for n in self.node_ids}

    def revert(self, graph: Graph) -> None:
        for node_id, was in self._old.items():
            graph.set_frozen(node_id, was)


class Rename(Edit):
    def __init__(self, node_id: str, name: str) -> None:
        self.node_id = node_id
        self.name = name
        self._old = ""
        self.text = f"Rename to '{name}'"

    def apply(self, graph: Graph) -> None:
        self._old = graph.rename(self.node_id, self.name)

    def revert(self, graph: Graph) -> None:
        graph.rename(self.node_id, self._old)


class Move(Edit):
    """Moves one or more nodes (a drag of a selection is one edit)."""

    def __init__(self, positions: Mapping[str, tuple[float, float]]) -> None:
        self.positions = dict(positions)
        self._old: dict[str, tuple[float, float]] = {}
        self.text = "Move" if len(self.positions) == 1 else f"Move {len(self.positions)} nodes"

    def apply(self, graph: Graph) -> None:
        self._old = {n: graph.move(n, pos) for n, pos in self.positions.items()}

    def revert(self, graph: Graph) -> None:
        for n, pos in self._old.items():
            graph.move(n, pos)


class Compound(Edit):
    """Several edits as one step (paste, delete selection). All or nothing."""

    def __init__(self, text: str, edits: Sequence[Edit]) -> None:
        self.text = text
        self.edits = list(edits)

    def apply(self, graph: Graph) -> None:
        done: list[Edit] = []
        try:
            for edit in self.edits:
                edit.apply(graph)
                done.append(edit)
        except Exception:
            for edit in reversed(done):
                edit.revert(graph)
            raise

    def revert(self, graph: Graph) -> None:
        for edit in reversed(self.edits):
            edit.revert(graph)
