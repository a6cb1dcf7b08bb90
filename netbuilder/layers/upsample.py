"""Upsample: enlarges the last 1 to 3 dims by whole factors, repeating values (nearest) or interpolating them
(linear, cubic), as a U-Net's or a feature pyramid's decoder does (torch's nn.Upsample, ONNX's Resize)."""

from __future__ import annotations

from collections.abc import Mapping

from netbuilder.layers.rules import need_float
from netbuilder.layers.spec import LayerSpec, Params, ParamSpec, ShapeError, TensorType, numel
from netbuilder.lazy_torch import nn

In = Mapping[str, TensorType]
MODES = ("nearest", "linear", "cubic")
LAYOUTS = {1: "[N, C, L]", 2: "[N, C, H, W]", 3: "[N, C, D, H, W]"}
_LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}  # torch's name for linear interpolation, by spatial dims


def torch_mode(mode: str, spatial: int) -> str:
    """torch's ``mode`` for ``mode`` over ``spatial`` dims ('linear' of an image is torch's 'bilinear')."""
    if mode == "linear":
        return _LINEAR[spatial]
    return "bicubic" if mode == "cubic" else "nearest"


def factors(p: Params, spatial: int) -> list[int]:
    """One factor per spatial dim (a single factor applies to each)."""
    scale = list(p["scale_factor"])
    return scale * spatial if len(scale) == 1 else scale


def _infer(p: Params, i: In) -> dict[str, TensorType]:
    t = i["in"]
    need_float(t, "in", "Upsample")
    spatial = t.rank - 2
    if not 1 <= spatial <= 3:
        raise ShapeError("in", "[N, C, L], [N, C, H, W] or [N, C, D, H, W]",
                         "insert Reshape to [C, ...] with 1 to 3 spatial dims")
    scale = list(p["scale_factor"])
    if len(scale) not in (1, spatial):
        raise ShapeError("in", f"{len(scale)} spatial dim(s) for {len(scale)} factors",
                         f"give one factor, or {spatial} (one per dim of {LAYOUTS[spatial]})")
    if p["mode"] == "cubic" and spatial != 2:
        raise ShapeError("in", "[N, C, H, W] for cubic interpolation (torch's bicubic is 2-D only)",
                         "use mode 'linear' or 'nearest' for this input")
    shape = (t.shape[0], *(s * k for s, k in zip(t.shape[1:], factors(p, spatial), strict=True)))
    return {"out": TensorType(shape, t.dtype)}


def _check(p: Params) -> str | None:
    if p["align_corners"] and p["mode"] == "nearest":
        return ("parameter 'align_corners' applies to linear and cubic interpolation; nearest repeats values: "
                "turn align_corners off or pick mode 'linear'")
    return None


def _build(p: Params, i: In) -> nn.Module:
    spatial = i["in"].rank - 2
    scale = factors(p, spatial)
    scale_factor = float(scale[0]) if len(set(scale)) == 1 else tuple(float(k) for k in scale)
    if p["mode"] == "nearest":
        return nn.Upsample(scale_factor=scale_factor, mode="nearest")
    return nn.Upsample(scale_factor=scale_factor, mode=torch_mode(p["mode"], spatial),
                       align_corners=bool(p["align_corners"]))


def _macs(p: Params, i: In, o: Mapping[str, TensorType]) -> int:
    # Per output value: none to repeat one, 2 per dim to interpolate linearly, 4 per dim for cubic.
    per = {"nearest": 0, "linear": 2, "cubic": 4}[p["mode"]] * (i["in"].rank - 2)
    return per * numel(o["out"].shape)


UPSAMPLE = LayerSpec(
    kind="Upsample",
    category="Reshape",
    doc="Enlarges the last 1 to 3 dims by whole factors: repeats values (nearest) or interpolates them.",
    params=(
        ParamSpec("scale_factor", "ints", [2], "How many times larger: one factor for every spatial dim, or one "
                  "per dim (D, H, W order).", minimum=1, maximum=64, min_len=1, max_len=3),
        ParamSpec("mode", "choice", "nearest", "nearest: repeat each value; linear: interpolate between "
                  "neighbours (bilinear for images); cubic: bicubic, images only.", choices=MODES),
        ParamSpec("align_corners", "bool", False, "Linear and cubic: the corner values stay where they are "
                  "(torch's align_corners); off: sample at pixel centres, as most models are trained."),
    ),
    infer=_infer,
    build=_build,
    macs=_macs,
    check=_check,
    name_base="up",
)

SPECS = (UPSAMPLE,)
