"""Small helpers shape rules share."""

from __future__ import annotations

from collections.abc import Mapping

from netbuilder.layers.spec import ShapeError, TensorType


def need_float(t: TensorType, port: str, kind: str) -> None:
    if t.dtype != "float32":
        raise ShapeError(
            port,
            "a float32 tensor",
            f"{kind} cannot take integer ids; insert an Embedding first"
            if t.dtype == "int64"
            else "convert the input to float32",
        )


def need_rank(
    t: TensorType, port: str, ranks: tuple[int, ...], expected: str, fix: str = ""
) -> None:
    """Refuse a tensor whose full rank (batch included) is not one of ``ranks``."""
    if t.rank not in ranks:
        raise ShapeError(port, expected, fix)


def flatten_fix(t: TensorType, wanted_rank: int) -> str:
    if t.rank > wanted_rank:
        return "insert Flatten" if wanted_rank == 2 else "insert Reshape or Flatten"
    return "insert Reshape to add the missing dimensions"


def same(inputs: Mapping[str, TensorType], port: str = "in") -> dict[str, TensorType]:
    """The identity shape rule for float layers (activations, dropout, norms)."""
    return {"out": inputs[port]}


def conv_out(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv_transpose_out(
    size: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int
) -> int:
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def pool_out(size: int, kernel: int, stride: int, padding: int, ceil_mode: bool = False, dilation: int = 1) -> int:
    """torch's pooling output size: with ceil_mode a last, partial window is kept, but only when it
    starts inside the input or the left padding (never in the right padding alone)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out
