"""Convolutions and pooling, 1-D, 2-D and 3-D: one rule per family, the axes from ``nd``."""

from __future__ import annotations

from collections.abc import Mapping

from netbuilder.layers.rules import conv_out, conv_transpose_out, need_float, pool_out
from netbuilder.layers.spec import (
    MAX_SIZE,
    LayerSpec,
    Params,
    ParamSpec,
    ShapeError,
    TensorType,
    ntuple,
    numel,
    pair,
)
from netbuilder.lazy_torch import nn

In = Mapping[str, TensorType]
AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
SIZES = {1: "int", 2: "int2", 3: "int3"}  # the param kind of a size: one int, or one per axis


def _layout(nd: int) -> str:
    return f"[N, C, {', '.join(AXES[nd])}]"


def _tuple(value: int | list[int], nd: int) -> tuple[int, ...]:
    return ntuple(value, nd)


def _torch(name: str, nd: int) -> type:
    """``nn.Conv2d`` for ("Conv", 2): the module of the family for ``nd`` axes."""
    return getattr(nn, name.replace("#", str(nd)))


def _spatial(i: In, nd: int, kind: str) -> TensorType:
    t = i["in"]
    need_float(t, "in", kind)
    layout = _layout(nd)
    if t.rank != nd + 2:
        if nd >= 2 and t.rank == 2:
            fix = "insert Reshape to [C, H, W] (a flat vector has no image layout)"
        elif nd >= 2 and t.rank == nd + 1:
            fix = f"insert Reshape to add a channel dimension, e.g. [1, {', '.join(AXES[nd])}]"
            if nd == 3:  # [N, C, H, W] is more often an image than a volume without channels
                fix = f"use {kind.replace('3', '2')} for an image [N, C, H, W], or {fix}"
        elif nd == 1 and t.rank == 2:
            fix = "insert Reshape to [1, L] to add a channel dimension"
        else:
            fix = f"use {kind.replace(str(nd), str(t.rank - 2))}" if t.rank in (3, 4, 5) else "insert Reshape"
        raise ShapeError("in", layout, fix)
    return t


def _sliding(p: Params, t: TensorType, nd: int, kind: str, channels: int,
             transpose: bool = False) -> TensorType:
    k = _tuple(p["kernel_size"], nd)
    s = _tuple(p["stride"] if p.get("stride") is not None else p["kernel_size"], nd)
    pad = _tuple(p.get("padding", 0), nd)
    d = _tuple(p.get("dilation", 1), nd)
    out = []
    for axis, size, kk, ss, pp, dd in zip(AXES[nd], t.shape[1:], k, s, pad, d, strict=True):
        if transpose:
            op = _tuple(p["output_padding"], nd)[AXES[nd].index(axis)]
            n = conv_transpose_out(size, kk, ss, pp, op, dd)
        elif "ceil_mode" in p:
            n = pool_out(size, kk, ss, pp, bool(p["ceil_mode"]), dd)
        else:
            n = conv_out(size, kk, ss, pp, dd)
        if n < 1:
            span = dd * (kk - 1) + 1
            raise ShapeError(
                "in",
                f"{axis} of at least {span - 2 * pp} for kernel_size {kk}"
                + (f" with padding {pp}" if pp else ""),
                f"use a smaller kernel_size, add padding, or remove a pooling layer before this {kind}",
            )
        out.append(n)
    return TensorType((channels, *out))


def _conv_check(p: Params) -> str | None:
    if p["groups"] > 1 and p["out_channels"] % p["groups"]:
        return f"parameter 'groups' ({p['groups']}) must divide out_channels ({p['out_channels']})"
    return None


_PER_AXIS = {1: ".", 2: " (an int, or [height, width]).", 3: " (an int, or [depth, height, width])."}


def _conv_params(nd: int) -> tuple[ParamSpec, ...]:
    k = SIZES[nd]
    return (
        ParamSpec("out_channels", "int", 32, "Number of filters, i.e. output channels.", minimum=1, maximum=MAX_SIZE),
        ParamSpec("kernel_size", k, 3, "Filter size" + _PER_AXIS[nd], minimum=1, maximum=4096),
        ParamSpec("stride", k, 1, "Step between filter positions.", minimum=1, maximum=4096),
        ParamSpec("padding", k, 0, "Zeros added on each side.", minimum=0, maximum=4096),
        ParamSpec("dilation", k, 1, "Spacing between filter taps.", minimum=1, maximum=4096),
        ParamSpec("groups", "int", 1, "Groups: 1 is a full convolution; equal to the channels is depthwise.",
                  minimum=1, maximum=MAX_SIZE),
        ParamSpec("bias", "bool", True, "Learn an additive bias per filter."),
    )


def _conv(nd: int):
    kind = f"Conv{nd}d"

    def infer(p: Params, i: In) -> dict[str, TensorType]:
        t = _spatial(i, nd, kind)
        if t.shape[0] % p["groups"]:
            raise ShapeError("in", f"channels divisible by groups={p['groups']}",
                             "set groups to a divisor of the input channels")
        return {"out": _sliding(p, t, nd, kind, p["out_channels"])}

    def build(p: Params, i: In) -> nn.Module:
        return _torch("Conv#d", nd)(i["in"].shape[0], p["out_channels"], _tuple(p["kernel_size"], nd),
                   stride=_tuple(p["stride"], nd), padding=_tuple(p["padding"], nd),
                   dilation=_tuple(p["dilation"], nd), groups=p["groups"], bias=p["bias"])

    def macs(p: Params, i: In, o: Mapping[str, TensorType]) -> int:
        per_out = i["in"].shape[0] // p["groups"] * numel(_tuple(p["kernel_size"], nd))
        return numel(o["out"].shape) * per_out

    return LayerSpec(
        kind=kind,
        category="Convolution",
        doc=f"{nd}-D convolution over {_layout(nd)}; input channels come from the wire.",
        params=_conv_params(nd),
        infer=infer,
        build=build,
        macs=macs,
        check=_conv_check,
        name_base="conv",
    )


def _conv_transpose_infer(p: Params, i: In) -> dict[str, TensorType]:
    t = _spatial(i, 2, "ConvTranspose2d")
    return {"out": _sliding(p, t, 2, "ConvTranspose2d", p["out_channels"], transpose=True)}


def _conv_transpose_check(p: Params) -> str | None:
    for op, s, d in zip(pair(p["output_padding"]), pair(p["stride"]), pair(p["dilation"]), strict=True):
        if op >= max(s, d):
            return "parameter 'output_padding' must be smaller than stride or dilation"
    return None


CONV_TRANSPOSE2D = LayerSpec(
    kind="ConvTranspose2d",
    category="Convolution",
    doc="Transposed 2-D convolution ('deconvolution'): upsamples [N, C, H, W].",
    params=(
        ParamSpec("out_channels", "int", 32, "Output channels.", minimum=1, maximum=MAX_SIZE),
        ParamSpec("kernel_size", "int2", 2, "Filter size.", minimum=1, maximum=4096),
        ParamSpec("stride", "int2", 2, "Upsampling step.", minimum=1, maximum=4096),
        ParamSpec("padding", "int2", 0, "Trimmed from each side of the output.", minimum=0, maximum=4096),
        ParamSpec("output_padding", "int2", 0, "Extra size added to one side.", minimum=0, maximum=4096),
        ParamSpec("dilation", "int2", 1, "Spacing between filter taps.", minimum=1, maximum=4096),
        ParamSpec("bias", "bool", True, "Learn an additive bias per filter."),
    ),
    infer=_conv_transpose_infer,
    build=lambda p, i: nn.ConvTranspose2d(
        i["in"].shape[0], p["out_channels"], pair(p["kernel_size"]), stride=pair(p["stride"]),
        padding=pair(p["padding"]), output_padding=pair(p["output_padding"]),
        dilation=pair(p["dilation"]), bias=p["bias"]),
    macs=lambda p, i, o: numel(i["in"].shape) * p["out_channels"] * numel(pair(p["kernel_size"])),
    check=_conv_transpose_check,
    name_base="deconv",
)


def _pool_check(nd: int):
    def check(p: Params) -> str | None:
        for kk, pp in zip(_tuple(p["kernel_size"], nd), _tuple(p["padding"], nd), strict=True):
            if pp * 2 > kk:
                return f"parameter 'padding' ({pp}) must be at most half of kernel_size ({kk})"
        return None

    return check


def _pool(nd: int, op: str):
    kind = f"{op}Pool{nd}d"

    def infer(p: Params, i: In) -> dict[str, TensorType]:
        t = _spatial(i, nd, kind)
        return {"out": _sliding(p, t, nd, kind, t.shape[0])}

    def build(p: Params, i: In) -> nn.Module:
        cls = _torch(f"{op}Pool#d", nd)
        stride = p["stride"] if p["stride"] is not None else p["kernel_size"]
        extra = {"count_include_pad": p["count_include_pad"]} if op == "Avg" else {}
        if p.get("dilation", 1) != 1:
            extra["dilation"] = _tuple(p["dilation"], nd)
        return cls(_tuple(p["kernel_size"], nd), stride=_tuple(stride, nd), padding=_tuple(p["padding"], nd),
                   ceil_mode=p["ceil_mode"], **extra)

    def macs(p: Params, i: In, o: Mapping[str, TensorType]) -> int:
        return numel(o["out"].shape) * numel(_tuple(p["kernel_size"], nd)) if op == "Avg" else 0

    k = SIZES[nd]
    return LayerSpec(
        kind=kind,
        category="Pooling",
        doc=f"{'Maximum' if op == 'Max' else 'Average'} over each kernel_size window; halves the size with 2.",
        params=(
            ParamSpec("kernel_size", k, 2, "Window size.", minimum=1, maximum=4096),
            ParamSpec("stride", f"optional_{k}", None,
                      "Step between windows (empty: the same as kernel_size).", minimum=1, maximum=4096),
            ParamSpec("padding", k, 0, "Padding on each side (at most half the window).",
                      minimum=0, maximum=2048),
            ParamSpec("ceil_mode", "bool", False, "Keep a last, partial window at the end (rounding the size "
                      "up); it must start inside the input or the left padding."),
            *((ParamSpec("count_include_pad", "bool", True, "Divide by the whole window, padding included "
                         "(off: only by the input values in it)."),) if op == "Avg" else ()),
            # torch's average pooling has no dilation
            *((ParamSpec("dilation", k, 1, "Spacing between the values a window takes.", minimum=1, maximum=4096),)
              if op == "Max" else ()),
        ),
        infer=infer,
        build=build,
        macs=macs,
        check=_pool_check(nd),
        name_base=f"{op.lower()}pool",
    )


def _adaptive(nd: int):
    kind = f"AdaptiveAvgPool{nd}d"

    def infer(p: Params, i: In) -> dict[str, TensorType]:
        t = _spatial(i, nd, kind)
        return {"out": TensorType((t.shape[0], *_tuple(p["output_size"], nd)))}

    def build(p: Params, i: In) -> nn.Module:
        size = _tuple(p["output_size"], nd)
        return _torch("AdaptiveAvgPool#d", nd)(size if nd > 1 else size[0])

    return LayerSpec(
        kind=kind,
        category="Pooling",
        doc="Averages to a fixed output size whatever the input size; 1 gives global average pooling.",
        params=(ParamSpec("output_size", SIZES[nd], 1, "Output size per spatial axis.",
                          minimum=1, maximum=MAX_SIZE),),
        infer=infer,
        build=build,
        macs=lambda p, i, o: numel(i["in"].shape),
        name_base="gap",
    )


SPECS = (
    _conv(1), _conv(2), _conv(3), CONV_TRANSPOSE2D,
    _pool(1, "Max"), _pool(2, "Max"), _pool(3, "Max"), _pool(1, "Avg"), _pool(2, "Avg"), _pool(3, "Avg"),
    _adaptive(1), _adaptive(2), _adaptive(3),
)
