"""ONNX's activations as netbuilder's: Relu, LeakyRelu, PRelu (one slope or one per channel), Elu, Selu
(torch's constants only), Sigmoid, Tanh, Softplus, Gelu, and Softmax, LogSoftmax and ``softmax(-x)``
(nn.Softmin) along any dimension but the batch's."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx

from netbuilder.onnx.layer_maker import LayerMaker, Mapper, node_attrs
from netbuilder.onnx.values import OpProblem, Value


def _act(kind: str, params: Callable[[dict[str, Any]], dict[str, Any]] = lambda a: {}) -> Mapper:
    def mapper(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
        return [b.add(kind, n, params(node_attrs(n)), [b.port(n, 0)])]

    return mapper


def _selu(a: dict[str, Any]) -> dict[str, Any]:
    if not (np.isclose(a.get("alpha", 1.6732632), 1.6732632) and np.isclose(a.get("gamma", 1.050701), 1.050701)):
        raise OpProblem("Selu with its own alpha/gamma differs from torch's SELU")
    return {}


def _softmax(kind: str) -> Mapper:
    def mapper(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
        axis = int(node_attrs(n).get("axis", -1))
        if axis == 0 or axis == -len(b.shape(n.input[0])):
            raise OpProblem(f"{n.op_type} across the batch dimension has no netbuilder layer")
        return [b.add(kind, n, {"dim": axis}, [b.port(n, 0)])]

    return mapper


def _prelu(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    raw, shape = b.const(n, 1, "slope"), b.shape(n.input[0])
    slope = raw.reshape(-1)
    if slope.size == 0:
        raise OpProblem("its slope is empty")
    if slope.size == 1 or not np.any(slope != slope[0]):
        s = float(slope[0])
        return [b.add("PReLU", n, {"init": min(max(s, 0.0), 1.0)}, [b.port(n, 0)], {"weight": np.array([s])})]
    # One slope per channel: lined up with the input from the right (ONNX broadcasting), the slope's
    # shape is 1 everywhere but dim 1, where it has the channels.
    full = (1,) * (len(shape) - raw.ndim) + tuple(raw.shape)
    if len(full) != len(shape) or len(shape) < 2 or full[1] != shape[1] or math.prod(full) != full[1]:
        dims = ["?" if d is None else d for d in shape]
        raise OpProblem(f"a slope of shape {list(raw.shape)} for an input of {dims} is not one slope per channel "
                        "(dim 1); netbuilder's PReLU learns one, or one per channel")
    init = float(np.clip(slope.mean(), 0.0, 1.0))
    return [b.add("PReLU", n, {"init": init, "per_channel": True}, [b.port(n, 0)], {"weight": slope})]


def _softmax_or_softmin(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    """``softmax(-x)`` is nn.Softmin; any other Softmax is one."""
    neg = b.made_by(n.input[0], "Neg", "Math")
    if neg is None:
        return _softmax("Softmax")(b, n)
    axis = int(node_attrs(n).get("axis", -1))
    if axis == 0 or axis == -len(b.shape(n.input[0])):
        raise OpProblem("Softmax across the batch dimension has no netbuilder layer")
    return [b.add("Softmin", n, {"dim": axis}, [b.drop(n.input[0])])]


MAPPERS: dict[str, Mapper] = {
    "Relu": _act("ReLU"), "LeakyRelu": _act("LeakyReLU", lambda a: {"negative_slope": a.get("alpha", 0.01)}),
    "PRelu": _prelu, "Elu": _act("ELU", lambda a: {"alpha": a.get("alpha", 1.0)}), "Selu": _act("SELU", _selu),
    "Sigmoid": _act("Sigmoid"), "Tanh": _act("Tanh"), "Softplus": _act("Softplus"),
    "Gelu": _act("GELU", lambda a: {"approximate": a.get("approximate", "none")}),
    "Softmax": _softmax_or_softmin, "LogSoftmax": _softmax("LogSoftmax"),
}
