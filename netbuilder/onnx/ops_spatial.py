"""ONNX's convolutions, pools and Pad as netbuilder layers: their windows, strides, dilations and
paddings, ONNX's asymmetric padding made torch's symmetric padding where it can be, or a Pad layer before
the op where it cannot (max pooling pads with the most negative float, so padding never wins)."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx

from netbuilder.layers.pad import FLOAT32_MAX
from netbuilder.layers.rules import pool_out
from netbuilder.onnx.layer_maker import LayerMaker, Mapper, node_attrs
from netbuilder.onnx.values import OpProblem, Port, Value


def _pick(vals: list[int], nd: int) -> int | list[int]:
    """An int param for equal sizes, a pair otherwise (how a user would type it)."""
    return int(vals[0]) if nd == 1 or len(set(vals)) == 1 else [int(v) for v in vals]


def _window(b: LayerMaker, n: onnx.NodeProto, kernel: list[int], nd: int
            ) -> tuple[list[int], list[int], list[int], list[int]]:
    """Strides, begin pads, end pads and dilations of a sliding-window op (auto_pad resolved)."""
    a = node_attrs(n)
    strides = list(a.get("strides", [1] * nd))
    dil = list(a.get("dilations", [1] * nd))
    auto = a.get("auto_pad", "NOTSET")
    if auto in ("NOTSET", ""):
        pads = list(a.get("pads", [0] * 2 * nd))
    elif auto == "VALID":
        pads = [0] * 2 * nd
    else:  # SAME_UPPER / SAME_LOWER: the total pad depends on the input size
        size = b.shape(n.input[0])[2:]
        if any(s is None for s in size):
            raise OpProblem(f"auto_pad={auto} needs a known input size")
        total = [max((-(-s // st) - 1) * st + (k - 1) * d + 1 - s, 0)
                 for s, st, k, d in zip(size, strides, kernel, dil, strict=True)]
        small = [t // 2 for t in total]
        big = [t - t // 2 for t in total]
        pads = small + big if auto == "SAME_UPPER" else big + small
    return strides, [int(v) for v in pads[:nd]], [int(v) for v in pads[nd:]], dil


def _symmetric(begin: list[int], end: list[int]) -> list[int]:
    if begin != end:
        raise OpProblem(f"asymmetric padding {begin + end} (begin {begin}, end {end}); netbuilder pads "
                        "both sides equally here: pad symmetrically, or add the extra row/column to the input")
    return begin


def _pad_first(b: LayerMaker, n: onnx.NodeProto, x: Port, begin: list[int], end: list[int],
               value: float) -> Port:
    """A Pad layer before a sliding-window layer whose ONNX padding differs between the sides."""
    rank = len(begin) + 2
    params = pad_params([0, 0, *begin], [0, 0, *end], "constant", value, rank)
    return b.add("Pad", n, params, [x], name_suffix="pad")


def _conv(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    x, w = b.port(n, 0), b.const(n, 1, "weight")
    bias = b.const(n, 2, "bias") if b.has(n, 2) else None
    nd = w.ndim - 2
    if nd not in (1, 2, 3):
        raise OpProblem(f"a {nd}-D convolution has no netbuilder layer (there are Conv1d, Conv2d and Conv3d)")
    k = list(w.shape[2:])
    strides, begin, end, dil = _window(b, n, k, nd)
    pads = begin
    if begin != end:  # zeros on each side as ONNX gives them, then an unpadded convolution
        x, pads = _pad_first(b, n, x, begin, end, 0.0), [0] * nd
    params = {"out_channels": w.shape[0], "kernel_size": _pick(k, nd), "stride": _pick(strides, nd),
              "padding": _pick(pads, nd), "dilation": _pick(dil, nd), "groups": int(node_attrs(n).get("group", 1)),
              "bias": bias is not None}
    return [b.add(f"Conv{nd}d", n, params, [x], {"weight": w, "bias": bias}, biasable=bias is None)]


def _conv_transpose(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    x, w = b.port(n, 0), b.const(n, 1, "weight")
    bias = b.const(n, 2, "bias") if b.has(n, 2) else None
    a = node_attrs(n)
    if w.ndim != 4:
        raise OpProblem("only 2-D transposed convolution has a netbuilder layer (ConvTranspose2d)")
    if a.get("group", 1) != 1 or "output_shape" in a or a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise OpProblem("group, output_shape and auto_pad SAME have no ConvTranspose2d parameter")
    strides, begin, end, dil = _window(b, n, list(w.shape[2:]), 2)
    # torch trims ``padding`` from both ends and gives ``output_padding`` back at the end: ONNX's pads
    # (begin, end) are padding = begin, output_padding = begin - end (+ ONNX's own output_padding),
    # where that stays under torch's bound (the stride or the dilation).
    extra = [bg - e + op for bg, e, op in zip(begin, end, a.get("output_padding", [0, 0]), strict=True)]
    for axis, (more, s_, d) in enumerate(zip(extra, strides, dil, strict=True)):
        if not 0 <= more < max(s_, d):
            given = list(a.get("output_padding", [0, 0]))
            raise OpProblem(f"asymmetric padding: pads {begin + end} with output_padding {given} trim "
                            f"{end[axis]} from the end of axis {axis + 2} but {begin[axis]} from its start; "
                            "ConvTranspose2d can trim at most stride - 1 less at the end than at the start: "
                            "pad symmetrically, or crop the output with a Slice after it")
    params = {"out_channels": w.shape[1], "kernel_size": _pick(list(w.shape[2:]), 2), "stride": _pick(strides, 2),
              "padding": _pick(begin, 2), "output_padding": _pick(extra, 2),
              "dilation": _pick(dil, 2), "bias": bias is not None}
    return [b.add("ConvTranspose2d", n, params, [x], {"weight": w, "bias": bias})]


def _onnx_pool_out(size: int, k: int, s: int, begin: int, end: int, ceil: bool, d: int = 1) -> int:
    """ONNX Runtime's pooling output size: with ceil_mode, like torch, a last window that would start
    in the end padding is dropped."""
    span = size + begin + end - d * (k - 1) - 1
    if not ceil:
        return span // s + 1
    out = -(-span // s) + 1
    return out - 1 if (out - 1) * s >= size + begin else out


def _pool(op: str) -> Mapper:
    def mapper(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
        x, a = b.port(n, 0), node_attrs(n)
        if len(n.output) > 1 and n.output[1]:
            raise OpProblem("the Indices output of MaxPool has no netbuilder equal")
        k = list(a["kernel_shape"])
        nd = len(k)
        if nd not in (1, 2, 3):
            raise OpProblem(f"{nd}-D pooling has no netbuilder layer (there is 1-D to 3-D)")
        strides, begin, end, dil = _window(b, n, k, nd)
        if op == "Avg" and any(d != 1 for d in dil):
            raise OpProblem("dilated average pooling has no netbuilder layer (torch's AvgPool has no dilation)")
        size = b.shape(n.input[0])[2:]
        if any(v is None for v in size):
            raise OpProblem("pooling needs a known input size when importing")
        ceil = bool(a.get("ceil_mode", 0))
        include = op == "Avg" and bool(a.get("count_include_pad", 0))  # does the padding count?
        want = [_onnx_pool_out(sz, kk, st, lo, hi, ceil, d)
                for sz, kk, st, lo, hi, d in zip(size, k, strides, begin, end, dil, strict=True)]
        declared = list(b.shape(n.output[0])[2:])
        if any(d is not None and d != w for d, w in zip(declared, want, strict=True)):
            raise OpProblem(f"with ceil_mode=1 ONNX's shape inference gives {declared} windows but ONNX Runtime "
                            f"computes {want} (it drops a last window that would start in the end padding); "
                            "export the model with ceil_mode=0 and the padding it needs")

        if not include:  # padding never counts: one window over all of an axis is a window of its size
            for axis, (sz, kk, lo) in enumerate(zip(size, list(k), list(begin), strict=True)):
                if want[axis] == 1 and kk - lo >= sz and dil[axis] == 1:
                    k[axis], strides[axis], begin[axis], end[axis] = sz, sz, 0, 0

        def fits(pads: list[int], sizes: list[int], mode: bool) -> bool:
            return all(2 * p <= kk and pool_out(sz, kk, st, p, mode, d) == w
                       for p, sz, kk, st, w, d in zip(pads, sizes, k, strides, want, dil, strict=True))

        params: dict[str, Any] = {"kernel_size": _pick(k, nd), "stride": _pick(strides, nd)}
        if op == "Avg":
            params["count_include_pad"] = include
        else:
            params["dilation"] = _pick(dil, nd)
        # torch's own padding: the windows start where ONNX's do (at -begin). Where padding never counts
        # (max pooling, or count_include_pad=0) what lies past the end does not matter, only how many
        # windows there are; where it counts, both sides must be equal.
        if begin == end or not include:
            for mode in (ceil, not ceil):
                if fits(begin, list(size), mode):
                    return [b.add(f"{op}Pool{nd}d", n, {**params, "padding": _pick(begin, nd), "ceil_mode": mode},
                                  [x])]
        if include or op == "Max":  # the padding as its own layer: zeros that count, or a fill below any value
            padded = [sz + lo + hi for sz, lo, hi in zip(size, begin, end, strict=True)]
            for mode in (ceil, not ceil):
                if fits([0] * nd, padded, mode):
                    x = _pad_first(b, n, x, begin, end, -FLOAT32_MAX if op == "Max" else 0.0)
                    return [b.add(f"{op}Pool{nd}d", n, {**params, "padding": 0, "ceil_mode": mode}, [x])]
        raise OpProblem(f"pads {begin + end} with kernel_shape {k}, strides {strides}, ceil_mode={int(ceil)}"
                        + ("" if include else " and count_include_pad=0")
                        + f" give {want} windows, which no torch {op}Pool (its padding at most half the window, "
                        "floor or ceil mode) reproduces; pad the input with a Pad node, or use smaller pads")

    return mapper


def _global(op: str) -> Mapper:
    def mapper(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
        x, size = b.port(n, 0), b.shape(n.input[0])[2:]
        nd = len(size)
        if nd not in (1, 2, 3):
            raise OpProblem(f"{nd}-D global pooling has no netbuilder layer (there is 1-D to 3-D)")
        if op == "Avg":
            return [b.add(f"AdaptiveAvgPool{nd}d", n, {"output_size": 1}, [x])]
        # A window as large as the input is the global maximum; sizes are fixed per sample here.
        if any(s is None for s in size):
            raise OpProblem("GlobalMaxPool needs a known input size (it becomes a MaxPool over the whole input)")
        return [b.add(f"MaxPool{nd}d", n, {"kernel_size": _pick(size, nd), "stride": _pick(size, nd),
                                           "padding": 0}, [x])]

    return mapper


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}


def torch_padding(begin: list[int], end: list[int]) -> list[int]:
    """ONNX's per-axis begin and end amounts (first axis first) in torch's F.pad order: the last
    axis's (begin, end) first, then the one before it."""
    out: list[int] = []
    for lo, hi in zip(reversed(begin), reversed(end), strict=True):
        out += [int(lo), int(hi)]
    return out


def pad_params(begin: list[int], end: list[int], mode: str, value: float, rank: int) -> dict[str, Any]:
    """The Pad layer's params for ONNX-style amounts over all ``rank`` axes (the batch's first), or an
    OpProblem saying why there is none."""
    if begin[0] or end[0]:
        raise OpProblem("it pads the batch dimension; netbuilder's Pad pads the dims after it")
    if any(v < 0 for v in (*begin, *end)):
        raise OpProblem(f"negative pads {begin + end} crop the tensor; netbuilder's Pad only adds values "
                        "(crop with a Slice before importing, or pad with amounts of 0 or more)")
    padded = [k for k in range(1, rank) if begin[k] or end[k]]
    first = padded[0] if padded else rank - 1
    if mode != "constant":  # torch's reflect/replicate pad exactly the spatial dims
        if first < 2:
            raise OpProblem(f"{mode} padding of the channel dimension has no netbuilder equal (torch reflects "
                            "and replicates only the spatial dims)")
        first = 2
    if rank - first > 3:
        raise OpProblem(f"padding {rank - first} trailing dims; netbuilder's Pad pads at most the last 3")
    return {"padding": torch_padding(begin[first:], end[first:]), "mode": mode, "value": float(value)}


def _pad(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    a = node_attrs(n)
    mode = a.get("mode", "constant")
    if mode not in _PAD_MODES:
        raise OpProblem(f"mode '{mode}' has no netbuilder Pad mode (there are constant, reflect and edge)")
    rank = len(b.shape(n.input[0]))
    if b.has(n, 1):  # opset 11+: pads, constant_value and axes are inputs
        pads = [int(v) for v in b.const(n, 1, "pads").reshape(-1)]
        value = float(b.const(n, 2, "constant_value").reshape(-1)[0]) if b.has(n, 2) else 0.0
        axes = ([int(v) % rank for v in b.const(n, 3, "axes").reshape(-1)] if b.has(n, 3)
                else list(range(rank)))
    else:
        pads, value, axes = [int(v) for v in a.get("pads", [])], float(a.get("value", 0.0)), list(range(rank))
    if len(pads) != 2 * len(axes):
        raise OpProblem(f"{len(pads)} pads for {len(axes)} axes; ONNX gives a begin and an end per axis")
    begin, end = [0] * rank, [0] * rank
    for k, axis in enumerate(axes):
        begin[axis], end[axis] = pads[k], pads[k + len(axes)]
    if not any(begin) and not any(end):
        return [b.port(n, 0)]
    if mode == "constant" and not np.isfinite(value):
        raise OpProblem(f"the constant_value {value} is not a finite number; netbuilder's Pad fills with a "
                        "finite value")
    return [b.add("Pad", n, pad_params(begin, end, _PAD_MODES[mode], value, rank), [b.port(n, 0)])]


MAPPERS: dict[str, Mapper] = {
    "Conv": _conv, "ConvTranspose": _conv_transpose,
    "MaxPool": _pool("Max"), "AveragePool": _pool("Avg"),
    "GlobalAveragePool": _global("Avg"), "GlobalMaxPool": _global("Max"),
    "Pad": _pad,
}
