"""The graph model: nodes, named ports, edges; a DAG that refuses bad edits with a reason.

The Graph is the only truth. It emits plain-Python events on every change
(``node_added``, ``node_removed``, ``edge_added``, ``edge_removed``, ``node_changed``);
views subscribe and redraw. Undoable changes go through :mod:`netbuilder.model.edits`.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from netbuilder.errors import EditRefused
from netbuilder.layers import CATALOG, LayerSpec, PortSpec
from netbuilder.model.events import Event

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Node names become attribute names on the compiled module (a torch.fx.GraphModule, which is an
# nn.Module), so none may shadow one of its attributes: add_module refuses 'training' and
# '_modules' with a bare KeyError, and 'graph', 'code' or 'recompile' break forward. These are the
# public names of both classes and of their instances (dir() of an instance adds 'training',
# 'graph', 'code', 'meta'), written out because importing torch here would cost a second at
# start-up; tests/engine/test_node_names.py checks them against the installed torch. Names with a
# leading _ are refused as a whole: torch keeps its private state there ('_modules', '_parameters').
MODULE_ATTRIBUTES = frozenset("""
    T_destination add_module add_submodule apply bfloat16 buffers call_super_init children code compile cpu
    cuda delete_all_unused_submodules delete_submodule double dump_patches eval extra_repr float forward
    get_buffer get_extra_state get_parameter get_submodule graph half ipu load_state_dict meta modules mtia
    named_buffers named_children named_modules named_parameters parameters print_readable recompile
    register_backward_hook register_buffer register_forward_hook register_forward_pre_hook
    register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook
    register_load_state_dict_pre_hook register_module register_parameter register_state_dict_post_hook
    register_state_dict_pre_hook requires_grad_ set_extra_state set_submodule shape_env share_memory
    state_dict to to_empty to_folder train training type xpu zero_grad
""".split())
# Names the generated forward itself uses.
CODE_NAMES = frozenset({"self", "torch", "operator", "getitem"})


class Edge(NamedTuple):
    """A wire from an output port to an input port, by node id."""

    src: str
    src_port: str
    dst: str
    dst_port: str


@dataclass(eq=False)
class Node:
    """One layer on the canvas.

    Parameters
    ----------
    id:
        Stable identifier; never shown, never reused within a graph.
    kind:
        A layer kind from the catalog, e.g. ``"Conv2d"``.
    name:
        The unique, user-visible name; it names the layer's parameters in the compiled module.
    params:
        Typed parameter values, one for each of the kind's ParamSpecs.
    position:
        Canvas position (x, y) of the node's top-left corner.
    frozen:
        Its weights are kept as they are while training (``requires_grad`` False): fine-tuning an imported
        model trains only the layers left unfrozen.
    """

    id: str
    kind: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    position: tuple[float, float] = (0.0, 0.0)
    frozen: bool = False

    @property
    def spec(self) -> LayerSpec:
        return CATALOG[self.kind]

    def input_ports(self) -> tuple[PortSpec, ...]:
        return self.spec.input_ports(self.params)

    def output_ports(self) -> tuple[str, ...]:
        return self.spec.output_ports(self.params)

    def copy(self) -> Node:
        return Node(self.id, self.kind, self.name, _deep_copy(self.params), self.position, self.frozen)

    def __repr__(self) -> str:
        return f"Node({self.id!r}, {self.kind}, {self.name!r})"


def _deep_copy(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in params.items()}


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a node, or None; the reason says what the name clashes with."""
    if not isinstance(name, str) or not _NAME.match(name):
        return (f"name {name!r} must start with a letter or _ and hold only letters, digits and _ "
                "(it becomes a Python attribute)")
    if keyword.iskeyword(name):
        return f"name {name!r} is a Python keyword; choose another, e.g. '{name}1'"
    if name.startswith("_"):
        return (f"name {name!r} starts with _, where torch keeps a module's private attributes "
                f"(such as '_modules'); choose a name starting with a letter, e.g. '{name_stem(name)}1'")
    if name in MODULE_ATTRIBUTES:
        return (f"name {name!r} clashes with the attribute '{name}' of torch's nn.Module / fx.GraphModule, "
                f"which the compiled model is; choose another, e.g. '{name}1'")
    if name in CODE_NAMES:
        return f"name {name!r} is used by the generated forward code; choose another, e.g. '{name}1'"
    return None


_NUMBERED = re.compile(r"(.*?)(\d+)$")  # a name as a stem and its number: relu12 -> relu, 12


def name_stem(text: str) -> str:
    """``text`` made into the start of a valid name: ASCII letters, digits and _, starting with a
    letter, trailing digits dropped (``conv12`` -> ``conv``, ``1a`` -> ``layer_1a``, ``_x`` -> ``x``,
    ``é`` -> ``layer``). Any number appended to the stem gives a name that :func:`name_problem`
    accepts unless reserved."""
    stem = re.sub(r"\d+$", "", re.sub(r"[^A-Za-z0-9_]", "_", text)).lstrip("_")
    if not stem:
        return "layer"
    return f"layer_{stem}" if stem[0].isdigit() else stem


class Graph:
    """A directed acyclic graph of layers.

    Every mutator checks first and raises :class:`EditRefused` with the reason, leaving
    the graph unchanged; on success it emits the matching event.
    """

    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}
        self._names: dict[str, str] = {}
        # Per name stem, a number with every lower one taken (unique_name starts there): 5,000 ReLUs named
        # relu1..relu5000 cost 12.5 million lookups from 1 each time (3.6 s of a 7.7 s ONNX import).
        self._free_from: dict[str, int] = {}
        self._in: dict[str, dict[str, Edge]] = {}
        self._out: dict[str, list[Edge]] = {}
        self._order: list[str] | None = None
        self.structure_version = 0  # goes up whenever a node or a wire comes or goes
        self._by_kind: dict[str, dict[str, None]] = {}  # kind -> ids in node order (a node's kind never changes)
        self._id_counter = 0
        self.node_added = Event("node_added")
        self.node_removed = Event("node_removed")
        self.edge_added = Event("edge_added")
        self.edge_removed = Event("edge_removed")
        # node_changed(node, what): what is "params", "name" or "position".
        self.node_changed = Event("node_changed")

    # ---- reading -------------------------------------------------------------------
    @property
    def nodes(self) -> Mapping[str, Node]:
        return self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes.values())

    def index_of(self, node_id: str) -> int:
        """Position of a node in node order (the order of the file and of ``forward``'s inputs)."""
        return list(self._nodes).index(node_id)

    def node(self, node_id: str) -> Node:
        return self._nodes[node_id]

    def by_name(self, name: str) -> Node | None:
        node_id = self._names.get(name)
        return self._nodes[node_id] if node_id else None

    @property
    def edges(self) -> list[Edge]:
        return [e for node_id in self._nodes for e in self._out[node_id]]

    def in_edges(self, node_id: str) -> Mapping[str, Edge]:
        """Edges into ``node_id``, by input port name."""
        return self._in[node_id]

    def out_edges(self, node_id: str) -> list[Edge]:
        return self._out[node_id]

    def new_id(self) -> str:
        while True:
            self._id_counter += 1
            node_id = f"n{self._id_counter}"
            if node_id not in self._nodes:
                return node_id

    def unique_name(self, base: str) -> str:
        """``base`` followed by the lowest number that makes a free, valid name."""
        base = name_stem(base)
        k = self._free_from.get(base, 1)
        while f"{base}{k}" in self._names or name_problem(f"{base}{k}"):
            k += 1
        self._free_from[base] = k
        return f"{base}{k}"

    def _name_freed(self, name: str) -> None:
        """``name`` is free again: a number below its stem's start point must be found once more."""
        numbered = _NUMBERED.match(name)
        if numbered is not None:
            stem, number = numbered.group(1), int(numbered.group(2))
            if number < self._free_from.get(stem, 1):
                self._free_from[stem] = number

    def make_node(self, kind: str, name: str | None = None, params: Mapping[str, Any] | None = None,
                  position: tuple[float, float] = (0.0, 0.0), node_id: str | None = None) -> Node:
        """A new node of ``kind`` with default params overridden by ``params`` (not yet added)."""
        if kind not in CATALOG:
            raise EditRefused(f"unknown layer kind {kind!r}")
        spec = CATALOG[kind]
        values = spec.defaults()
        values.update(_deep_copy(params or {}))
        return Node(node_id or self.new_id(), kind, name or self.unique_name(spec.name_base or kind.lower()),
                    values, (float(position[0]), float(position[1])))

    def of_kind(self, kind: str) -> list[Node]:
        """The nodes of ``kind``, in node order (without a pass over every node)."""
        return [self._nodes[n] for n in self._by_kind.get(kind, ())]

    def topological_order(self) -> list[str]:
        """Node ids, every node after all its inputs; ties keep insertion order."""
        if self._order is None:
            indegree = {n: len(self._in[n]) for n in self._nodes}
            ready = [n for n, d in indegree.items() if d == 0]
            order: list[str] = []
            while ready:
                nxt: list[str] = []
                for n in ready:
                    order.append(n)
                    for e in self._out[n]:
                        indegree[e.dst] -= 1
                        if indegree[e.dst] == 0:
                            nxt.append(e.dst)
                ready = nxt
            self._order = order
        return self._order

    def upstream(self, node_ids: Iterable[str]) -> set[str]:
        """The given nodes and every node they are reachable from."""
        seen: set[str] = set()
        stack = [n for n in node_ids if n in self._nodes]
        while stack:
            n = stack.pop()
            if n not in seen:
                seen.add(n)
                stack.extend(e.src for e in self._in[n].values())
        return seen

    def downstream(self, node_ids: Iterable[str]) -> set[str]:
        """The given nodes and every node reachable from them."""
        seen: set[str] = set()
        stack = [n for n in node_ids if n in self._nodes]
        while stack:
            n = stack.pop()
            if n not in seen:
                seen.add(n)
                stack.extend(e.dst for e in self._out[n])
        return seen

    def live_nodes(self) -> set[str]:
        """The nodes a compiled module computes: those whose result reaches an Output, and every
        Input (``forward`` takes them all). Summaries count these; the rest are dead ends."""
        outputs = [n.id for n in self.of_kind("Output")]
        return self.upstream(outputs) | {n.id for n in self.of_kind("Input")}

    # ---- checks --------------------------------------------------------------------
    def add_problem(self, node: Node) -> str | None:
        if node.id in self._nodes:
            return f"a node with id {node.id!r} already exists"
        if node.kind not in CATALOG:
            return f"unknown layer kind {node.kind!r}"
        if node.name in self._names:
            return f"a node named {node.name!r} already exists; names must be unique"
        return name_problem(node.name) or self._params_problem(node.spec, node.params, node.name)

    @staticmethod
    def _params_problem(spec: LayerSpec, params: Mapping[str, Any], name: str) -> str | None:
        problem = spec.value_problem(params)
        return f"{spec.kind} {name!r}: {problem}" if problem else None

    def connect_problem(self, edge: Edge, check_cycle: bool = True) -> str | None:
        """Why ``edge`` cannot be added, or None when it can.

        ``check_cycle=False`` is for bulk loads that have checked for loops already.
        """
        src, dst = self._nodes.get(edge.src), self._nodes.get(edge.dst)
        if src is None or dst is None:
            return f"no node with id {(edge.src if src is None else edge.dst)!r}"
        if edge.src_port not in src.output_ports():
            outs = ", ".join(src.output_ports()) or "none; it is an end point"
            return f"{src.kind} '{src.name}' has no output port '{edge.src_port}' (outputs: {outs})"
        inputs = [p.name for p in dst.input_ports()]
        if edge.dst_port not in inputs:
            ins = ", ".join(inputs) or "none; it is a start point"
            return f"{dst.kind} '{dst.name}' has no input port '{edge.dst_port}' (inputs: {ins})"
        if edge.src == edge.dst:
            return f"'{src.name}' cannot feed itself"
        if check_cycle and edge.src in self.downstream([edge.dst]):
            return f"wiring '{src.name}' into '{dst.name}' would make a loop; networks here flow one way"
        taken = self._in[edge.dst].get(edge.dst_port)
        if taken is not None:
            other = self._nodes[taken.src].name
            return (f"input '{edge.dst_port}' of '{dst.name}' already has a wire from '{other}'; "
                    "remove that wire first")
        return None

    # ---- mutators ------------------------------------------------------------------
    def add_node(self, node: Node, index: int | None = None) -> Node:
        """Add ``node``, last or at ``index`` in node order (undo puts a node back where it was)."""
        problem = self.add_problem(node)
        if problem:
            raise EditRefused(problem)
        if index is None or index >= len(self._nodes):
            self._nodes[node.id] = node
        else:
            items = list(self._nodes.items())
            items.insert(index, (node.id, node))
            self._nodes = dict(items)
        self._names[node.name] = node.id
        self._in[node.id] = {}
        self._out[node.id] = []
        same = self._by_kind.setdefault(node.kind, {})
        if index is not None and index < len(self._nodes) - 1:  # undo: back in node order among its kind
            self._by_kind[node.kind] = {n: None for n in self._nodes if n in same or n == node.id}
        else:
            same[node.id] = None
        self._order = None
        self.structure_version += 1
        self.node_added.emit(node)
        return node

    def remove_node(self, node_id: str) -> Node:
        node = self._nodes.get(node_id)
        if node is None:
            raise EditRefused(f"no node with id {node_id!r}")
        if self._in[node_id] or self._out[node_id]:
            raise EditRefused(f"'{node.name}' still has wires; remove them first (edits.RemoveNode does)")
        del self._nodes[node_id], self._names[node.name], self._in[node_id], self._out[node_id]
        self._name_freed(node.name)
        del self._by_kind[node.kind][node_id]
        self._order = None
        self.structure_version += 1
        self.node_removed.emit(node)
        return node

    def connect(self, edge: Edge, check_cycle: bool = True, index: int | None = None) -> Edge:
        """Add a wire; ``index`` places it among its source's outgoing wires (for undo)."""
        edge = Edge(*edge)
        problem = self.connect_problem(edge, check_cycle)
        if problem:
            raise EditRefused(problem)
        self._in[edge.dst][edge.dst_port] = edge
        outs = self._out[edge.src]
        outs.insert(len(outs) if index is None else index, edge)
        self._order = None
        self.structure_version += 1
        self.edge_added.emit(edge)
        return edge

    def disconnect(self, edge: Edge) -> Edge:
        edge = Edge(*edge)
        if self._in.get(edge.dst, {}).get(edge.dst_port) != edge:
            raise EditRefused(f"there is no such wire: {edge}")
        del self._in[edge.dst][edge.dst_port]
        self._out[edge.src].remove(edge)
        self._order = None
        self.structure_version += 1
        self.edge_removed.emit(edge)
        return edge

    def set_params(self, node_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change some parameter values; returns the old values of those parameters."""
        node = self._nodes[node_id]
        new = dict(node.params)
        new.update(_deep_copy(changes))
        problem = self._params_problem(node.spec, new, node.name)
        if problem:
            raise EditRefused(problem)
        ports = {p.name for p in node.spec.input_ports(new)}
        for port in self._in[node_id]:
            if port not in ports:
                raise EditRefused(f"input '{port}' of '{node.name}' is wired; remove that wire first")
        outs = set(node.spec.output_ports(new))
        for edge in self._out[node_id]:
            if edge.src_port not in outs:
                raise EditRefused(f"output '{edge.src_port}' of '{node.name}' is wired; remove that wire first")
        old = {k: node.params[k] for k in changes}
        node.params = new
        self.node_changed.emit(node, "params")
        return old

    def rename_problem(self, node_id: str, name: str) -> str | None:
        """Why node ``node_id`` cannot be called ``name``, or None (keeping its own name is fine)."""
        if name == self._nodes[node_id].name:
            return None
        return name_problem(name) or (f"a node named {name!r} already exists" if name in self._names else None)

    def rename(self, node_id: str, name: str) -> str:
        node = self._nodes[node_id]
        if name == node.name:
            return name
        if problem := self.rename_problem(node_id, name):
            raise EditRefused(problem)
        old = node.name
        del self._names[old]
        self._name_freed(old)
        self._names[name] = node_id
        node.name = name
        self.node_changed.emit(node, "name")
        return old

    def set_frozen(self, node_id: str, frozen: bool) -> bool:
        """Freeze (or unfreeze) a layer's weights for training; returns the old state (a layer without
        weights has nothing to freeze: the flag is kept, and changes nothing)."""
        node = self._nodes[node_id]
        old = node.frozen
        node.frozen = bool(frozen)
        if old != node.frozen:
            self.node_changed.emit(node, "frozen")
        return old

    def move(self, node_id: str, position: tuple[float, float]) -> tuple[float, float]:
        node = self._nodes[node_id]
        old = node.position
        node.position = (float(position[0]), float(position[1]))
        self.node_changed.emit(node, "position")
        return old
