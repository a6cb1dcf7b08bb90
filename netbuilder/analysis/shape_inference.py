"""Shape inference with a symbolic batch dimension, incremental over graph edits.

For each node it yields either output types or a :class:`Problem` that names the node,
the port, what was expected, what arrived, and a fix. After an edit only the edited
nodes are inferred again, and what lies downstream of a node whose result changed: an
edit whose effect stops after a layer or two (a convolution's width, say, before a layer
that fixes the width again) re-infers those, not the 10,000 nodes after them.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from netbuilder.layers import ShapeError, TensorType
from netbuilder.model.graph import Edge, Graph, Node

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with the graph, in words a user can act on."""

    severity: Severity
    code: str
    message: str
    node: str | None = None
    port: str | None = None

    def to_dict(self, graph: Graph | None = None) -> dict[str, Any]:
        d: dict[str, Any] = {"severity": self.severity, "code": self.code, "message": self.message}
        if self.node is not None:
            d["node_id"] = self.node
            if graph is not None and self.node in graph.nodes:
                d["node"] = graph.node(self.node).name
        if self.port is not None:
            d["port"] = self.port
        return d


@dataclass(slots=True)
class NodeInfo:
    """What inference found for one node.

    ``outputs`` is None when the node's output is unknown: it has a problem, or waits on
    an upstream node that has one (``waiting`` is then True and ``problem`` None).
    """

    inputs: dict[str, TensorType] = field(default_factory=dict)
    outputs: dict[str, TensorType] | None = None
    problem: Problem | None = None
    waiting: bool = False


class ShapeInference:
    """Keeps per-node shapes up to date with a Graph by listening to its events.

    Call :meth:`update` (or read :meth:`info`, :attr:`problems`, which update first).
    ``last_inferred`` tells how many nodes the latest update re-inferred. A node whose result
    did not change keeps its NodeInfo object, so identity tells a reader nothing changed;
    :meth:`changed_since` names the nodes whose result did.
    """

    KEPT_UPDATES = 64  # how many updates changed_since can look back over

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._info: dict[str, NodeInfo] = {}
        self._dirty: set[str] = set(graph.nodes)
        self.last_inferred = 0
        self.generation = 0  # counts the updates that changed something
        self._log: deque[tuple[int, frozenset[str]]] = deque(maxlen=self.KEPT_UPDATES)
        self._index: dict[str, int] = {}
        self._index_of: list[str] | None = None  # the topological order _index was made from
        self._renames = 0
        self._with_problem: set[str] = set()  # the nodes whose info holds a problem
        self._graph_problems: tuple[tuple[int, int], list[Problem]] | None = None
        graph.node_added.sub(self._on_node)
        graph.node_removed.sub(self._on_node_removed)
        graph.edge_added.sub(self._on_edge)
        graph.edge_removed.sub(self._on_edge)
        graph.node_changed.sub(self._on_changed)

    def close(self) -> None:
        """Stop listening to the graph."""
        g = self.graph
        g.node_added.unsub(self._on_node)
        g.node_removed.unsub(self._on_node_removed)
        g.edge_added.unsub(self._on_edge)
        g.edge_removed.unsub(self._on_edge)
        g.node_changed.unsub(self._on_changed)

    # ---- events --------------------------------------------------------------------
    def _on_node(self, node: Node) -> None:
        self._dirty.add(node.id)

    def _on_node_removed(self, node: Node) -> None:
        self._info.pop(node.id, None)
        self._dirty.discard(node.id)
        self._with_problem.discard(node.id)
        self._record(frozenset([node.id]))

    def _on_edge(self, edge: Edge) -> None:
        self._dirty.add(edge.dst)

    def _on_changed(self, node: Node, what: str) -> None:
        if what != "position":
            self._dirty.add(node.id)
        if what == "name":
            self._renames += 1  # the whole-graph problems name their nodes

    # ---- results -------------------------------------------------------------------
    def update(self) -> int:
        """Re-infer the dirty nodes, and downstream of each node whose result changed; returns how many."""
        if not self._dirty:
            self.last_inferred = 0
            return 0
        index, info, graph = self._order_index(), self._info, self.graph
        queue = [(index[n], n) for n in self._dirty]
        heapq.heapify(queue)  # in topological order, so each node is inferred after its inputs
        queued = set(self._dirty)
        self._dirty.clear()
        changed: set[str] = set()
        while queue:
            _, node_id = heapq.heappop(queue)
            new = self._infer(graph.node(node_id))
            if info.get(node_id) == new:
                continue  # the same result: what lies after it stays as it is
            info[node_id] = new
            changed.add(node_id)
            if new.problem is not None:
                self._with_problem.add(node_id)
            else:
                self._with_problem.discard(node_id)
            for edge in graph.out_edges(node_id):
                if edge.dst not in queued:
                    queued.add(edge.dst)
                    heapq.heappush(queue, (index[edge.dst], edge.dst))
        self._record(frozenset(changed))
        self.last_inferred = len(queued)
        return len(queued)

    def _order_index(self) -> dict[str, int]:
        order = self.graph.topological_order()
        if order is not self._index_of:
            self._index = {n: k for k, n in enumerate(order)}
            self._index_of = order
        return self._index

    def _record(self, changed: frozenset[str]) -> None:
        if changed:
            self.generation += 1
            self._log.append((self.generation, changed))

    def changed_since(self, generation: int) -> set[str] | None:
        """The nodes whose result changed (or that went) after update number ``generation``;
        None when that is further back than this object remembers (then assume all)."""
        self.update()
        if generation == self.generation:
            return set()
        if not self._log or self._log[0][0] > generation + 1:
            return None
        return {n for g, ids in self._log if g > generation for n in ids}

    def info(self, node_id: str) -> NodeInfo:
        if self._dirty:  # checked here, not by calling update(): the canvas asks 1,000 times per edit
            self.update()
        return self._info[node_id]

    def outputs(self, node_id: str) -> dict[str, TensorType] | None:
        return self.info(node_id).outputs

    @property
    def problems(self) -> list[Problem]:
        """Every problem: per node (in graph order), then whole-graph ones."""
        self.update()
        index = self._order_index()
        found = [self._info[n].problem for n in sorted(self._with_problem, key=index.__getitem__)]
        key = (self.graph.structure_version, self._renames)  # they depend on the wiring and the names only
        if self._graph_problems is None or self._graph_problems[0] != key:
            self._graph_problems = (key, graph_problems(self.graph))
        return found + self._graph_problems[1]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    # ---- one node ------------------------------------------------------------------
    def _infer(self, node: Node) -> NodeInfo:
        spec = node.spec
        in_edges = self.graph.in_edges(node.id)
        inputs: dict[str, TensorType] = {}
        waiting = False
        for port in spec.input_ports(node.params):
            edge = in_edges.get(port.name)
            if edge is None:
                if not port.optional:
                    where = "" if port.name == "in" else f" '{port.name}'"
                    return NodeInfo(problem=Problem(
                        "error", "unconnected",
                        f"{node.kind} '{node.name}' has nothing wired into its input{where}: "
                        "wire a layer's output into it, or delete the node",
                        node.id, port.name))
                continue
            upstream = self._info[edge.src].outputs
            if upstream is None:
                waiting = True
            else:
                inputs[port.name] = upstream[edge.src_port]
        if waiting:
            return NodeInfo(inputs, waiting=True)
        if spec.check is not None and (message := spec.check(node.params)):
            return NodeInfo(inputs, problem=Problem(
                "error", "params", f"{node.kind} '{node.name}': {message}", node.id))
        try:
            outputs = spec.infer(node.params, inputs)
        except ShapeError as err:
            got = inputs.get(err.port)
            where = "" if err.port == "in" else f" at '{err.port}'"
            message = f"{node.kind} '{node.name}' needs {err.expected}{where}"
            if got is not None:
                message += f"; got {got}"
            if err.fix:
                message += f": {err.fix}"
            return NodeInfo(inputs, problem=Problem("error", "shape", message, node.id, err.port))
        except Exception as exc:  # a bug in a rule must not take the editor down
            return NodeInfo(inputs, problem=Problem(
                "error", "internal",
                f"{node.kind} '{node.name}': the shape rule failed ({type(exc).__name__}: {exc}); "
                "please report this", node.id))
        return NodeInfo(inputs, outputs)


def graph_problems(graph: Graph) -> list[Problem]:
    """Whole-graph problems: no Input, no Output, and nodes whose result goes nowhere."""
    found: list[Problem] = []
    inputs = [n.id for n in graph.of_kind("Input")]
    outputs = [n.id for n in graph.of_kind("Output")]
    if not inputs:
        found.append(Problem("error", "no-input", "the graph has no Input: add one from the palette "
                                                  "and set the shape of one sample"))
    if not outputs:
        found.append(Problem("error", "no-output", "the graph has no Output: add one and wire the "
                                                   "last layer into it"))
    if not inputs or not outputs:
        return found
    fed = graph.downstream(inputs)
    used = graph.upstream(outputs)
    for node in graph:
        if node.id not in fed and node.kind != "Input" and not graph.in_edges(node.id):
            continue  # reported as unconnected by the node itself
        if node.id not in used:
            found.append(Problem(
                "warning", "unreachable",
                f"{node.kind} '{node.name}' does not lead to any Output, so it has no effect: "
                "wire it onward or delete it", node.id))
    return found


def infer_shapes(graph: Graph) -> ShapeInference:
    """Infer every node's shapes once. Keep the returned object to stay incremental."""
    inference = ShapeInference(graph)
    inference.update()
    return inference
