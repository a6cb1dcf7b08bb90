"""Mappers for what modern architectures add to the classic CNN ops, as torch's two exporters write them.

* ``Clip`` (ReLU6, ReLU, Hardtanh: bounds as inputs from opset 11, attributes before), ``HardSwish``,
  ``HardSigmoid`` (torch's alpha and beta only), ``Mish`` and its form before opset 18
  (Softplus, Tanh, Mul), exact GELU's form before opset 20 (Div, Erf, Add, Mul, Mul) and tanh GELU's
  (Mul, Mul, Mul, Add, Mul, Tanh, Add, Mul, Mul);
* ``ReduceMean`` over the spatial axes (the dynamo exporter's global average pool) or the
  positions of a sequence; ``LayerNormalization`` and its form before opset 17;
* ``h_n[-1]`` of an RNN (one layer or stacked).

Patterns (``PATTERNS``) are tried before an op's own mapper and return None when they do not
match; the nodes they cover are handed their values through ``LayerMaker.claimed``. The
value index at the end serves :mod:`netbuilder.onnx.ops_attention` too.
:mod:`netbuilder.onnx.ops` and its element-wise and sequence mappers import this module (never the other way round).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import onnx

from netbuilder.onnx.layer_maker import LayerMaker
from netbuilder.onnx.values import Opaque, OpProblem, Port, RnnOut, RnnStates, Value

_BIG = 1e6  # Hardtanh's bounds are kept within this; a Clip wider than it is a one-sided clamp


def attrs(n: onnx.NodeProto) -> dict[str, Any]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}


def _scalar(b: LayerMaker, n: onnx.NodeProto, k: int, what: str) -> float | None:
    if not b.has(n, k):
        return None
    c = b.const(n, k, what)
    if c.size != 1:
        raise OpProblem(f"its {what} has {c.size} values; netbuilder clamps with one bound")
    return float(c.reshape(-1)[0])


# ---- activations ---------------------------------------------------------------------------
def clip(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    a = attrs(n)
    lo = _scalar(b, n, 1, "min") if b.has(n, 1) else a.get("min")
    hi = _scalar(b, n, 2, "max") if b.has(n, 2) else a.get("max")
    lo = -math.inf if lo is None or lo <= -3.4e38 else float(lo)
    hi = math.inf if hi is None or hi >= 3.4e38 else float(hi)
    x = b.port(n, 0)
    if lo == 0 and hi == 6:
        return [b.add("ReLU6", n, {}, [x])]
    if lo == 0 and hi == math.inf:
        return [b.add("ReLU", n, {}, [x])]
    if -_BIG <= lo < hi <= _BIG:
        return [b.add("Hardtanh", n, {"min_val": lo, "max_val": hi}, [x])]
    raise OpProblem(f"Clip to [{lo}, {hi}] has no netbuilder layer (ReLU6 clamps to [0, 6], ReLU to [0, inf), "
                    f"Hardtanh to finite bounds within ±{_BIG:g} with min below max); give the clamp both bounds "
                    "in the model (torch.clamp(x, min, max)) and export it again")


def hard_sigmoid(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    a = attrs(n)
    alpha, beta = float(a.get("alpha", 0.2)), float(a.get("beta", 0.5))
    if not (math.isclose(alpha, 1 / 6, rel_tol=1e-5) and math.isclose(beta, 0.5, rel_tol=1e-6)):
        raise OpProblem(f"HardSigmoid with alpha={alpha:g}, beta={beta:g} differs from torch's Hardsigmoid "
                        "(alpha=1/6, beta=0.5), netbuilder's only one; export the model with torch's")
    return [b.add("Hardsigmoid", n, {}, [b.port(n, 0)])]


def unary(kind: str):
    def mapper(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
        return [b.add(kind, n, {}, [b.port(n, 0)])]

    return mapper


def _is_scalar(c: np.ndarray | None, value: float) -> bool:
    return c is not None and c.size == 1 and math.isclose(float(c.reshape(-1)[0]), value, rel_tol=1e-5)


def gelu_pattern(b: LayerMaker, n: onnx.NodeProto) -> list[Value] | None:
    """Exact GELU as torch writes it before opset 20: x * (1 + erf(x / sqrt 2)) * 0.5, from its Div; None
    when this Div starts something else (its own mapper, if any, then takes it)."""
    x, g = n.input[0], value_index(b)
    if isinstance(b.values.get(x), np.ndarray) or not _is_scalar(const_input(b, n, 1), math.sqrt(2)):
        return None
    erf = g.only_user(n.output[0])
    add = g.only_user(erf.output[0]) if erf is not None and erf.op_type == "Erf" else None
    if add is None or not _is_scalar(_with_const(b, add, "Add", erf.output[0]), 1.0):
        return None
    mul = g.only_user(add.output[0])
    if mul is None or mul.op_type != "Mul" or sorted(mul.input) != sorted([x, add.output[0]]):
        return None
    half = g.only_user(mul.output[0])
    if not _is_scalar(_with_const(b, half, "Mul", mul.output[0]), 0.5):
        return None
    port = b.add("GELU", n, {"approximate": "none"}, [b.port(n, 0)])
    for node in (erf, add, mul):
        b.claimed[node.output[0]] = Opaque()
    b.claimed[half.output[0]] = port
    return [Opaque()]


def _of(node: onnx.NodeProto | None, op: str, *inputs: str) -> bool:
    """Whether ``node`` is an ``op`` of exactly ``inputs`` (in either order)."""
    return node is not None and node.op_type == op and sorted(node.input) == sorted(inputs)


def gelu_tanh_pattern(b: LayerMaker, n: onnx.NodeProto) -> list[Value] | None:
    """GELU(approximate='tanh') as torch writes it before opset 20, from its first Mul:
    0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x * x * x))); None when this Mul starts something else."""
    x, g = n.input[0], value_index(b)
    if n.op_type != "Mul" or list(n.input) != [x, x] or isinstance(b.values.get(x), np.ndarray):
        return None
    cube = g.only_user(n.output[0])
    if not _of(cube, "Mul", x, n.output[0]):
        return None
    scaled = g.only_user(cube.output[0])
    if not _is_scalar(_with_const(b, scaled, "Mul", cube.output[0]), 0.044715):
        return None
    inner = g.only_user(scaled.output[0])
    if not _of(inner, "Add", x, scaled.output[0]):
        return None
    arg = g.only_user(inner.output[0])
    if not _is_scalar(_with_const(b, arg, "Mul", inner.output[0]), math.sqrt(2 / math.pi)):
        return None
    tanh = g.only_user(arg.output[0])
    if tanh is None or tanh.op_type != "Tanh":
        return None
    one_plus = g.only_user(tanh.output[0])
    if not _is_scalar(_with_const(b, one_plus, "Add", tanh.output[0]), 1.0):
        return None
    times_x = g.only_user(one_plus.output[0])
    if not _of(times_x, "Mul", x, one_plus.output[0]):
        return None
    half = g.only_user(times_x.output[0])
    if not _is_scalar(_with_const(b, half, "Mul", times_x.output[0]), 0.5):
        return None
    port = b.add("GELU", n, {"approximate": "tanh"}, [b.port(n, 0)])
    for node in (cube, scaled, inner, arg, tanh, one_plus, times_x):
        b.claimed[node.output[0]] = Opaque()
    b.claimed[half.output[0]] = port
    return [Opaque()]


def mish_pattern(b: LayerMaker, n: onnx.NodeProto) -> list[Value] | None:
    """Mish as torch writes it before opset 18: x * tanh(softplus(x)), from its Softplus."""
    x, g = n.input[0], value_index(b)
    tanh = g.only_user(n.output[0])
    mul = g.only_user(tanh.output[0]) if tanh is not None and tanh.op_type == "Tanh" else None
    if mul is None or mul.op_type != "Mul" or sorted(mul.input) != sorted([x, tanh.output[0]]):
        return None
    port = b.add("Mish", n, {}, [b.port(n, 0)])
    b.claimed[tanh.output[0]] = Opaque()
    b.claimed[mul.output[0]] = port
    return [Opaque()]


# ---- reductions and norms ------------------------------------------------------------------
def reduce_mean(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    a = attrs(n)
    rank = len(b.shape(n.input[0]))
    raw = b.const(n, 1, "axes").reshape(-1) if b.has(n, 1) else a.get("axes", [])
    axes = sorted(int(x) % rank for x in raw)
    if not axes and a.get("noop_with_empty_axes", 0):
        return [b.port(n, 0)]
    keep = bool(a.get("keepdims", 1))
    if keep and axes == [rank - 1] and rank >= 2:
        norm = _decomposed_layer_norm(b, n)
        if norm is not None:
            return norm
    x = b.port(n, 0)
    if rank == 3 and axes == [1]:  # the mean over the positions of [N, T, F]: pool the permuted [N, F, T]
        x = b.add("Permute", _helper(n, "Transpose"), {"dims": [0, 2, 1]}, [x])
        pooled = b.add("AdaptiveAvgPool1d", n, {"output_size": 1}, [x])
        return [b.add("Permute", _helper(n, "Transpose", 2), {"dims": [0, 2, 1]}, [pooled]) if keep else
                b.add("Flatten", _helper(n, "Flatten"), {"start_dim": 1, "end_dim": -1}, [pooled])]
    if rank not in (3, 4) or axes != list(range(2, rank)):
        raise OpProblem(f"ReduceMean over axes {axes} of a rank-{rank} tensor has no netbuilder layer (only the "
                        "mean over all spatial axes, a global average pool, maps to AdaptiveAvgPool with size 1; "
                        "and the mean over the positions of a [N, T, F] sequence)")
    pooled = b.add(f"AdaptiveAvgPool{rank - 2}d", n, {"output_size": 1}, [x])
    return [pooled if keep else b.add("Flatten", _helper(n, "Flatten"), {"start_dim": 1, "end_dim": -1}, [pooled])]


def _reduce_axes(b: LayerMaker, n: onnx.NodeProto, rank: int) -> list[int] | None:
    raw = const_input(b, n, 1) if len(n.input) > 1 and n.input[1] else attrs(n).get("axes")
    return None if raw is None else sorted(int(x) % rank for x in np.asarray(raw).reshape(-1))


def _with_const(b: LayerMaker, node: onnx.NodeProto | None, op: str, value: str) -> np.ndarray | None:
    """The constant other input of ``node`` when it is an ``op`` of ``value`` and a constant, else None."""
    if node is None or node.op_type != op or len(node.input) != 2 or value not in node.input:
        return None
    return const_input(b, node, 1 - list(node.input).index(value))


def _decomposed_layer_norm(b: LayerMaker, n: onnx.NodeProto) -> list[Value] | None:
    """LayerNorm as older opsets write it: (x - mean) / sqrt(mean((x - mean)^2) + eps) * scale + bias."""
    g, x = value_index(b), n.input[0]
    rank = len(b.shape(x))
    sub = g.only_user(n.output[0])
    if sub is None or sub.op_type != "Sub" or list(sub.input) != [x, n.output[0]]:
        return None
    d = sub.output[0]
    users = [g.nodes[k] for k in g.users.get(d, [])]
    pow_ = next((u for u in users if u.op_type == "Pow" and u.input[0] == d), None)
    div = next((u for u in users if u.op_type == "Div" and u.input[0] == d), None)
    two = const_input(b, pow_, 1) if pow_ is not None else None
    if len(users) != 2 or div is None or two is None or two.size != 1 or float(two.reshape(-1)[0]) != 2.0:
        return None
    var = g.only_user(pow_.output[0])
    if var is None or var.op_type != "ReduceMean" or _reduce_axes(b, var, rank) != [rank - 1] \
            or not attrs(var).get("keepdims", 1):
        return None
    add = g.only_user(var.output[0])
    eps = _with_const(b, add, "Add", var.output[0])
    sqrt = g.only_user(add.output[0]) if eps is not None and eps.size == 1 else None
    if sqrt is None or sqrt.op_type != "Sqrt" or list(div.input) != [d, sqrt.output[0]] \
            or g.only_user(sqrt.output[0]) is not div:
        return None
    width = b.shape(x)[-1]
    nodes, end = [n, sub, pow_, var, add, sqrt, div], div.output[0]
    scale, bias = np.ones(width, np.float32), np.zeros(width, np.float32)
    mul = g.only_user(end)
    c = _with_const(b, mul, "Mul", end)
    if c is not None and c.size == width and c.shape[-1] == width:
        scale, end = c.reshape(width), mul.output[0]
        nodes.append(mul)
    plus = g.only_user(end)
    c = _with_const(b, plus, "Add", end)
    if c is not None and c.size == width and c.shape[-1] == width:
        bias, end = c.reshape(width), plus.output[0]
        nodes.append(plus)
    params = {"dims": 1, "eps": float(eps.reshape(-1)[0]), "elementwise_affine": True}
    port = b.add("LayerNorm", n, params, [b.port(n, 0)], {"weight": scale, "bias": bias})
    for node in nodes[1:]:
        for o in node.output:
            b.claimed[o] = Opaque()
    b.claimed[end] = port
    return [Opaque()]


def _helper(n: onnx.NodeProto, op: str, k: int = 1) -> onnx.NodeProto:
    """A node standing for one of the extra layers ``n`` becomes, for its name ('/pool/Flatten')."""
    scope = n.name.rsplit("/", 1)[0] if "/" in n.name else ""
    return onnx.helper.make_node(op, [], [n.output[0]], name=f"{scope}/{op}" if k == 1 else f"{scope}/{op}_{k}")


def layer_norm(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    a = attrs(n)
    if any(o for o in n.output[1:]):
        raise OpProblem("LayerNormalization's Mean and InvStdDev outputs have no netbuilder equal")
    shape = b.shape(n.input[0])
    rank, axis = len(shape), int(a.get("axis", -1))
    dims = rank - axis % rank
    if axis % rank == 0:
        raise OpProblem("LayerNormalization over the batch dimension has no netbuilder layer (axis must be 1 or more)")
    scale = b.const(n, 1, "scale")
    norm_shape = list(shape[rank - dims:])
    bias = b.const(n, 2, "B") if b.has(n, 2) else np.zeros(norm_shape, np.float32)
    if None in norm_shape or list(scale.shape) != norm_shape or list(bias.shape) != norm_shape:
        raise OpProblem(f"its scale {list(scale.shape)} and bias {list(bias.shape)} are not one value per "
                        f"normalised element {norm_shape}; torch's LayerNorm needs that")
    params = {"dims": dims, "eps": float(a.get("epsilon", 1e-5)), "elementwise_affine": True}
    return [b.add("LayerNorm", n, params, [b.port(n, 0)], {"weight": scale, "bias": bias})]


# ---- the final states of RNNs (h_n) -----------------------------------------------------------
def stacked_states(b: LayerMaker, n: onnx.NodeProto) -> RnnStates | None:
    """Concat along axis 0 of the Y_h of one-layer RNNs: torch's h_n of a stacked RNN."""
    values = [b.value(i) for i in n.input]
    if int(attrs(n).get("axis", 0)) == 0 and all(isinstance(v, RnnOut) and v.which == "Y_h" for v in values):
        return RnnStates(tuple(values))
    return None


def final_state(b: LayerMaker, v: Value, index: int) -> Port | None:
    """``h_n[index]`` as the 'last' output of that layer; None when ``v`` is no RNN's final states."""
    layers = v.items if isinstance(v, RnnStates) else (v,) if isinstance(v, RnnOut) and v.which == "Y_h" else None
    if layers is None:
        return None
    if any(b.bidirectional(s.node) for s in layers):
        raise OpProblem("indexing the final states of a bidirectional RNN picks one direction, which a netbuilder "
                        "RNN does not give on its own; use the output sequence's last step (y[:, -1]) instead")
    if not -len(layers) <= index < len(layers):
        raise OpProblem(f"index {index} is outside the {len(layers)} layer(s) of these final states")
    return b.rnn_use(layers[index].node, "last")


# ---- an index of the model's values, for the pattern mappers ---------------------------------
class ValueIndex:
    """Producers and users of every value of the prepared model."""

    def __init__(self, model: onnx.ModelProto) -> None:
        nodes = list(model.graph.node)
        self.nodes = nodes
        self.producer = {o: k for k, n in enumerate(nodes) for o in n.output if o}
        self.users: dict[str, list[int]] = defaultdict(list)
        for k, n in enumerate(nodes):
            for i in n.input:
                if i:
                    self.users[i].append(k)
        self.outputs = {o.name for o in model.graph.output}

    def only_user(self, value: str) -> onnx.NodeProto | None:
        """The one node that uses ``value`` as data (Shape and Size read only its shape)."""
        users = [k for k in self.users.get(value, []) if self.nodes[k].op_type not in ("Shape", "Size")]
        return self.nodes[users[0]] if len(users) == 1 and value not in self.outputs else None


def value_index(b: LayerMaker) -> ValueIndex:
    if "graph" not in b.pattern_cache:
        b.pattern_cache["graph"] = ValueIndex(b.model)
    return b.pattern_cache["graph"]


def const_input(b: LayerMaker, n: onnx.NodeProto, k: int) -> np.ndarray | None:
    """Input ``k`` of a node not mapped yet when it is a constant (an initializer), else None."""
    v = b.values.get(n.input[k]) if len(n.input) > k and n.input[k] else None
    return v if isinstance(v, np.ndarray) else None


# Tried before the op's own mapper (another module's, or none); a None result hands the node on.
PATTERNS = {"Div": gelu_pattern, "Softplus": mish_pattern, "Mul": gelu_tanh_pattern}

MAPPERS = {
    "Clip": clip, "HardSwish": unary("Hardswish"), "HardSigmoid": hard_sigmoid, "Mish": unary("Mish"),
    "ReduceMean": reduce_mean, "LayerNormalization": layer_norm,
}

def select(b: LayerMaker, n: onnx.NodeProto, axis: int, index: int, keep: bool) -> list[Value]:
    """Step ``index`` of input 0 along ``axis`` (not the batch): a Split into it and what lies either side, only
    it wired, then a Reshape without that axis unless ``keep`` (``x[:, -1]`` of a computed tensor)."""
    shape = b.shape(n.input[0])
    size = shape[axis]
    if size is None:
        raise OpProblem(f"it picks one step of dim {axis}, whose size is not known when importing")
    if not -size <= index < size:
        raise OpProblem(f"index {index} is outside dim {axis} of size {size}")
    start = index % size
    x = b.port(n, 0)
    if size > 1:
        own = ("slice", n.input[0], axis, start, start + 1)  # shared with a Slice of the same step
        if own not in b.memo:
            ranges = [(0, start)] * (start > 0) + [(start, start + 1)] + [(start + 1, size)] * (start + 1 < size)
            node = b.add("Split", n, {"sizes": [e - s for s, e in ranges], "dim": axis}, [x]).node
            b.memo[own] = node, {r: f"out{k}" for k, r in enumerate(ranges, 1)}  # as ops_shape's Slice keeps it
        node, ports = b.memo[own]
        x = Port(node, ports[start, start + 1])
    if keep:
        return [x]
    rest = [d for k, d in enumerate(shape) if k not in (0, axis)]
    if not rest or any(d is None for d in rest):
        raise OpProblem("picking one step leaves only the batch dimension or sizes not known when importing; "
                        "netbuilder layers keep at least one more dim of known size")
    return [b.add("Reshape", n, {"shape": [int(d) for d in rest]}, [x])]


__all__ = ["MAPPERS", "PATTERNS", "ValueIndex", "attrs", "const_input", "final_state", "select", "stacked_states",
           "value_index"]
