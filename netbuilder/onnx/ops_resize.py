"""ONNX's Resize (and the older Upsample) as netbuilder's Upsample layer: whole factors over the spatial
dims, with the sampling torch's nn.Upsample does.

Resize says how a output pixel finds its source (``coordinate_transformation_mode``, ``nearest_mode``,
``cubic_coeff_a``); only the combinations that compute what nn.Upsample computes are taken, so a model
comes back with the same outputs. For whole factors, nearest with half-pixel centres and rounding gives
the same pixels as torch's nearest (asymmetric, floor): each output pixel's source lies strictly inside
the half-open step it falls in, never on a tie.
"""

from __future__ import annotations

import numpy as np
import onnx

from netbuilder.onnx.layer_maker import LayerMaker, Mapper, node_attrs
from netbuilder.onnx.values import OpProblem, Value

# (mode, coordinate_transformation_mode, nearest_mode) -> align_corners, for what nn.Upsample computes.
_NEAREST_SAME = {("asymmetric", "floor"), ("half_pixel", "round_prefer_floor"), ("half_pixel", "round_prefer_ceil"),
                 ("pytorch_half_pixel", "round_prefer_floor"), ("pytorch_half_pixel", "round_prefer_ceil")}
_INTERPOLATED = {"half_pixel": False, "pytorch_half_pixel": False, "align_corners": True}
TORCH_CUBIC_A = -0.75


def _factors(b: LayerMaker, n: onnx.NodeProto, scales: np.ndarray | None, sizes: np.ndarray | None) -> list[int]:
    """The whole factors of the spatial dims, or an OpProblem naming what does not fit."""
    shape = b.shape(n.input[0])
    rank = len(shape)
    if not 3 <= rank <= 5:
        raise OpProblem(f"it resizes a tensor of rank {rank}; netbuilder's Upsample takes [N, C, L], "
                        "[N, C, H, W] or [N, C, D, H, W]")
    if scales is not None and scales.size:
        ratio = [float(v) for v in scales.reshape(-1)]
    elif sizes is not None and sizes.size:
        if any(s is None for s in shape):
            raise OpProblem("it resizes to given sizes of an input whose size is not known when importing")
        ratio = [float(o) / float(s) for o, s in zip(sizes.reshape(-1), shape, strict=False)]
    else:
        raise OpProblem("it gives neither scales nor sizes")
    if len(ratio) != rank:
        raise OpProblem(f"{len(ratio)} scales for a tensor of rank {rank}")
    if ratio[0] != 1 or ratio[1] != 1:
        raise OpProblem(f"it scales the batch or the channels (scales {ratio}); netbuilder's Upsample enlarges "
                        "the spatial dims only")
    whole = [round(r) for r in ratio[2:]]
    if any(abs(r - w) > 1e-6 or w < 1 for r, w in zip(ratio[2:], whole, strict=True)):
        raise OpProblem(f"spatial scales {ratio[2:]} are not whole factors of 1 or more; netbuilder's Upsample "
                        "enlarges by whole factors (resize to a multiple of the input size, or crop after)")
    return whole


def _params(n: onnx.NodeProto, whole: list[int], mode: str, coords: str, nearest: str) -> dict:
    a = node_attrs(n)
    if int(a.get("antialias", 0)):
        raise OpProblem("antialias=1 has no netbuilder equal (nn.Upsample does not antialias)")
    if int(a.get("exclude_outside", 0)):
        raise OpProblem("exclude_outside=1 has no netbuilder equal")
    if a.get("axes") is not None:
        raise OpProblem("it resizes given axes only (the 'axes' attribute); export with scales for every axis")
    keep = a.get("keep_aspect_ratio_policy", "stretch")
    if keep not in ("stretch", b"stretch"):
        raise OpProblem(f"keep_aspect_ratio_policy '{keep}' has no netbuilder equal")
    scale = [whole[0]] if len(set(whole)) == 1 else whole
    if mode == "nearest":
        if (coords, nearest) not in _NEAREST_SAME:
            raise OpProblem(f"nearest sampling with coordinate_transformation_mode '{coords}' and nearest_mode "
                            f"'{nearest}' picks other pixels than torch's nearest; export from torch's "
                            "nn.Upsample(mode='nearest')")
        return {"scale_factor": scale, "mode": "nearest", "align_corners": False}
    if mode not in ("linear", "cubic"):
        raise OpProblem(f"mode '{mode}' has no netbuilder equal (there are nearest, linear and cubic)")
    if coords not in _INTERPOLATED:
        raise OpProblem(f"{mode} interpolation with coordinate_transformation_mode '{coords}' samples other "
                        "points than torch's nn.Upsample (half_pixel or align_corners)")
    if mode == "cubic" and abs(float(a.get("cubic_coeff_a", -0.75)) - TORCH_CUBIC_A) > 1e-6:
        raise OpProblem(f"cubic_coeff_a {a.get('cubic_coeff_a')} differs from torch's bicubic ({TORCH_CUBIC_A})")
    return {"scale_factor": scale, "mode": mode, "align_corners": _INTERPOLATED[coords]}


def _text(value, default: str) -> str:
    if value is None:
        return default
    return value.decode() if isinstance(value, bytes) else str(value)


def _resize(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    a = node_attrs(n)
    # Opset 11+: X, roi, scales, sizes; opset 10: X, scales.
    if len(n.input) <= 2:
        scales, sizes = b.const(n, 1, "scales"), None
    else:
        scales = b.const(n, 2, "scales") if b.has(n, 2) else None
        sizes = b.const(n, 3, "sizes") if b.has(n, 3) else None
    whole = _factors(b, n, scales, sizes)
    mode = _text(a.get("mode"), "nearest")
    coords = _text(a.get("coordinate_transformation_mode"), "half_pixel" if len(n.input) > 2 else "asymmetric")
    nearest = _text(a.get("nearest_mode"), "round_prefer_floor" if len(n.input) > 2 else "floor")
    params = _params(n, whole, mode, coords, nearest)
    if whole == [1] * len(whole):
        return [b.port(n, 0)]
    return [b.add("Upsample", n, params, [b.port(n, 0)])]


def _upsample(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    """The Upsample op of opsets 7 to 9: scales as an attribute (7) or an input (9); sampled as Resize's
    asymmetric mode, which only nearest-with-floor matches in torch."""
    a = node_attrs(n)
    scales = b.const(n, 1, "scales") if b.has(n, 1) else np.asarray(a.get("scales", []), np.float32)
    whole = _factors(b, n, scales, None)
    mode = _text(a.get("mode"), "nearest")
    params = _params(n, whole, mode, "asymmetric", "floor")
    return [b.add("Upsample", n, params, [b.port(n, 0)])]


MAPPERS: dict[str, Mapper] = {"Resize": _resize, "Upsample": _upsample}
