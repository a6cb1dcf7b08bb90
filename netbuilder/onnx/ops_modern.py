"""Mappers for what modern architectures add to the classic CNN ops, as torch's two exporters write them.

* ``Clip`` (ReLU6 and Hardtanh: bounds as inputs from opset 11, attributes before), ``HardSwish``,
  ``HardSigmoid`` (torch's alpha and beta only), ``Mish``;
* ``ReduceMean`` over the spatial axes: the dynamo exporter's global average pool;
* ``LayerNormalization``;
* self-attention: the ops ``nn.MultiheadAttention`` (and so ``nn.TransformerEncoderLayer``) is
  exported as, from the in-projection ``MatMul`` of a time-major ``[T, N, E]`` tensor to the
  ``Transpose`` back to batch-first after the out-projection. The region is matched by its
  structure, its weights are read, and it becomes one MultiheadAttention only when ONNX Runtime
  on the region itself and torch's layer with those weights agree on a random input; otherwise
  the node is refused with the reason.

:mod:`netbuilder.onnx.ops` imports this module (never the other way round).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import onnx
import torch

from netbuilder.onnx.layer_maker import LayerMaker
from netbuilder.onnx.values import Opaque, OpProblem, Port, RnnOut, RnnStates, TimeMajor, Value

_CHECK_LIMIT = 1 << 24  # T·T·E at most, for the ONNX Runtime check of an attention region
_BIG = 1e6  # Hardtanh's bounds are kept within this; a Clip wider than it is a one-sided clamp


def _attrs(n: onnx.NodeProto) -> dict[str, Any]:
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
    a = _attrs(n)
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
    a = _attrs(n)
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
    x, g = n.input[0], _graph(b)
    if isinstance(b.values.get(x), np.ndarray) or not _is_scalar(_cval(b, n, 1), math.sqrt(2)):
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


def mish_pattern(b: LayerMaker, n: onnx.NodeProto) -> list[Value] | None:
    """Mish as torch writes it before opset 18: x * tanh(softplus(x)), from its Softplus."""
    x, g = n.input[0], _graph(b)
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
    a = _attrs(n)
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
    raw = _cval(b, n, 1) if len(n.input) > 1 and n.input[1] else _attrs(n).get("axes")
    return None if raw is None else sorted(int(x) % rank for x in np.asarray(raw).reshape(-1))


def _with_const(b: LayerMaker, node: onnx.NodeProto | None, op: str, value: str) -> np.ndarray | None:
    """The constant other input of ``node`` when it is an ``op`` of ``value`` and a constant, else None."""
    if node is None or node.op_type != op or len(node.input) != 2 or value not in node.input:
        return None
    return _cval(b, node, 1 - list(node.input).index(value))


def _decomposed_layer_norm(b: LayerMaker, n: onnx.NodeProto) -> list[Value] | None:
    """LayerNorm as older opsets write it: (x - mean) / sqrt(mean((x - mean)^2) + eps) * scale + bias."""
    g, x = _graph(b), n.input[0]
    rank = len(b.shape(x))
    sub = g.only_user(n.output[0])
    if sub is None or sub.op_type != "Sub" or list(sub.input) != [x, n.output[0]]:
        return None
    d = sub.output[0]
    users = [g.nodes[k] for k in g.users.get(d, [])]
    pow_ = next((u for u in users if u.op_type == "Pow" and u.input[0] == d), None)
    div = next((u for u in users if u.op_type == "Div" and u.input[0] == d), None)
    two = _cval(b, pow_, 1) if pow_ is not None else None
    if len(users) != 2 or div is None or two is None or two.size != 1 or float(two.reshape(-1)[0]) != 2.0:
        return None
    var = g.only_user(pow_.output[0])
    if var is None or var.op_type != "ReduceMean" or _reduce_axes(b, var, rank) != [rank - 1] \
            or not _attrs(var).get("keepdims", 1):
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
    a = _attrs(n)
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
    if int(_attrs(n).get("axis", 0)) == 0 and all(isinstance(v, RnnOut) and v.which == "Y_h" for v in values):
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


# ---- self-attention ------------------------------------------------------------------------
class _Graph:
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


def _graph(b: LayerMaker) -> _Graph:
    if "graph" not in b.pattern_cache:
        b.pattern_cache["graph"] = _Graph(b.model)
    return b.pattern_cache["graph"]


def _forward_find(g: _Graph, start: str, op: str, limit: int = 200) -> onnx.NodeProto | None:
    """The first node of type ``op`` reachable from value ``start`` (breadth first, bounded)."""
    seen, queue = set(), [start]
    while queue and len(seen) < limit:
        v = queue.pop(0)
        for k in g.users.get(v, []):
            if k in seen:
                continue
            seen.add(k)
            if g.nodes[k].op_type == op:
                return g.nodes[k]
            queue.extend(o for o in g.nodes[k].output if o)
    return None


def _cval(b: LayerMaker, n: onnx.NodeProto, k: int) -> np.ndarray | None:
    """Input ``k`` of a node not mapped yet when it is a constant (an initializer), else None."""
    v = b.values.get(n.input[k]) if len(n.input) > k and n.input[k] else None
    return v if isinstance(v, np.ndarray) else None


def _linear_weight(b: LayerMaker, n: onnx.NodeProto, e: int) -> np.ndarray | None:
    """The [out, in] weight of a MatMul or Gemm by a constant [E, E], or None."""
    w = _cval(b, n, 1)
    if n.op_type not in ("MatMul", "Gemm") or w is None or _cval(b, n, 0) is not None:
        return None
    if w.shape != (e, e):
        return None
    if n.op_type == "Gemm":
        a = _attrs(n)
        if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0:
            return None
        return w if a.get("transB", 0) else w.T
    return w.T


def _bias_after(b: LayerMaker, g: _Graph, n: onnx.NodeProto, size: int) -> tuple[np.ndarray, str]:
    """The constant added right after ``n`` (or by Gemm's C) and the value that carries the sum."""
    c = _cval(b, n, 2) if n.op_type == "Gemm" else None
    if c is not None and c.size in (1, size):
        scale = float(_attrs(n).get("beta", 1.0))
        return (np.broadcast_to(c.reshape(-1), (size,)) * scale).astype(np.float32), n.output[0]
    user = g.only_user(n.output[0])
    if user is not None and user.op_type == "Add" and len(user.input) == 2:
        for c in (_cval(b, user, 0), _cval(b, user, 1)):
            if c is not None and c.size == size and c.shape[-1] == size:
                return c.reshape(size).astype(np.float32), user.output[0]
    return np.zeros(size, np.float32), n.output[0]


def _region(b: LayerMaker, g: _Graph, end: str, x: str) -> list[int] | None:
    """The nodes ``end`` depends on back to ``x`` and constants, in order; None when it reaches another input."""
    region, stack = set(), [end]
    while stack:
        v = stack.pop()
        if v == x or v not in g.producer:  # x, or an initializer
            continue
        k = g.producer[v]
        if k in region:
            continue
        region.add(k)
        for i in g.nodes[k].input:
            if not i or i == x:
                continue
            if i not in g.producer and not isinstance(b.values.get(i), np.ndarray):
                return None  # another graph input: not one self-attention of x
            stack.append(i)
        if len(region) > 2000:
            return None
    inner = {o for k in region for o in g.nodes[k].output if o}
    for v in inner - {end}:  # nothing outside uses the region's inner values
        if v in g.outputs or any(u not in region for u in g.users.get(v, [])):
            return None
    return sorted(region)


def _run_region(b: LayerMaker, g: _Graph, region: list[int], x: str, end: str, feed: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    nodes = [g.nodes[k] for k in region]
    names = {i for n in nodes for i in n.input if i and i not in g.producer and i != x}
    inits = [onnx.numpy_helper.from_array(np.asarray(b.values[i]), i) for i in sorted(names)]
    graph = onnx.helper.make_graph(
        nodes, "attention",
        [onnx.helper.make_tensor_value_info(x, onnx.TensorProto.FLOAT, ["N", *feed.shape[1:]])],
        [onnx.helper.make_tensor_value_info(end, onnx.TensorProto.FLOAT, None)], inits)
    model = onnx.helper.make_model(graph, opset_imports=list(b.model.opset_import), ir_version=b.model.ir_version)
    so = ort.SessionOptions()
    so.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return session.run(None, {x: feed})[0]


def self_attention(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    """The in-projection MatMul of a time-major tensor: the start of torch's MultiheadAttention."""
    v = b.value(n.input[0])
    assert isinstance(v, TimeMajor)
    g = _graph(b)
    why = "it multiplies a time-major [T, N, ...] tensor, which netbuilder has no wire for"
    fix = "; only torch's self-attention (nn.MultiheadAttention with query = key = value) maps, to MultiheadAttention"
    if not b.is_const(n, 1) or not isinstance(v.inner, Port) or n.input[0] not in g.producer:
        raise OpProblem(why + fix)
    transpose = g.nodes[g.producer[n.input[0]]]
    x = transpose.input[0]
    shape = b.shape(x)
    w_in = b.const(n, 1, "weight")
    if len(shape) != 3 or None in shape[1:] or w_in.shape != (shape[2], 3 * shape[2]):
        raise OpProblem(f"{why} by a weight of shape {list(w_in.shape)}, not [E, 3E] as an in-projection{fix}")
    t, e = int(shape[1]), int(shape[2])
    if t * t * e > _CHECK_LIMIT:  # the check below runs the region: [T, T] scores per head, on two samples
        raise OpProblem(f"{why}: checking its attention pattern on {t} positions of width {e} would take "
                        f"over {_CHECK_LIMIT:,} values; shorten the sequence the model was exported with{fix}")
    in_bias, _ = _bias_after(b, g, n, 3 * e)
    softmax = _forward_find(g, n.output[0], "Softmax")
    out_proj = _forward_find(g, softmax.output[0], "Gemm") if softmax is not None else None
    alt = _forward_find(g, softmax.output[0], "MatMul") if softmax is not None else None
    candidates = [c for c in (out_proj, alt) if c is not None and _linear_weight(b, c, e) is not None]
    if softmax is None or not candidates:
        raise OpProblem(f"{why}: no Softmax and [E, E] out-projection follow it{fix}")
    out_proj = min(candidates, key=lambda c: g.producer[c.output[0]])
    w_out = _linear_weight(b, out_proj, e)
    out_bias, value = _bias_after(b, g, out_proj, e)
    end = None
    for _ in range(4):  # Reshape [T, N, E], then Transpose back to batch-first
        user = g.only_user(value)
        if user is None:
            break
        if user.op_type == "Transpose" and list(_attrs(user).get("perm", [])) == [1, 0, 2]:
            end = user.output[0]
            break
        if user.op_type not in ("Reshape", "Identity"):
            break
        value = user.output[0]
    region = _region(b, g, end, x) if end is not None else None
    if region is None or g.producer[n.output[0]] not in region:
        raise OpProblem(f"{why}: the region from it to the out-projection is not one self-attention of "
                        f"'{x}' transposed back to batch-first{fix}")
    sm_shape = b.shape(softmax.input[0]) if softmax.input[0] in b.shapes else ()
    heads = [int(sm_shape[1])] if len(sm_shape) == 4 and sm_shape[1] else [h for h in range(1, e + 1) if e % h == 0]
    feed = np.random.default_rng(0).standard_normal((2, t, e)).astype(np.float32)
    try:
        want = _run_region(b, g, region, x, end, feed)
    except Exception as exc:
        raise OpProblem(f"{why}: its attention region does not run on its own ({type(exc).__name__}){fix}") from None
    weights = {"in_proj_weight": w_in.T, "in_proj_bias": in_bias, "out_proj.weight": w_out, "out_proj.bias": out_bias}
    for h in heads:
        mha = torch.nn.MultiheadAttention(e, h, bias=True, batch_first=True).eval()
        mha.load_state_dict({k: torch.from_numpy(np.array(w, np.float32)) for k, w in weights.items()})
        with torch.no_grad():
            got = mha(*(torch.from_numpy(feed),) * 3, need_weights=False)[0].numpy()
        if got.shape == want.shape and np.allclose(got, want, rtol=1e-4, atol=1e-5):
            port = b.add("MultiheadAttention", n, {"num_heads": h, "dropout": 0.0, "bias": True}, [port_of(v)],
                         weights)
            for k in region:
                for o in g.nodes[k].output:
                    if o:
                        b.claimed[o] = Opaque()
            b.claimed[end] = port
            return [Opaque()]
    raise OpProblem(f"{why}: its attention region computes something other than torch's MultiheadAttention with "
                    f"its weights (tried {len(heads)} head count(s)){fix}")


def port_of(v: TimeMajor) -> Port:
    return v.inner


# Tried before the op's own mapper (another module's, or none); a None result hands the node on.
PATTERNS = {"Div": gelu_pattern, "Softplus": mish_pattern}

MAPPERS = {
    "Clip": clip, "HardSwish": unary("Hardswish"), "HardSigmoid": hard_sigmoid, "Mish": unary("Mish"),
    "ReduceMean": reduce_mean, "LayerNormalization": layer_norm,
}

__all__ = ["MAPPERS", "PATTERNS", "final_state", "fuse_encoder_layers", "self_attention", "stacked_states"]


# ---- after the walk: an encoder layer's parts as one TransformerEncoderLayer -----------------
_EPS = 1e-5  # TransformerEncoderLayer's layer_norm_eps, which the catalog kind does not change


def fuse_encoder_layers(b: LayerMaker) -> None:
    """Replace each MultiheadAttention, Add, LayerNorm, Linear, ReLU/GELU, Linear, Add, LayerNorm chain
    (post-norm; or the pre-norm order) that computes exactly ``nn.TransformerEncoderLayer`` by one."""
    g = b.graph
    for m in [n for n in g.nodes.values() if n.kind == "MultiheadAttention"]:
        found = _encoder_parts(b, m.id)
        if found is not None:
            _replace_by_encoder(b, *found)


def _single_user(g, node_id: str):
    outs = g.out_edges(node_id)
    return g.node(outs[0].dst) if len(outs) == 1 else None


def _inputs(g, node_id: str) -> list[str]:
    return [e.src for e in g.in_edges(node_id).values()]


def _is(node, kind: str, **params: Any) -> bool:
    return node is not None and node.kind == kind and all(node.params.get(k) == v for k, v in params.items())


def _encoder_parts(b: LayerMaker, mha_id: str):
    g = b.graph
    m = g.node(mha_id)
    ins = g.in_edges(mha_id)
    if set(ins) != {"query"} or m.params["dropout"] != 0 or not m.params["bias"]:
        return None
    source = ins["query"].src
    a1 = _single_user(g, mha_id)
    if not _is(a1, "Add", num_inputs=2):
        return None
    other = [s for s in _inputs(g, a1.id) if s != mha_id]
    pre = g.node(source)
    if len(other) == 1 and other[0] == source:  # post-norm: x -> attn -> x + attn -> norm1 -> ff -> norm2
        norm1 = _single_user(g, a1.id)
        if not _is(norm1, "LayerNorm", dims=1, elementwise_affine=True):
            return None
        x, norm_first, ff_in, ff_skip = source, False, norm1.id, norm1.id
    elif (_is(pre, "LayerNorm", dims=1, elementwise_affine=True) and len(other) == 1
          and other[0] == _inputs(g, source)[0] and len(g.out_edges(source)) == 1):
        norm1, x, norm_first = pre, other[0], True  # pre-norm: x -> norm1 -> attn -> x + attn -> h
        norm2 = next((g.node(e.dst) for e in g.out_edges(a1.id) if g.node(e.dst).kind == "LayerNorm"), None)
        if not _is(norm2, "LayerNorm", dims=1, elementwise_affine=True) or len(g.out_edges(a1.id)) != 2:
            return None
        ff_in, ff_skip = norm2.id, a1.id
    else:
        return None
    users = g.out_edges(ff_in)
    lin1 = next((g.node(e.dst) for e in users if g.node(e.dst).kind == "Linear"), None)
    if lin1 is None or not lin1.params["bias"] or len(users) != (2 if not norm_first else 1):
        return None
    act = _single_user(g, lin1.id)
    if not (_is(act, "ReLU") or _is(act, "GELU", approximate="none")):
        return None
    lin2 = _single_user(g, act.id)
    if not _is(lin2, "Linear", bias=True):
        return None
    a2 = _single_user(g, lin2.id)
    if not _is(a2, "Add", num_inputs=2) or sorted(_inputs(g, a2.id)) != sorted([lin2.id, ff_skip]):
        return None
    if norm_first:
        last, parts = a2, [norm1, m, a1, norm2, lin1, act, lin2, a2]
    else:
        norm2 = _single_user(g, a2.id)
        if not _is(norm2, "LayerNorm", dims=1, elementwise_affine=True):
            return None
        last, parts = norm2, [m, a1, norm1, lin1, act, lin2, a2, norm2]
    if not all(math.isclose(n.params["eps"], _EPS, rel_tol=1e-5) for n in (norm1, norm2)):
        return None
    e, ff = b.weights[f"{m.name}.in_proj_weight"].shape[1], b.weights[f"{lin1.name}.weight"].shape[0]
    if b.weights[f"{lin2.name}.weight"].shape != (e, ff):
        return None
    return x, parts, last, {"nhead": m.params["num_heads"], "dim_feedforward": int(ff), "dropout": 0.0,
                            "activation": act.kind.lower(), "norm_first": norm_first}, (m, lin1, lin2, norm1, norm2)


def _replace_by_encoder(b: LayerMaker, x: str, parts: list, last, params: dict[str, Any], named: tuple) -> None:
    from netbuilder.model.graph import Edge

    g = b.graph
    m, lin1, lin2, norm1, norm2 = named
    weights = {}
    for prefix, node in (("self_attn", m), ("linear1", lin1), ("linear2", lin2), ("norm1", norm1), ("norm2", norm2)):
        for key in [k for k in b.weights if k.startswith(f"{node.name}.")]:
            weights[f"{prefix}.{key[len(node.name) + 1:]}"] = b.weights.pop(key)
    for p in parts:
        for key in [k for k in b.weights if k.startswith(f"{p.name}.")]:
            del b.weights[key]
    outs = [(e.dst, e.dst_port) for e in g.out_edges(last.id)]
    src_port = next(e.src_port for e in g.out_edges(x) if e.dst == (parts[0].id))
    base = m.name.removesuffix("_self_attn") if m.name.endswith("_self_attn") else ""
    for p in parts:
        for edge in [*g.in_edges(p.id).values(), *g.out_edges(p.id)]:
            if edge in g.edges:
                g.disconnect(edge)
    for p in parts:
        g.remove_node(p.id)
    name = base if base and g.by_name(base) is None else g.unique_name(base or "encoder")
    node = g.add_node(g.make_node("TransformerEncoderLayer", name, params))
    g.connect(Edge(x, src_port, node.id, "in"), check_cycle=False)
    for dst, port in outs:
        g.connect(Edge(node.id, "out", dst, port), check_cycle=False)
    b.weights.update({f"{node.name}.{k}": w for k, w in weights.items()})
