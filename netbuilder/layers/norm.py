"""Normalisation layers."""

from __future__ import annotations

from collections.abc import Mapping

from netbuilder.layers.rules import need_float, need_rank, same
from netbuilder.layers.spec import LayerSpec, Params, ParamSpec, ShapeError, TensorType, numel
from netbuilder.lazy_torch import nn

In = Mapping[str, TensorType]

EPS = ParamSpec("eps", "float", 1e-5, "Added to the variance for numerical safety.", minimum=1e-12, maximum=1.0)


def _batchnorm(nd: int) -> LayerSpec:
    kind = f"BatchNorm{nd}d"
    ranks = (2, 3) if nd == 1 else (nd + 2,)
    layout = {1: "[N, C] or [N, C, L]", 2: "[N, C, H, W]", 3: "[N, C, D, H, W]"}[nd]

    def infer(p: Params, i: In) -> dict[str, TensorType]:
        t = i["in"]
        need_float(t, "in", kind)
        other = f"BatchNorm{max(t.rank - 2, 1)}d"
        need_rank(t, "in", ranks, layout, f"use {other}" if t.rank in (2, 3, 4, 5) else "insert Reshape")
        return same(i)

    def build(p: Params, i: In) -> nn.Module:
        return getattr(nn, kind)(i["in"].shape[0], eps=p["eps"], momentum=p["momentum"], affine=p["affine"])

    return LayerSpec(
        kind=kind,
        category="Normalisation",
        doc=f"Normalises each channel of {layout} over the batch; channels come from the wire.",
        params=(
            EPS,
            ParamSpec("momentum", "float", 0.1, "Weight of the newest batch in the running statistics.",
                      minimum=0.0, maximum=1.0),
            ParamSpec("affine", "bool", True, "Learn a scale and shift per channel."),
        ),
        infer=infer,
        build=build,
        macs=lambda p, i, o: 2 * numel(i["in"].shape),
        name_base="bn",
    )


def _layernorm_infer(p: Params, i: In) -> dict[str, TensorType]:
    t = i["in"]
    need_float(t, "in", "LayerNorm")
    if p["dims"] > len(t.shape):
        raise ShapeError("in", f"at least {p['dims']} dimensions after the batch to normalise",
                         f"set dims to {len(t.shape)} or fewer")
    return same(i)


LAYERNORM = LayerSpec(
    kind="LayerNorm",
    category="Normalisation",
    doc="Normalises each sample over its last `dims` dimensions (1: the features).",
    params=(
        ParamSpec("dims", "int", 1, "How many trailing dimensions to normalise over.", minimum=1, maximum=6),
        EPS,
        ParamSpec("elementwise_affine", "bool", True, "Learn a scale and shift per value."),
    ),
    infer=_layernorm_infer,
    build=lambda p, i: nn.LayerNorm(list(i["in"].shape[-p["dims"]:]), eps=p["eps"],
                                    elementwise_affine=p["elementwise_affine"]),
    macs=lambda p, i, o: 2 * numel(i["in"].shape),
    name_base="ln",
)


def _lrn_infer(p: Params, i: In) -> dict[str, TensorType]:
    t = i["in"]
    need_float(t, "in", "LocalResponseNorm")
    need_rank(t, "in", (3, 4, 5), "[N, C, L] or [N, C, H, W]", "insert Reshape to add channel dimensions")
    return same(i)


LRN = LayerSpec(
    kind="LocalResponseNorm",
    category="Normalisation",
    doc="AlexNet's normalisation across neighbouring channels.",
    params=(
        ParamSpec("size", "int", 5, "Number of neighbouring channels.", minimum=1, maximum=1024),
        ParamSpec("alpha", "float", 1e-4, "Scale.", minimum=0.0, maximum=10.0),
        ParamSpec("beta", "float", 0.75, "Exponent.", minimum=0.0, maximum=10.0),
        ParamSpec("k", "float", 1.0, "Additive constant.", minimum=0.0, maximum=100.0),
    ),
    infer=_lrn_infer,
    build=lambda p, i: nn.LocalResponseNorm(p["size"], alpha=p["alpha"], beta=p["beta"], k=p["k"]),
    macs=lambda p, i, o: p["size"] * numel(i["in"].shape),  # the windowed sum of squares
    name_base="lrn",
)

SPECS = (_batchnorm(1), _batchnorm(2), _batchnorm(3), LAYERNORM, LRN)
