"""ONNX's element-wise arithmetic and merges as netbuilder layers.

Add, Sub, Mul, Div and Pow of two computed tensors are the merge layers (Add, Multiply, Subtract,
Divide); of a tensor and one number a Math; of a tensor and one value per channel a Scale, or folded
into the BatchNorm or Scale before it; Add's constant may instead be the bias of the MatMul, Gemm or
Conv before it. Sum and Concat merge computed tensors; Neg, Abs, Exp, Log, Sqrt and Reciprocal are
Math's functions. The patterns torch's exporter spells nn.GLU and nn.Softsign as each become that layer."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx

from netbuilder.onnx import ops_modern
from netbuilder.onnx.layer_maker import LayerMaker, Mapper, node_attrs
from netbuilder.onnx.values import OpProblem, Port, Value


def _per_channel(b: LayerMaker, n: onnx.NodeProto, k: int, c: np.ndarray) -> np.ndarray:
    """Constant ``c`` (broadcast against input ``k`` of ``n``) as one value per channel (dim 1), or an
    OpProblem where it varies along another dim or would enlarge the tensor."""
    shape = b.shape(n.input[k])
    rank = len(shape)
    full = (1,) * (rank - c.ndim) + tuple(c.shape) if c.ndim <= rank else None
    if full is None or full[0] != 1 or any(d != 1 for d in full[2:]) or full[1] not in (1, shape[1]):
        batch = " that differs from sample to sample along the batch dimension" if full and full[0] > 1 else ""
        raise OpProblem(f"a constant of shape {list(c.shape)}{batch} against a tensor of shape "
                        f"{['N', *shape[1:]]} is not one value per channel (dim 1) nor a single number, which "
                        "netbuilder's Scale layer takes: make the constant a single number or one per channel "
                        "([C, 1, ...])")
    channels = int(shape[1])
    return np.broadcast_to(np.asarray(c, np.float32).reshape(-1), (channels,)).copy() if c.size in (1, channels) \
        else np.asarray(c, np.float32).reshape(channels)


def with_constant(b: LayerMaker, n: onnx.NodeProto, op: str, k: int) -> Port:
    """``op`` (Add, Sub, Mul or Div) of computed input ``k`` of ``n`` and its other, constant input, as
    ``x * w + b`` per channel: folded into the BatchNorm or Scale making x where nothing else uses x, else
    a Scale layer. An OpProblem says why where the constant is not one value per channel or in all."""
    c = b.const(n, 1 - k, "constant")
    v = _per_channel(b, n, k, c)
    if op == "Add":
        return b.scale_shift(n, k, None, v)
    if op == "Mul":
        return b.scale_shift(n, k, v, None)
    if op == "Sub":  # x - c, or c - x = x * -1 + c
        return b.scale_shift(n, k, None, -v) if k == 0 else b.scale_shift(n, k, -np.ones_like(v), v)
    if op == "Div" and k == 0:
        if not v.all():
            raise OpProblem("divides by a constant that holds 0")
        return b.scale_shift(n, k, (1.0 / v.astype(np.float64)).astype(np.float32), None)
    raise OpProblem(f"{op} of a constant by a tensor has no netbuilder layer")


def _affine(op: str) -> Mapper:
    """Mul, Add, Sub and Div where one input is a constant: a per-channel Scale (see :func:`with_constant`),
    or Add's bias after a MatMul, Gemm or Conv without one."""
    def mapper(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
        consts = [k for k in range(len(n.input)) if b.is_const(n, k)]
        if not consts:
            if op in ("Add", "Mul"):
                return _merge("Add" if op == "Add" else "Multiply")(b, n)
            raise OpProblem(f"{op} of two computed tensors has no netbuilder layer (only {op} with a constant)")
        if len(n.input) != 2 or len(consts) != 1:
            raise OpProblem(f"{op} of constants only was not folded when importing")
        k = 1 - consts[0]
        if op == "Add":
            node_id = b.bias_target(n.input[k])
            if node_id is not None:  # MatMul/Gemm/Conv without a bias, used only here
                return [b.set_bias(node_id, b.const(n, consts[0], "bias"))]
        return [with_constant(b, n, op, k)]

    return mapper


_add = _affine("Add")  # a merge of computed tensors, a bias folded into the layer before, or a per-channel Scale


def _merge(kind: str) -> Mapper:
    def mapper(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
        if any(b.is_const(n, k) for k in range(len(n.input))):
            raise OpProblem(f"{n.op_type} with a constant has no netbuilder layer ({kind} merges computed tensors)")
        if kind == "Concat" and ops_modern.stacked_states(b, n) is not None:
            return [ops_modern.stacked_states(b, n)]  # h_n of stacked RNN layers
        ports = [b.port(n, k) for k in range(len(n.input))]
        if len(ports) == 1:
            return ports
        if len(ports) > 8:
            raise OpProblem(f"{len(ports)} inputs; netbuilder's {kind} takes at most 8")
        params: dict[str, Any] = {"num_inputs": len(ports)}
        if kind == "Concat":
            axis = int(node_attrs(n)["axis"])
            if axis == 0 or axis == -len(b.shape(n.input[0])):
                raise OpProblem("concatenating along the batch dimension has no netbuilder layer")
            params["dim"] = axis
        return [b.add(kind, n, params, ports)]

    return mapper


def _scalar(b: LayerMaker, n: onnx.NodeProto, k: int) -> float | None:
    """The one number constant input ``k`` holds, when it broadcasts without adding dimensions."""
    c = b.const(n, k, "constant")
    other = b.shape(n.input[1 - k]) if len(n.input) == 2 else ()
    return float(c.reshape(-1)[0]) if c.size == 1 and c.ndim <= len(other) else None


def _not_scalar(b: LayerMaker, n: onnx.NodeProto, k: int) -> OpProblem:
    c, shape = b.const(n, k, "constant"), b.shape(n.input[1 - k])
    why = (" that differs from sample to sample along the batch dimension" if c.ndim == len(shape)
           and c.shape[0] > 1 and c.shape[0] == shape[0] else "")
    return OpProblem(f"{n.op_type} with a constant of shape {list(c.shape)}{why} has no netbuilder layer "
                     "(Math combines each value with one number; Add, Multiply, Subtract and Divide take "
                     "computed tensors): make the constant a single number, or compute it from an input")


def _math(b: LayerMaker, n: onnx.NodeProto, function: str, x: Port, value: float = 1.0) -> Port:
    return b.add("Math", n, {"function": function, "value": value}, [x])


def _unary(function: str) -> Mapper:
    def mapper(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
        return [_math(b, n, function, b.port(n, 0))]

    return mapper


def _arith(op: str) -> Mapper:
    """Add, Sub, Mul, Div and Pow: of two computed tensors a merge, of a tensor and a number a Math."""
    merge = {"Add": _add, "Mul": _merge("Multiply")}.get(op)

    def mapper(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
        consts = [k for k in range(len(n.input)) if b.is_const(n, k)]
        if op == "Add" and (not consts or b.bias_target(n.input[1 - consts[0]]) is not None):
            return _add(b, n)  # a merge, or a bias folded into the layer before
        if not consts:
            if op == "Mul" and (glu := _glu(b, n)):
                return [glu]
            if op == "Div" and (softsign := _softsign(b, n)):
                return [softsign]
            if op == "Pow":
                raise OpProblem("Pow with a computed exponent has no netbuilder layer (Math's power takes a number)")
            if merge is not None:
                return merge(b, n)
            return [b.add("Subtract" if op == "Sub" else "Divide", n, {}, [b.port(n, 0), b.port(n, 1)])]
        if len(consts) != 1 or len(n.input) != 2:
            raise OpProblem(f"{n.op_type} of constants only has no netbuilder layer")
        k = consts[0]
        x_name = n.input[1 - k]
        if op != "Pow" and not (op == "Div" and k == 0) and b.affine.get(x_name) and b.users[x_name] == 1:
            return [with_constant(b, n, op, 1 - k)]  # folded into the BatchNorm or Scale before
        c = _scalar(b, n, k)
        if c is None:
            if op == "Pow":
                raise _not_scalar(b, n, k)
            return [with_constant(b, n, op, 1 - k)]  # one value per channel: a Scale, or folded before
        x = b.port(n, 1 - k)
        if op == "Add":
            return [_math(b, n, "add", x, c)]
        if op == "Mul":
            return [_math(b, n, "multiply", x, c)]
        if op == "Sub":
            return [_math(b, n, "add", x, -c)] if k == 1 else [_math(b, n, "add", _math(b, n, "neg", x), c)]
        if op == "Div":
            if k == 1:
                if c == 0:
                    raise OpProblem("divides by the constant 0")
                return [_math(b, n, "multiply", x, 1.0 / c)]
            inv = _math(b, n, "reciprocal", x)
            return [inv if c == 1 else _math(b, n, "multiply", inv, c)]
        if k == 0:
            raise OpProblem("Pow of a constant base has no netbuilder layer (Math's power raises x to a number)")
        return [_math(b, n, "power", x, c)]

    return mapper


def _glu(b: LayerMaker, n: onnx.NodeProto) -> Port | None:
    """``a * sigmoid(b)`` where a and b are the halves of one Split (nn.GLU), else None."""
    for first, gate in ((0, 1), (1, 0)):
        sig = b.made_by(n.input[gate], "Sigmoid", "Sigmoid")
        split = b.producer.get(n.input[first])
        if (sig is None or split is None or split.op_type != "Split" or list(split.output) != [n.input[first],
                                                                                                  sig.input[0]]
                or b.users[n.input[first]] != 1 or b.users[sig.input[0]] != 1
                or b.made_by(n.input[first], "Split", "Split") is None):
            continue
        shape = b.shape(split.input[0])
        axis = int(node_attrs(split).get("axis", 0))
        if b.shape(split.output[0])[axis] != b.shape(split.output[1])[axis] or axis % len(shape) == 0:
            continue
        b.drop(n.input[gate])
        src = b.drop(n.input[first])
        return b.add("GLU", n, {"dim": axis}, [src])
    return None


def _softsign(b: LayerMaker, n: onnx.NodeProto) -> Port | None:
    """``x / (1 + |x|)`` (nn.Softsign), else None."""
    add = b.made_by(n.input[1], "Add", "Math")
    if add is None:
        return None
    k = next((k for k in range(2) if b.is_const(add, k)), None)
    if k is None or _scalar(b, add, k) != 1.0:
        return None
    abs_ = b.made_by(add.input[1 - k], "Abs", "Math")
    if abs_ is None or abs_.input[0] != n.input[0]:
        return None
    b.drop(n.input[1])
    b.drop(add.input[1 - k])
    return b.add("Softsign", n, {}, [b.port(n, 0)])


MAPPERS: dict[str, Mapper] = {
    "Concat": _merge("Concat"), "Sum": _merge("Add"),
    "Add": _arith("Add"), "Sub": _arith("Sub"), "Mul": _arith("Mul"), "Div": _arith("Div"), "Pow": _arith("Pow"),
    **{op: _unary(f) for op, f in (("Neg", "neg"), ("Abs", "abs"), ("Exp", "exp"), ("Log", "log"),
                                   ("Sqrt", "sqrt"), ("Reciprocal", "reciprocal"))},
}
