"""The graph and weights an ONNX import builds, and what the operator mappers ask of it.

:mod:`netbuilder.onnx.ops` maps one ONNX node at a time by calling a :class:`LayerMaker`
(read a constant, find the wire a value stands for, add a catalog layer with its weights);
:mod:`netbuilder.onnx.importer` walks the model and hands each node to its mapper. Kept apart
from both so the mappers and the walk import this module and never each other.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from netbuilder.errors import EditRefused
from netbuilder.layers import CATALOG
from netbuilder.model.graph import Edge, Graph, name_problem
from netbuilder.onnx.reader import dims_of
from netbuilder.onnx.values import Fill, Opaque, OpProblem, Port, RnnOut, Skip, TimeMajor, Unknown


def node_attrs(n: onnx.NodeProto) -> dict[str, Any]:
    """An ONNX node's attributes by name, text ones (``auto_pad``, ``mode``, ...) decoded to ``str``."""
    out = {}
    for a in n.attribute:
        v = onnx.helper.get_attribute_value(a)
        if isinstance(v, list) and v and isinstance(v[0], bytes):
            v = [x.decode() for x in v]
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


class LayerMaker:
    """Builds the graph and the weights while the :mod:`netbuilder.onnx.ops` mappers run.

    Parameters
    ----------
    model:
        A prepared model: checked, folded, shapes inferred.
    file:
        The file name, for messages.
    """

    def __init__(self, model: onnx.ModelProto, file: str) -> None:
        self.model, self.file = model, file
        self.graph = Graph()
        self.weights: dict[str, torch.Tensor] = {}
        g = model.graph
        self.values: dict[str, Any] = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        infos = [*g.input, *g.value_info, *g.output]
        self.shapes = {vi.name: dims_of(vi) for vi in infos if vi.type.HasField("tensor_type")}
        self.elem = {vi.name: vi.type.tensor_type.elem_type for vi in infos}
        self.users = Counter(i for n in g.node for i in n.input) + Counter(o.name for o in g.output)
        self.producer = {o: n for n in g.node for o in n.output if o}  # for mappers that fuse a pattern
        self.memo: dict[Any, Any] = {}  # what a mapper keeps for the nodes after (the Split of a group of Slices)
        self.biasable: dict[str, str] = {}  # ONNX value -> id of the bias-less layer making it
        self.affine: dict[str, str] = {}  # ONNX value -> id of the BatchNorm or Scale making it
        self.rnn_modes: dict[str, str] = {}
        self.outputs: dict[str, str] = {}  # ONNX output name -> Output node id
        self.claimed: dict[str, Any] = {}  # values a pattern mapper has given already (its later nodes are skipped)
        self.pattern_cache: dict[str, Any] = {}  # what pattern mappers compute once per model
        self.unsupported: Counter[str] = Counter()
        self.problems: list[str] = []

    # ---- for mappers -------------------------------------------------------------------
    def value(self, name: str) -> Any:
        return self.values[name]

    def has(self, n: onnx.NodeProto, k: int) -> bool:
        return len(n.input) > k and bool(n.input[k])

    def is_const(self, n: onnx.NodeProto, k: int) -> bool:
        return self.has(n, k) and isinstance(self.values[n.input[k]], np.ndarray)

    def const(self, n: onnx.NodeProto, k: int, what: str) -> np.ndarray:
        if not self.has(n, k):
            raise OpProblem(f"its input {what} is missing")
        v = self.values[n.input[k]]
        if not isinstance(v, np.ndarray):
            raise OpProblem(f"its input {what} ('{n.input[k]}') is computed at run time; netbuilder needs a "
                            "constant (an initializer) there")
        return v

    def port(self, n: onnx.NodeProto, k: int) -> Port:
        if not self.has(n, k):
            raise OpProblem(f"its input {k + 1} is missing")
        if isinstance(self.values[n.input[k]], np.ndarray):
            raise OpProblem(f"its input '{n.input[k]}' is a constant where netbuilder expects a computed tensor")
        return self.resolve(self.values[n.input[k]])

    def resolve(self, v: Any, *_: Any) -> Port:
        """The wire a value stands for, or an OpProblem saying why it has none."""
        if isinstance(v, Port):
            return v
        if isinstance(v, Unknown):
            raise Skip
        if isinstance(v, RnnOut) and v.which == "seq":
            return self.rnn_use(v.node, "sequence")
        if isinstance(v, (Fill, Opaque)):
            raise OpProblem("it uses a tensor computed from shapes at run time, which netbuilder has no layer for")
        if isinstance(v, TimeMajor):
            raise OpProblem("it uses a time-major [T, N, ...] tensor; netbuilder keeps the batch dimension first")
        raise OpProblem("it uses a raw RNN output (states or per-direction values) netbuilder has no wire for")

    def shape(self, name: str) -> tuple[int | None, ...]:
        shape = self.shapes.get(name)
        if shape is None:
            raise OpProblem(f"the shape of '{name}' is not known when importing")
        return shape

    def dtype(self, name: str) -> str:
        t = self.elem.get(name, 0)
        return onnx.helper.tensor_dtype_to_np_dtype(t).name if t else "of unknown type"

    def bidirectional(self, node_id: str) -> bool:
        return bool(self.graph.node(node_id).params["bidirectional"])

    def rnn_use(self, node_id: str, mode: str) -> Port:
        old = self.rnn_modes.setdefault(node_id, mode)
        if old != mode:
            raise OpProblem(f"'{self.graph.node(node_id).name}' is used both as its full sequence and as its last "
                            "step; a netbuilder RNN gives one of them")
        return Port(node_id)

    def add(self, kind: str, n: onnx.NodeProto, params: dict[str, Any], inputs: list[Port],
            weights: dict[str, Any] | None = None, biasable: bool = False, name_suffix: str = "") -> Port:
        """Add a catalog node made from ONNX node ``n``, wired from ``inputs``, with its weights.

        ``name_suffix`` names a helper layer one ONNX node needs besides its main one ('conv1_pad')."""
        g = self.graph
        name = self.node_name(n.name, n.op_type, kind)
        if name_suffix:
            base = name if name_problem(f"{name}_{name_suffix}") is None else CATALOG[kind].name_base
            name = self.node_name(f"{base}_{name_suffix}", "", kind)
        try:
            node = g.add_node(g.make_node(kind, name, params))
            ports = [p.name for p in node.input_ports()]
            for port, src in zip(ports[:len(inputs)], inputs, strict=True):  # optional ports left open
                g.connect(Edge(src.node, src.port, node.id, port), check_cycle=False)
        except EditRefused as exc:
            raise OpProblem(str(exc)) from None
        for key, w in (weights or {}).items():
            if w is not None:
                self.weights[f"{node.name}.{key}"] = w if isinstance(w, torch.Tensor) else _tensor(w)
        if biasable:
            self.biasable[n.output[0]] = node.id
        if kind in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "Scale"):
            self.affine[n.output[0]] = node.id
        return Port(node.id)

    def scale_shift(self, n: onnx.NodeProto, k: int, factor: np.ndarray | None, shift: np.ndarray | None) -> Port:
        """``x * factor + shift`` per channel for input ``k`` of ``n`` (one value per channel each, or None):
        folded into the BatchNorm or Scale making x where nothing else uses x, else a new Scale layer."""
        x, name = self.port(n, k), n.input[k]
        channels = int(self.shape(name)[1])
        node_id = self.affine.get(name) if self.users[name] == 1 else None
        if node_id is None:
            rank = len(self.shape(name))
            node = self.graph.node(self.add("Scale", n, {"bias": shift is not None}, [x]).node)
            ones = np.ones(channels, np.float32)
            kernel = (channels, 1, *[1] * max(rank - 2, 1))
            self.weights[f"{node.name}.weight"] = _tensor((ones if factor is None else factor).reshape(kernel))
            if shift is not None:
                self.weights[f"{node.name}.bias"] = _tensor(shift)
            return Port(node.id)
        node = self.graph.node(node_id)
        w_key, b_key = f"{node.name}.weight", f"{node.name}.bias"
        if b_key not in self.weights:  # a Scale without a shift gets one
            self.graph.set_params(node_id, {"bias": True})
            self.weights[b_key] = torch.zeros(channels)
        weight, bias = self.weights[w_key].double(), self.weights[b_key].double()
        if factor is not None:
            f = torch.from_numpy(factor.astype(np.float64))
            weight, bias = weight * f.reshape(weight.shape), bias * f
        if shift is not None:
            bias = bias + torch.from_numpy(shift.astype(np.float64))
        self.weights[w_key], self.weights[b_key] = weight.float(), bias.float()
        self.affine[n.output[0]] = node_id
        return Port(node_id)

    def made_by(self, value: str, op_type: str, kind: str | None = None) -> onnx.NodeProto | None:
        """The node of ``op_type`` making ``value`` when nothing else uses ``value`` (and, given
        ``kind``, it was mapped to one layer of that kind), else None: the inner node of a pattern a
        mapper may fuse into one layer."""
        n = self.producer.get(value)
        if n is None or n.op_type != op_type or self.users[value] != 1:
            return None
        v = self.values.get(value)
        if kind is not None and not (isinstance(v, Port) and self.graph.node(v.node).kind == kind):
            return None
        return n

    def drop(self, value: str) -> Port:
        """Remove the layer that made ``value`` (a pattern's inner step, fused into the layer that
        follows); returns the wire that fed it."""
        v = self.values[value]
        if not isinstance(v, Port):
            raise OpProblem(f"'{value}' is not a layer's output")
        edges = list(self.graph.in_edges(v.node).values())
        for e in edges:
            self.graph.disconnect(e)
        self.graph.remove_node(v.node)
        return Port(edges[0].src, edges[0].src_port) if edges else v

    def bias_target(self, value: str) -> str | None:
        return self.biasable.get(value) if self.users[value] == 1 else None

    def set_bias(self, node_id: str, c: np.ndarray) -> Port:
        """Fold a constant added right after a bias-less Linear or Conv into its bias."""
        node = self.graph.node(node_id)
        if node.kind == "Linear":
            m, fits = node.params["out_features"], c.size == 1 or c.shape[-1] == c.size
        else:  # one value per channel: [M, 1, ...] after any leading 1s
            m, nd = node.params["out_channels"], int(node.kind[4])
            fits = c.size == 1 or (c.ndim > nd and c.shape[-nd - 1] == c.size)
        if not fits or c.size not in (1, m):
            raise OpProblem(f"adds a constant of shape {list(c.shape)}, which is not one bias per output of "
                            f"'{node.name}'; netbuilder has no layer for adding other constants")
        self.graph.set_params(node_id, {"bias": True})
        self.weights[f"{node.name}.bias"] = _tensor(np.broadcast_to(c.reshape(-1), (m,)))
        return Port(node_id)

    def node_name(self, raw: str, op_type: str, kind: str) -> str:
        """A free node name from an ONNX node's, input's or output's name: '/conv1/Conv' gives
        'conv1', as torch named the layer."""
        raw = raw.removeprefix("node_")  # the dynamo exporter's 'node_linear', 'node_MatMul_3'
        parts = [p for p in raw.replace(".", "/").replace("::", "/").split("/") if p]
        if op_type and len(parts) > 1 and re.fullmatch(rf"{op_type}(_\d+)?", parts[-1]):
            parts = parts[:-1]  # torch's '/scope/Op_2'
        elif op_type and len(parts) == 1 and re.fullmatch(rf"{op_type}(_?\d+)?", parts[0], re.IGNORECASE):
            parts = []  # 'Relu_3' says nothing the kind does not
        base = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in "_".join(parts))[:60]
        if not base.strip("_"):
            # No name of its own: number it like the palette numbers a new node ('relu1').
            return self.graph.unique_name(CATALOG[kind].name_base or kind.lower())
        if base[0].isdigit():
            base = f"n{base}"
        if name_problem(base) is None and self.graph.by_name(base) is None:
            return base
        return self.graph.unique_name(base)


def _tensor(a: np.ndarray) -> torch.Tensor:
    # A float32 weight held apart by the reader is used as it is (no second copy); views and
    # read-only arrays are copied.
    return torch.from_numpy(np.require(a, np.float32, ["C_CONTIGUOUS", "WRITEABLE", "ALIGNED"]))


__all__ = ["LayerMaker"]


# What maps one ONNX op: given the layer maker and the node, the node's output values.
Mapper = Callable[[LayerMaker, onnx.NodeProto], list]
