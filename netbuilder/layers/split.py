"""Split: one tensor into several along a dimension, one output port per part."""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping

from netbuilder.layers.spec import MAX_SIZE, LayerSpec, Params, ParamSpec, ShapeError, TensorType, torch_dim

In = Mapping[str, TensorType]


@functools.cache
def _ports(n: int) -> tuple[str, ...]:
    return tuple(f"out{k}" for k in range(1, n + 1))


def split_ports(p: Params) -> tuple[str, ...]:
    """One output per entry of ``sizes``: out1, out2, ..."""
    sizes = p.get("sizes", [1, 1])
    return _ports(len(sizes) if isinstance(sizes, (list, tuple)) and 2 <= len(sizes) <= 8 else 2)


def _infer(p: Params, i: In) -> dict[str, TensorType]:
    t = i["in"]
    axis = torch_dim(p["dim"], t, "in")
    sizes = list(p["sizes"])
    have = t.shape[axis]
    if sum(sizes) != have:
        raise ShapeError("in", f"{sum(sizes)} values along dim {p['dim']} for sizes {sizes}",
                         f"make sizes add up to {have}" + (f", e.g. {_even(have, len(sizes))}"
                                                           if have >= len(sizes) else ""))
    out = {}
    for port, size in zip(split_ports(p), sizes, strict=True):
        shape = list(t.shape)
        shape[axis] = size
        out[port] = TensorType(tuple(shape), t.dtype)
    return out


def _even(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (k < extra) for k in range(parts)]


def _emit(g, module, args, p, i, o):
    parts = g.call_method("split", (args[0], list(p["sizes"]), p["dim"]))
    return [g.call_function(operator.getitem, (parts, k)) for k in range(len(p["sizes"]))]


SPLIT = LayerSpec(
    kind="Split",
    category="Reshape",
    doc="Cuts a tensor into parts along dim, e.g. sizes [3, 3] halves 6 channels; one output per part.",
    params=(
        ParamSpec("sizes", "ints", [1, 1], "Size of each part along dim; they add up to the input's size there.",
                  minimum=1, maximum=MAX_SIZE, min_len=2, max_len=8),
        ParamSpec("dim", "int", 1, "Dimension to cut along (not 0, the batch).", minimum=-6, maximum=6),
    ),
    infer=_infer,
    outputs=split_ports,
    emit=_emit,
    name_base="split",
)

SPECS = (SPLIT,)
