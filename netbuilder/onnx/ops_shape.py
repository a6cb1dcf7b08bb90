"""ONNX's shape ops as netbuilder layers: Flatten, Reshape (and the Reshape, Transpose, Reshape that is
nn.PixelShuffle), Squeeze, Unsqueeze and Transpose, none of which may move the batch dimension; the
transposes and reshapes around an RNN's time-major input and output; Split, and Slices of one axis
made one Split; DepthToSpace in CRD mode as PixelShuffle."""

from __future__ import annotations

import itertools

import numpy as np
import onnx

from netbuilder.onnx.layer_maker import LayerMaker, Mapper, node_attrs
from netbuilder.onnx.values import OpProblem, Port, RnnOut, TimeMajor, Value


def _flatten(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    if int(node_attrs(n).get("axis", 1)) != 1:
        raise OpProblem("Flatten with axis other than 1 merges the batch dimension; netbuilder keeps it first")
    return [b.add("Flatten", n, {"start_dim": 1, "end_dim": -1}, [b.port(n, 0)])]


def _reshape_to(b: LayerMaker, n: onnx.NodeProto, x: Port, rest: list[int | None]) -> list[Value]:
    if any(d is None for d in rest):
        raise OpProblem("the new shape is not known when importing (it depends on data)")
    if not rest:
        raise OpProblem("the result has only the batch dimension; netbuilder layers keep at least one more")
    if list(b.shape(n.input[0])[1:]) == rest:
        return [x]  # a no-op here
    return [b.add("Reshape", n, {"shape": [int(d) for d in rest]}, [x])]


def _reshape(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    v = b.value(n.input[0])
    if isinstance(v, RnnOut) and v.which == "YT":  # torch's bidirectional [T, N, 2, H] -> [T, N, 2H]
        return [TimeMajor(RnnOut(v.node, "seq"))]
    x, in_shape = b.port(n, 0), b.shape(n.input[0])
    rest = list(b.shape(n.output[0])[1:])
    if b.is_const(n, 1):
        target = [int(d) for d in b.const(n, 1, "shape").reshape(-1)]
        if not target or not (target[0] in (0, -1) or target[0] == in_shape[0]):
            raise OpProblem(f"reshaping to {target} moves the batch dimension; netbuilder keeps it first "
                            "(use 0 or -1 as the first size)")
        if node_attrs(n).get("allowzero", 0) and 0 in target:
            raise OpProblem("allowzero=1 with a 0 size makes an empty tensor")
        if None in rest:  # the inferred shape is the clearest; else the target, -1 left to netbuilder
            rest = [in_shape[k] if d == 0 and k < len(in_shape) else d for k, d in enumerate(target)][1:]
    return _reshape_to(b, n, x, rest)


def _axes(b: LayerMaker, n: onnx.NodeProto) -> list[int]:
    raw = b.const(n, 1, "axes").reshape(-1) if b.has(n, 1) else node_attrs(n).get("axes", [])
    return [int(a) for a in raw]


def _squeeze(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    v, axes = b.value(n.input[0]), _axes(b, n)
    if isinstance(v, RnnOut) and v.which == "Y" and axes in ([1], [-3]) and not b.bidirectional(v.node):
        return [TimeMajor(RnnOut(v.node, "seq"))]
    if isinstance(v, RnnOut) and v.which == "Y_h" and axes in ([0], [-3]) and not b.bidirectional(v.node):
        return [b.rnn_use(v.node, "last")]
    return _unsqueeze(b, n)


def _unsqueeze(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    rank = len(b.shape(n.output[0] if n.op_type == "Unsqueeze" else n.input[0]))
    if n.op_type == "Squeeze" and not b.has(n, 1) and "axes" not in node_attrs(n):
        raise OpProblem("Squeeze without axes may drop the batch dimension; give its axes")
    if any(a % rank == 0 for a in _axes(b, n)):
        raise OpProblem(f"{n.op_type} of the batch dimension has no netbuilder layer")
    return _reshape_to(b, n, b.port(n, 0), list(b.shape(n.output[0])[1:]))


def _transpose(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    v = b.value(n.input[0])
    rank = len(b.shape(n.input[0]))
    perm = list(node_attrs(n).get("perm", range(rank - 1, -1, -1)))
    if perm == [1, 0, 2]:  # batch-first <-> time-major around RNNs
        if isinstance(v, TimeMajor):
            return [v.inner]
        return [TimeMajor(v if isinstance(v, RnnOut) and v.which == "seq" else b.port(n, 0))]
    if isinstance(v, RnnOut) and v.which == "Y" and perm == [0, 2, 1, 3]:
        return [RnnOut(v.node, "YT")]
    if perm[0] != 0:
        raise OpProblem(f"perm {perm} moves the batch dimension; netbuilder keeps it first")
    x = b.port(n, 0)
    return [x] if perm == sorted(perm) else [b.add("Permute", n, {"dims": perm}, [x])]


def _split(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    x, shape = b.port(n, 0), b.shape(n.input[0])
    axis = int(node_attrs(n).get("axis", 0))
    if axis % len(shape) == 0:
        raise OpProblem("splitting along the batch dimension has no netbuilder layer")
    sizes = [b.shape(o)[axis] if o else None for o in n.output]
    if any(s is None for s in sizes):
        raise OpProblem("the sizes of its parts are not known when importing")
    if len(sizes) == 1:
        return [x]
    if len(sizes) > 8:
        raise OpProblem(f"{len(sizes)} parts; netbuilder's Split makes at most 8")
    node = b.add("Split", n, {"sizes": [int(s) for s in sizes], "dim": axis}, [x]).node
    return [Port(node, port) for port in b.graph.node(node).output_ports()]


def _slice_range(b: LayerMaker, n: onnx.NodeProto) -> tuple[int, int, int] | None:
    """(axis, start, end) of a Slice of one non-batch axis with step 1 and constant bounds, else None."""
    if not all(b.is_const(n, k) for k in range(1, len(n.input)) if n.input[k]):
        return None
    shape = b.shape(n.input[0])
    starts, ends = (b.const(n, k, w).reshape(-1) for k, w in ((1, "starts"), (2, "ends")))
    axes = b.const(n, 3, "axes").reshape(-1) if b.has(n, 3) else np.arange(len(starts))
    steps = b.const(n, 4, "steps").reshape(-1) if b.has(n, 4) else np.ones(len(starts), np.int64)
    if len(starts) != 1 or len(ends) != 1 or len(axes) != 1 or int(steps[0]) != 1:
        return None
    axis = int(axes[0]) % len(shape)
    size = shape[axis]
    if axis == 0 or size is None:
        return None
    start, end = (int(min(max(v + size if v < 0 else v, 0), size)) for v in (int(starts[0]), int(ends[0])))
    return (axis, start, end) if start < end else None


def _slice(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    """Slices of one tensor along one axis become one Split: its parts the slices when they cut the
    axis into pieces (torch's chunk and split, exported with a free batch), else the slice and
    what lies either side of it, only the slice wired (x[:, 2:5])."""
    got = _slice_range(b, n)
    if got is None:
        raise OpProblem("only a Slice of one dimension (not the batch) with step 1 and constant bounds maps to a "
                        "Split; slice one dimension at a time")
    axis, start, end = got
    size = b.shape(n.input[0])[axis]
    if (start, end) == (0, size):
        return [b.port(n, 0)]
    group = ("slices", n.input[0], axis)
    if group not in b.memo:  # the first Slice of this tensor along this axis: do they all cut it into pieces?
        if "slices of" not in b.memo:  # every Slice by the tensor it slices, indexed once (not once per tensor)
            b.memo["slices of"] = index = {}
            for m in b.model.graph.node:
                if m.op_type == "Slice":
                    index.setdefault(m.input[0], []).append(m)
        siblings = b.memo["slices of"][n.input[0]]
        ranges = sorted({r[1:] for m in siblings if (r := _slice_range(b, m)) is not None and r[0] == axis})
        tiles = (1 < len(ranges) <= 8 and ranges[0][0] == 0 and ranges[-1][1] == size
                 and all(a[1] == c[0] for a, c in itertools.pairwise(ranges)))
        b.memo[group] = _split_for(b, n, axis, ranges) if tiles else None
    made = b.memo[group]
    if made is None:  # a slice of its own: a Split into it and what lies either side, only it wired
        own = ("slice", n.input[0], axis, start, end)
        if own not in b.memo:
            ranges = [(0, start)] * (start > 0) + [(start, end)] + [(end, size)] * (end < size)
            b.memo[own] = _split_for(b, n, axis, ranges)
        made = b.memo[own]
    node, ports = made
    return [Port(node, ports[start, end])]


def _split_for(b: LayerMaker, n: onnx.NodeProto, axis: int,
               ranges: list[tuple[int, int]]) -> tuple[str, dict[tuple[int, int], str]]:
    node = b.add("Split", n, {"sizes": [e - s for s, e in ranges], "dim": axis}, [b.port(n, 0)]).node
    return node, {r: f"out{k}" for k, r in enumerate(ranges, 1)}


def _reshape_or_pixel_shuffle(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    """Reshape [N, C, r, r, H, W] -> Transpose (0, 1, 4, 2, 5, 3) -> Reshape [N, C, H·r, W·r] of an
    [N, C·r², H, W] input is nn.PixelShuffle(r); any other Reshape is one."""
    t = b.made_by(n.input[0], "Transpose", "Permute")
    inner = b.made_by(t.input[0], "Reshape", "Reshape") if t is not None else None
    if inner is not None and list(node_attrs(t).get("perm", [])) == [0, 1, 4, 2, 5, 3]:
        src, mid, out = b.shape(inner.input[0]), b.shape(inner.output[0]), b.shape(n.output[0])
        if (len(src) == 4 and len(mid) == 6 and len(out) == 4 and None not in src[1:] + mid[1:] + out[1:]
                and mid[2] == mid[3] and mid[1:] == (src[1] // mid[2] ** 2, mid[2], mid[2], src[2], src[3])
                and out[1:] == (mid[1], src[2] * mid[2], src[3] * mid[2])):
            b.drop(n.input[0])
            return [b.add("PixelShuffle", n, {"upscale_factor": int(mid[2])}, [b.drop(t.input[0])])]
    return _reshape(b, n)


def _depth_to_space(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    a = node_attrs(n)
    if a.get("mode", "DCR") != "CRD":
        raise OpProblem("DepthToSpace in DCR mode orders channels differently from torch's PixelShuffle "
                        "(mode CRD); export with mode CRD (torch's pixel_shuffle does)")
    return [b.add("PixelShuffle", n, {"upscale_factor": int(a["blocksize"])}, [b.port(n, 0)])]


MAPPERS: dict[str, Mapper] = {
    "Flatten": _flatten, "Reshape": _reshape_or_pixel_shuffle, "Transpose": _transpose, "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze, "Split": _split, "Slice": _slice, "DepthToSpace": _depth_to_space,
}
