"""Padding: a constant, the mirror image (reflect) or the edge value (replicate) around the last 1 to 3 dims."""

from __future__ import annotations

from collections.abc import Mapping

from netbuilder.layers.rules import need_float
from netbuilder.layers.spec import LayerSpec, Params, ParamSpec, ShapeError, TensorType
from netbuilder.lazy_torch import nn

In = Mapping[str, TensorType]
MODES = ("constant", "reflect", "replicate")
FLOAT32_MAX = 3.4028234663852886e38  # the largest float32: a fill beyond it overflows
_CLASSES = {"constant": "ConstantPad", "reflect": "ReflectionPad", "replicate": "ReplicationPad"}


def _check(p: Params) -> str | None:
    if len(p["padding"]) % 2:
        return (f"parameter 'padding' has {len(p['padding'])} entries; it takes pairs (left, right of the last "
                "dim, then top, bottom of the one before, then front, back): 2, 4 or 6 entries")
    return None


def pad_dims(p: Params) -> int:
    """How many trailing dims the layer pads: one per (begin, end) pair."""
    return len(p["padding"]) // 2


def _infer(p: Params, i: In) -> dict[str, TensorType]:
    t = i["in"]
    need_float(t, "in", "Pad")
    if problem := _check(p):
        raise ShapeError("in", "padding in pairs", problem.replace("parameter 'padding' has", "give padding"))
    k, mode = pad_dims(p), p["mode"]
    if mode == "constant":
        if k > len(t.shape):
            raise ShapeError("in", f"at least {k} dimensions after the batch for {k} padding pairs",
                             f"give at most {len(t.shape)} pairs of padding (the batch is never padded)")
    elif t.rank != k + 2:
        layout = {1: "[N, C, L]", 2: "[N, C, H, W]", 3: "[N, C, D, H, W]"}[k]
        fix = (f"give {2 * (t.rank - 2)} padding entries (a pair per spatial dim of this input; 0 where a "
               "dim is not padded)" if 3 <= t.rank <= 5 else "insert Reshape to [C, ...] with 1 to 3 spatial dims")
        raise ShapeError("in", f"{layout} for {mode} padding of {k} dim(s)", fix)
    shape = list(t.shape)
    for pair_index in range(k):
        axis = len(shape) - 1 - pair_index
        before, after = p["padding"][2 * pair_index], p["padding"][2 * pair_index + 1]
        if mode == "reflect" and max(before, after) >= shape[axis]:
            raise ShapeError("in", f"a size above {max(before, after)} along dim {axis + 1} to reflect "
                                   f"{max(before, after)} values (it has {shape[axis]})",
                             f"reflect padding must be smaller than the size: pad by at most {shape[axis] - 1} "
                             "there, or use mode 'replicate' or 'constant'")
        shape[axis] += before + after
    return {"out": TensorType(tuple(shape), t.dtype)}


def _build(p: Params, i: In) -> nn.Module:
    k, mode = pad_dims(p), p["mode"]
    if mode == "constant":
        cls = getattr(nn, f"ConstantPad{k}d")
        return cls(tuple(p["padding"]), float(p["value"]))
    return getattr(nn, f"{_CLASSES[mode]}{k}d")(tuple(p["padding"]))


PAD = LayerSpec(
    kind="Pad",
    category="Reshape",
    doc="Pads the last 1 to 3 dims: with a constant, the mirror image (reflect) or the edge values (replicate).",
    params=(
        ParamSpec("padding", "ints", [1, 1, 1, 1],
                  "Amounts in pairs, torch's F.pad order: left, right (last dim), then top, bottom, then "
                  "front, back.", minimum=0, maximum=4096, min_len=2, max_len=6),
        ParamSpec("mode", "choice", "constant", "constant: fill with value; reflect: mirror without the edge; "
                  "replicate: repeat the edge.", choices=MODES),
        ParamSpec("value", "float", 0.0, "The fill for mode 'constant'.", minimum=-FLOAT32_MAX,
                  maximum=FLOAT32_MAX),
    ),
    infer=_infer,
    build=_build,
    macs=lambda p, i, o: 0,
    check=_check,
    name_base="pad",
)

SPECS = (PAD,)
