"""ONNX's Gemm and MatMul as Linear (a time-major MatMul as self-attention), BatchNormalization and LRN
as their norm layers, Dropout as Dropout (or nothing, at p = 0): the weighted layers of a classic network."""

from __future__ import annotations

import numpy as np
import onnx
import torch

from netbuilder.onnx import ops_attention
from netbuilder.onnx.layer_maker import LayerMaker, Mapper, node_attrs
from netbuilder.onnx.values import OpProblem, TimeMajor, Value


def _gemm(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    a = node_attrs(n)
    x, w = b.port(n, 0), b.const(n, 1, "weight")
    if a.get("transA", 0) or w.ndim != 2:
        raise OpProblem("only Gemm with transA=0 and a constant 2-D B maps to Linear")
    # Linear stores W as [out, in]: that is B when transB=1, its transpose otherwise.
    w = (w if a.get("transB", 0) else w.T) * a.get("alpha", 1.0)
    bias = b.const(n, 2, "bias") * a.get("beta", 1.0) if b.has(n, 2) else None
    if bias is not None:
        bias = _row_bias(bias, w.shape[0])
    out = b.add("Linear", n, {"out_features": w.shape[0], "bias": bias is not None}, [x],
                {"weight": w, "bias": bias}, biasable=bias is None)
    return [out]


def _row_bias(c: np.ndarray, m: int) -> np.ndarray:
    if c.size == 1:
        return np.full(m, c.reshape(-1)[0], dtype=np.float32)
    if c.size == m and c.shape[-1] == m:
        return c.reshape(m)
    raise OpProblem(f"a bias of shape {list(c.shape)} is not one value per output ({m})")


def _matmul(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    if b.has(n, 0) and isinstance(b.value(n.input[0]), TimeMajor):
        return ops_attention.self_attention(b, n)  # torch's attention projects the [T, N, E] sequence
    if b.is_const(n, 0) or not b.is_const(n, 1) or b.const(n, 1, "B").ndim != 2:
        raise OpProblem("only MatMul of a tensor by a constant 2-D weight maps to Linear")
    x, w = b.port(n, 0), b.const(n, 1, "weight")
    return [b.add("Linear", n, {"out_features": w.shape[1], "bias": False}, [x], {"weight": w.T}, biasable=True)]


def _batchnorm(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    a = node_attrs(n)
    if a.get("training_mode", 0) or any(o for o in n.output[1:]):
        raise OpProblem("BatchNormalization in training mode has no import; export the model in eval mode")
    x = b.port(n, 0)
    scale, shift, mean, var = (b.const(n, k, w) for k, w in enumerate(("scale", "B", "mean", "var"), 1))
    rank = len(b.shape(n.input[0]))
    if rank not in (2, 3, 4, 5):
        raise OpProblem(f"batch norm of a rank-{rank} tensor has no netbuilder layer (ranks 2 to 5 have one)")
    params = {"eps": float(a.get("epsilon", 1e-5)), "momentum": round(1.0 - float(a.get("momentum", 0.9)), 6),
              "affine": True}
    weights = {"weight": scale, "bias": shift, "running_mean": mean, "running_var": var,
               "num_batches_tracked": torch.tensor(0)}
    return [b.add(f"BatchNorm{max(rank - 2, 1)}d", n, params, [x], weights)]


def _lrn(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    a = node_attrs(n)
    if a["size"] % 2 == 0:
        raise OpProblem("an even LRN size centres its window differently from torch's LocalResponseNorm")
    params = {"size": a["size"], "alpha": a.get("alpha", 1e-4), "beta": a.get("beta", 0.75), "k": a.get("bias", 1.0)}
    return [b.add("LocalResponseNorm", n, params, [b.port(n, 0)])]


def _dropout(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    if len(n.output) > 1 and n.output[1]:
        raise OpProblem("Dropout's mask output has no netbuilder equal")
    if b.has(n, 2) and bool(b.const(n, 2, "training_mode").reshape(-1)[0]):
        raise OpProblem("Dropout in training mode; export the model in eval mode")
    p = float(b.const(n, 1, "ratio").reshape(-1)[0]) if b.has(n, 1) else float(node_attrs(n).get("ratio", 0.5))
    x = b.port(n, 0)
    return [x] if p == 0 else [b.add("Dropout", n, {"p": min(p, 0.99)}, [x])]


MAPPERS: dict[str, Mapper] = {
    "Gemm": _gemm, "MatMul": _matmul, "BatchNormalization": _batchnorm, "LRN": _lrn, "Dropout": _dropout,
}
