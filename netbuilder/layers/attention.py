"""Multi-head attention and the transformer encoder layer, batch-first."""

from __future__ import annotations

import operator
from collections.abc import Mapping

from netbuilder.layers.rules import need_float
from netbuilder.layers.spec import (
    MAX_SIZE,
    LayerSpec,
    Params,
    ParamSpec,
    PortSpec,
    ShapeError,
    TensorType,
)
from netbuilder.lazy_torch import nn

In = Mapping[str, TensorType]


def _sequence(t: TensorType, port: str, kind: str) -> None:
    need_float(t, port, kind)
    if t.rank != 3:
        raise ShapeError(port, "[N, T, E] (batch, positions, embedding)",
                         "insert Reshape to [T, E]" if t.rank != 2 else "insert Reshape to [T, E], e.g. [1, E]")


def _heads_divide(width: int, heads: int, port: str) -> None:
    if width % heads:
        divisors = [d for d in range(1, min(width, 64) + 1) if width % d == 0]
        raise ShapeError(port, f"an embedding width divisible by num_heads={heads}",
                         f"set num_heads to a divisor of {width} (e.g. {', '.join(map(str, divisors[-3:]))})")


def _mha_infer(p: Params, i: In) -> dict[str, TensorType]:
    q = i["query"]
    k = i.get("key", q)
    v = i.get("value", k)
    for port, t in (("query", q), ("key", k), ("value", v)):
        _sequence(t, port, "MultiheadAttention")
    _heads_divide(q.shape[1], p["num_heads"], "query")
    if k.shape[0] != v.shape[0]:
        raise ShapeError("value", f"as many positions as key ({k.shape[0]})",
                         "wire key and value from sequences of the same length")
    return {"out": TensorType(q.shape)}


def _mha_build(p: Params, i: In) -> nn.Module:
    q = i["query"]
    k = i.get("key", q)
    v = i.get("value", k)
    return nn.MultiheadAttention(q.shape[1], p["num_heads"], dropout=p["dropout"], bias=p["bias"],
                                 kdim=k.shape[1], vdim=v.shape[1], batch_first=True)


def _mha_emit(g, call, args, p, i, o):
    q, k, v = args
    k = k if k is not None else q
    v = v if v is not None else k
    out = call(q, k, v, need_weights=False)
    return g.call_function(operator.getitem, (out, 0))


def _mha_macs(p: Params, i: In, o: Mapping[str, TensorType]) -> int:
    q = i["query"]
    k = i.get("key", q)
    v = i.get("value", k)
    (tq, e), (tk, kd), vd = q.shape, k.shape, v.shape[1]
    return tq * e * e + tk * kd * e + tk * vd * e + 2 * tq * tk * e + tq * e * e


MHA = LayerSpec(
    kind="MultiheadAttention",
    category="Attention",
    doc="Scaled dot-product attention with several heads; key and value default to the query (self-attention).",
    params=(
        ParamSpec("num_heads", "int", 4, "Parallel attention heads; must divide the embedding width.",
                  minimum=1, maximum=1024),
        ParamSpec("dropout", "float", 0.0, "Dropout on the attention weights.", minimum=0.0, maximum=0.99),
        ParamSpec("bias", "bool", True, "Learn biases in the projections."),
    ),
    inputs=(PortSpec("query"), PortSpec("key", optional=True), PortSpec("value", optional=True)),
    infer=_mha_infer,
    build=_mha_build,
    emit=_mha_emit,
    macs=_mha_macs,
    name_base="attn",
)


def _encoder_infer(p: Params, i: In) -> dict[str, TensorType]:
    t = i["in"]
    _sequence(t, "in", "TransformerEncoderLayer")
    _heads_divide(t.shape[1], p["nhead"], "in")
    return {"out": t}


def _encoder_macs(p: Params, i: In, o: Mapping[str, TensorType]) -> int:
    t, e = i["in"].shape
    return 4 * t * e * e + 2 * t * t * e + 2 * t * e * p["dim_feedforward"]


ENCODER = LayerSpec(
    kind="TransformerEncoderLayer",
    category="Attention",
    doc="Self-attention plus a feed-forward block, each with a residual and LayerNorm.",
    params=(
        ParamSpec("nhead", "int", 4, "Attention heads; must divide the embedding width.", minimum=1, maximum=1024),
        ParamSpec("dim_feedforward", "int", 256, "Width of the feed-forward block.", minimum=1, maximum=MAX_SIZE),
        ParamSpec("dropout", "float", 0.1, "Dropout inside the block.", minimum=0.0, maximum=0.99),
        ParamSpec("activation", "choice", "relu", "Feed-forward activation.", choices=("relu", "gelu")),
        ParamSpec("norm_first", "bool", False, "LayerNorm before each block (pre-norm) instead of after."),
    ),
    infer=_encoder_infer,
    build=lambda p, i: nn.TransformerEncoderLayer(
        i["in"].shape[1], p["nhead"], dim_feedforward=p["dim_feedforward"], dropout=p["dropout"],
        activation=p["activation"], batch_first=True, norm_first=p["norm_first"]),
    macs=_encoder_macs,
    name_base="encoder",
)

SPECS = (MHA, ENCODER)
