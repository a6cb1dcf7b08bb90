"""Merges for branches and skip connections: Add, Multiply, Concat."""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping

from netbuilder.layers.spec import (
    LayerSpec,
    Params,
    ParamSpec,
    PortSpec,
    ShapeError,
    TensorType,
    torch_dim,
)
from netbuilder.lazy_torch import torch

In = Mapping[str, TensorType]

NUM_INPUTS = ParamSpec("num_inputs", "int", 2, "How many tensors to merge.", minimum=2, maximum=8)


@functools.cache
def _ports(n: int) -> tuple[PortSpec, ...]:
    return tuple(PortSpec(f"in{k}") for k in range(1, n + 1))


def merge_ports(p: Params) -> tuple[PortSpec, ...]:
    return _ports(int(p.get("num_inputs", 2)))


def _ordered(i: In) -> list[tuple[str, TensorType]]:
    return sorted(i.items(), key=lambda kv: int(kv[0][2:]))


def broadcast_shapes(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """torch's broadcasting rule for two per-sample shapes of the same rank; ValueError where they
    do not broadcast. Callers check the ranks first: see :func:`_rank_problem`."""
    if len(a) != len(b):
        raise ValueError(f"ranks {len(a) + 1} and {len(b) + 1} differ")
    out = []
    for x, y in zip(a, b, strict=True):
        if x != y and 1 not in (x, y):
            raise ValueError(f"{x} and {y} do not broadcast")
        out.append(y if x == 1 else x)
    return tuple(out)


def aligned_shape(shape: tuple[int, ...], rank: int, other: tuple[int, ...]) -> tuple[list[int], str] | None:
    """``shape`` given 1s up to ``rank`` dims so that it broadcasts with ``other``: leading 1s (torch's own
    alignment, from the right), else trailing ones (the features meet the channels, as ``x[:, :, None, None]``
    does for a per-channel gate); with which side, or None where neither broadcasts."""
    for padded, side in (([1] * (rank - len(shape) - 1) + list(shape), "leading"),
                         (list(shape) + [1] * (rank - len(shape) - 1), "trailing")):
        try:
            broadcast_shapes(tuple(padded), other)
        except ValueError:
            continue
        return padded, side
    return None


def _rank_problem(items: list[tuple[str, TensorType]]) -> ShapeError | None:
    """Inputs of different ranks, refused: torch lines full shapes up from the right, batch
    included, so [N, 4] against [N, 3, 4] meets the 3 with its batch size N. That silently
    computes something else at batch 3 and raises at batch 2, so no rank difference is safe for
    every N; a Reshape that adds 1s (leading, else trailing: :func:`aligned_shape`) makes the ranks
    equal and the broadcast per sample."""
    widest_port, widest = max(items, key=lambda kv: kv[1].rank)
    for port, t in items:
        if t.rank != widest.rank:
            aligned = aligned_shape(t.shape, widest.rank, widest.shape)
            if aligned is None:
                return ShapeError(
                    port, f"rank {widest.rank} like {widest_port} {widest}",
                    f"{t} and {widest} do not broadcast even with 1s added on either side: make '{port}' the "
                    f"shape of {widest_port} (a Linear or a convolution to that size, then Reshape), or merge "
                    "elsewhere")
            padded, side = aligned
            why = (f"torch lines shapes up from the right, batch included, so this batch N would meet a size of "
                   f"{widest_port}") if side == "leading" else "each value then meets one channel of " + widest_port
            return ShapeError(port, f"rank {widest.rank} like {widest_port} {widest}",
                              f"insert Reshape to [{', '.join(map(str, padded))}] before '{port}' ({why})")
    return None


def _broadcast(kind: str):
    def infer(p: Params, i: In) -> dict[str, TensorType]:
        items = _ordered(i)
        first_port, first = items[0]
        if problem := _rank_problem(items):
            raise problem
        shape = first.shape
        for port, t in items[1:]:
            if t.dtype != first.dtype:
                raise ShapeError(port, f"{first.dtype} like {first_port}", "make both inputs the same dtype")
            if t.shape == shape:  # the usual residual case
                continue
            try:
                shape = broadcast_shapes(shape, t.shape)
            except ValueError:
                raise ShapeError(port, f"a shape that matches {first_port}'s [N, {', '.join(map(str, shape))}]",
                                 "make the branches' shapes equal, or size 1 where one should broadcast") from None
        return {"out": TensorType(shape, first.dtype)}

    return infer


def _chain(op):
    def emit(g, module, args, p, i, o):
        return functools.reduce(lambda a, b: g.call_function(op, (a, b)), args)

    return emit


def _concat_infer(p: Params, i: In) -> dict[str, TensorType]:
    items = _ordered(i)
    first_port, first = items[0]
    axis = torch_dim(p["dim"], first, first_port)
    total = 0
    for port, t in items:
        if t.rank != first.rank:
            raise ShapeError(port, f"rank {first.rank} like {first_port}", "reshape the branches to the same rank")
        other = [d for k, d in enumerate(t.shape) if k != axis]
        if other != [d for k, d in enumerate(first.shape) if k != axis] or t.dtype != first.dtype:
            raise ShapeError(port, f"the same sizes as {first_port} {first} except along dim {p['dim']}",
                             "make the other dimensions match, or concatenate along another dim")
        total += t.shape[axis]
    out = list(first.shape)
    out[axis] = total
    return {"out": TensorType(tuple(out), first.dtype)}


SPECS = (
    LayerSpec(kind="Add", category="Merge", doc="Adds its inputs element-wise (a residual / skip connection).",
              params=(NUM_INPUTS,), inputs=merge_ports, infer=_broadcast("Add"), emit=_chain(operator.add),
              name_base="add"),
    LayerSpec(kind="Multiply", category="Merge", doc="Multiplies its inputs element-wise (gating).",
              params=(NUM_INPUTS,), inputs=merge_ports, infer=_broadcast("Multiply"), emit=_chain(operator.mul),
              macs=lambda p, i, o: 0, name_base="mul"),
    LayerSpec(kind="Concat", category="Merge", doc="Joins its inputs along dim (1: channels or features).",
              params=(NUM_INPUTS, ParamSpec("dim", "int", 1, "Dimension to join along (not 0, the batch).",
                                            minimum=-6, maximum=6)),
              inputs=merge_ports, infer=_concat_infer,
              emit=lambda g, m, a, p, i, o: g.call_function(torch.cat, (list(a),), {"dim": p["dim"]}),
              name_base="cat"),
)
