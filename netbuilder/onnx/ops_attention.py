"""Torch's self-attention as one MultiheadAttention, and an encoder layer's parts as one TransformerEncoderLayer.

Both of torch's exporters write ``nn.MultiheadAttention`` (self-attention, batch-first) as some
sixty ops, from the in-projection ``MatMul`` of a time-major ``[T, N, E]`` tensor to the
``Transpose`` back to batch-first after the out-projection. :func:`self_attention` matches the
region by its structure, reads its weights, and makes it one MultiheadAttention only when ONNX
Runtime on the region alone and torch's layer with those weights agree on a random input;
otherwise the node is refused with the reason. After the walk, :func:`fuse_encoder_layers`
replaces each chain that is exactly ``nn.TransformerEncoderLayer`` by one.

:mod:`netbuilder.onnx.ops_linear_norm` (MatMul) and the importer import this module (never the other way round).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import onnx
import torch

from netbuilder.onnx.layer_maker import LayerMaker
from netbuilder.onnx.ops_modern import ValueIndex, attrs, const_input, value_index
from netbuilder.onnx.values import Opaque, OpProblem, Port, TimeMajor, Value

_CHECK_LIMIT = 1 << 24  # T·T·E at most, for the ONNX Runtime check of an attention region


def _forward_find(g: ValueIndex, start: str, op: str, limit: int = 200) -> onnx.NodeProto | None:
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


def _linear_weight(b: LayerMaker, n: onnx.NodeProto, e: int) -> np.ndarray | None:
    """The [out, in] weight of a MatMul or Gemm by a constant [E, E], or None."""
    w = const_input(b, n, 1)
    if n.op_type not in ("MatMul", "Gemm") or w is None or const_input(b, n, 0) is not None:
        return None
    if w.shape != (e, e):
        return None
    if n.op_type == "Gemm":
        a = attrs(n)
        if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0:
            return None
        return w if a.get("transB", 0) else w.T
    return w.T


def _bias_after(b: LayerMaker, g: ValueIndex, n: onnx.NodeProto, size: int) -> tuple[np.ndarray, str]:
    """The constant added right after ``n`` (or by Gemm's C) and the value that carries the sum."""
    c = const_input(b, n, 2) if n.op_type == "Gemm" else None
    if c is not None and c.size in (1, size):
        scale = float(attrs(n).get("beta", 1.0))
        return (np.broadcast_to(c.reshape(-1), (size,)) * scale).astype(np.float32), n.output[0]
    user = g.only_user(n.output[0])
    if user is not None and user.op_type == "Add" and len(user.input) == 2:
        for c in (const_input(b, user, 0), const_input(b, user, 1)):
            if c is not None and c.size == size and c.shape[-1] == size:
                return c.reshape(size).astype(np.float32), user.output[0]
    return np.zeros(size, np.float32), n.output[0]


def _region(b: LayerMaker, g: ValueIndex, end: str, x: str) -> list[int] | None:
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


def _run_region(b: LayerMaker, g: ValueIndex, region: list[int], x: str, end: str, feed: np.ndarray) -> np.ndarray:
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
    g = value_index(b)
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
        if user.op_type == "Transpose" and list(attrs(user).get("perm", [])) == [1, 0, 2]:
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


__all__ = ["fuse_encoder_layers", "self_attention"]
