"""ONNX operators to catalog layers: one mapper per op.

:mod:`netbuilder.onnx.importer` prepares a model (opset lifted, constants folded, shapes inferred)
and walks its nodes in order; each node's mapper turns its inputs into catalog nodes through a
:class:`~netbuilder.onnx.layer_maker.LayerMaker` and returns its outputs as
:data:`~netbuilder.onnx.values.Value`s. This module imports neither the importer nor anything
that imports it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
import torch

from netbuilder.onnx import ops_attention, ops_modern, ops_spatial
from netbuilder.onnx.layer_maker import LayerMaker, Mapper, node_attrs
from netbuilder.onnx.values import Fill, OpProblem, Port, RnnOut, TimeMajor, Value


def _gemm(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    a = node_attrs(n)
    x, w = b.port(n, 0), b.const(n, 1, "weight")
    if a.get("transA", 0) or w.ndim != 2:
        raise OpProblem("only Gemm with transA=0 and a constant 2-D B maps to Linear")
    # Linear stores W as [out, in]: that is B when transB=1, its transpose otherwise.
    w = (w if a.get("transB", 0) else w.T) * a.get("alpha", 1.0)
    bias = b.const(n, 2, "bias") * a.get("beta", 1.0) if b.has(n, 2) else None
    if bias is not None:
        bias = _row_bias(bias, w.shape[0])
    out = b.add("Linear", n, {"out_features": w.shape[0], "bias": bias is not None}, [x],
                {"weight": w, "bias": bias}, biasable=bias is None)
    return [out]


def _row_bias(c: np.ndarray, m: int) -> np.ndarray:
    if c.size == 1:
        return np.full(m, c.reshape(-1)[0], dtype=np.float32)
    if c.size == m and c.shape[-1] == m:
        return c.reshape(m)
    raise OpProblem(f"a bias of shape {list(c.shape)} is not one value per output ({m})")


def _matmul(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    if b.has(n, 0) and isinstance(b.value(n.input[0]), TimeMajor):
        return ops_attention.self_attention(b, n)  # torch's attention projects the [T, N, E] sequence
    if b.is_const(n, 0) or not b.is_const(n, 1) or b.const(n, 1, "B").ndim != 2:
        raise OpProblem("only MatMul of a tensor by a constant 2-D weight maps to Linear")
    x, w = b.port(n, 0), b.const(n, 1, "weight")
    return [b.add("Linear", n, {"out_features": w.shape[1], "bias": False}, [x], {"weight": w.T}, biasable=True)]


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


def _batchnorm(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    a = node_attrs(n)
    if a.get("training_mode", 0) or any(o for o in n.output[1:]):
        raise OpProblem("BatchNormalization in training mode has no import; export the model in eval mode")
    x = b.port(n, 0)
    scale, shift, mean, var = (b.const(n, k, w) for k, w in enumerate(("scale", "B", "mean", "var"), 1))
    rank = len(b.shape(n.input[0]))
    if rank not in (2, 3, 4, 5):
        raise OpProblem(f"batch norm of a rank-{rank} tensor has no netbuilder layer (ranks 2 to 5 have one)")
    params = {"eps": float(a.get("epsilon", 1e-5)), "momentum": round(1.0 - float(a.get("momentum", 0.9)), 6),
              "affine": True}
    weights = {"weight": scale, "bias": shift, "running_mean": mean, "running_var": var,
               "num_batches_tracked": torch.tensor(0)}
    return [b.add(f"BatchNorm{max(rank - 2, 1)}d", n, params, [x], weights)]


def _lrn(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    a = node_attrs(n)
    if a["size"] % 2 == 0:
        raise OpProblem("an even LRN size centres its window differently from torch's LocalResponseNorm")
    params = {"size": a["size"], "alpha": a.get("alpha", 1e-4), "beta": a.get("beta", 0.75), "k": a.get("bias", 1.0)}
    return [b.add("LocalResponseNorm", n, params, [b.port(n, 0)])]


def _dropout(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    if len(n.output) > 1 and n.output[1]:
        raise OpProblem("Dropout's mask output has no netbuilder equal")
    if b.has(n, 2) and bool(b.const(n, 2, "training_mode").reshape(-1)[0]):
        raise OpProblem("Dropout in training mode; export the model in eval mode")
    p = float(b.const(n, 1, "ratio").reshape(-1)[0]) if b.has(n, 1) else float(node_attrs(n).get("ratio", 0.5))
    x = b.port(n, 0)
    return [x] if p == 0 else [b.add("Dropout", n, {"p": min(p, 0.99)}, [x])]


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


def _gather(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    axis = int(node_attrs(n).get("axis", 0))
    if b.is_const(n, 0) and not b.is_const(n, 1):
        table = b.const(n, 0, "table")
        if table.ndim != 2 or axis != 0:
            raise OpProblem("only Gather of rows of a constant 2-D table maps to Embedding")
        dtype = b.dtype(n.input[1])
        if dtype != "int64":
            raise OpProblem(f"its indices are {dtype}, but netbuilder's Embedding takes int64 ids")
        params = {"num_embeddings": table.shape[0], "embedding_dim": table.shape[1]}
        return [b.add("Embedding", n, params, [b.port(n, 1)], {"weight": table})]
    v = b.value(n.input[0])
    if b.is_const(n, 1) and b.const(n, 1, "index").size == 1:
        index = int(b.const(n, 1, "index").reshape(-1)[0])
        seq = v.inner if isinstance(v, TimeMajor) and axis == 0 else v if axis == 1 else None
        steps = b.shape(n.input[0])[axis]
        if (isinstance(seq, RnnOut) and seq.which == "seq" and not b.bidirectional(seq.node)
                and b.const(n, 1, "index").ndim == 0 and (index == -1 or index == steps - 1)):
            return [b.rnn_use(seq.node, "last")]  # y[:, -1]: the RNN's 'last' output
        if axis == 0 and b.const(n, 1, "index").ndim == 0:
            state = ops_modern.final_state(b, v, index)  # h_n[-1]
            if state is not None:
                return [state]
    raise OpProblem("Gather on a computed tensor has no netbuilder layer (only an Embedding lookup, "
                    "or the last step of an RNN's output)")


_GATES = {"LSTM": [0, 2, 3, 1], "GRU": [1, 0, 2], "RNN": [0]}  # torch's gate order, as ONNX indices
_ACTS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"]}


def _recurrent(kind: str) -> Mapper:
    def mapper(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
        a = node_attrs(n)
        direction = a.get("direction", "forward")
        dirs = 2 if direction == "bidirectional" else 1
        acts = [s.lower() for s in a.get("activations", [])]
        want = [s.lower() for s in _ACTS.get(kind, ["Tanh"])]
        if kind == "RNN" and acts[:1] == ["relu"]:
            want = ["relu"]
        if direction == "reverse" or a.get("layout", 0) or "clip" in a or a.get("input_forget", 0):
            raise OpProblem("direction=reverse, layout=1, clip and input_forget have no netbuilder equal")
        if acts and acts != want * dirs:
            raise OpProblem(f"activations {a['activations']} differ from torch's {kind}")
        if kind == "GRU" and not a.get("linear_before_reset", 0):
            raise OpProblem("a GRU with linear_before_reset=0 differs from torch's GRU")
        x = b.value(n.input[0])
        if not isinstance(x, TimeMajor):
            raise OpProblem("its input is not a batch-first tensor transposed to [T, N, F]")
        port = b.resolve(x.inner, n)
        w, r = b.const(n, 1, "W"), b.const(n, 2, "R")
        hidden, gates = int(a["hidden_size"]), len(_GATES[kind])
        bias = b.const(n, 3, "B") if b.has(n, 3) else np.zeros((dirs, 2 * gates * hidden), np.float32)
        if b.has(n, 4):
            raise OpProblem("per-sample sequence_lens have no netbuilder equal")
        for k in range(5, len(n.input)):  # initial_h, initial_c, P: zeros only
            v = b.value(n.input[k]) if n.input[k] else Fill(0.0)
            if not (v == Fill(0.0) or (isinstance(v, np.ndarray) and not v.any())):
                raise OpProblem("a non-zero initial state or peepholes have no netbuilder equal")

        def order(t: np.ndarray) -> np.ndarray:
            return t.reshape(gates, hidden, *t.shape[1:])[_GATES[kind]].reshape(t.shape)

        weights = {}
        for d in range(dirs):
            sfx = "_l0_reverse" if d else "_l0"
            weights |= {f"weight_ih{sfx}": order(w[d]), f"weight_hh{sfx}": order(r[d]),
                        f"bias_ih{sfx}": order(bias[d, :gates * hidden]),
                        f"bias_hh{sfx}": order(bias[d, gates * hidden:])}
        params = {"hidden_size": hidden, "num_layers": 1, "bidirectional": dirs == 2, "dropout": 0.0,
                  "output": "sequence"}
        if kind == "RNN":
            params["nonlinearity"] = want[0]
        rnn = b.add(kind, n, params, [port], weights)
        return [RnnOut(rnn.node, w) for w in ("Y", "Y_h", "Y_c")][:len(n.output)]

    return mapper


MAPPERS: dict[str, Mapper] = {
    **ops_spatial.MAPPERS, "Gemm": _gemm, "MatMul": _matmul,
    "BatchNormalization": _batchnorm, "LRN": _lrn, "Dropout": _dropout,
    "Relu": _act("ReLU"), "LeakyRelu": _act("LeakyReLU", lambda a: {"negative_slope": a.get("alpha", 0.01)}),
    "PRelu": _prelu, "Elu": _act("ELU", lambda a: {"alpha": a.get("alpha", 1.0)}), "Selu": _act("SELU", _selu),
    "Sigmoid": _act("Sigmoid"), "Tanh": _act("Tanh"), "Softplus": _act("Softplus"),
    "Gelu": _act("GELU", lambda a: {"approximate": a.get("approximate", "none")}),
    "Softmax": _softmax("Softmax"), "LogSoftmax": _softmax("LogSoftmax"),
    "Flatten": _flatten, "Reshape": _reshape, "Transpose": _transpose, "Squeeze": _squeeze, "Unsqueeze": _unsqueeze,
    "Concat": _merge("Concat"), "Add": _affine("Add"), "Sum": _merge("Add"), "Mul": _affine("Mul"),
    "Sub": _affine("Sub"), "Div": _affine("Div"),
    "Gather": _gather, "LSTM": _recurrent("LSTM"), "GRU": _recurrent("GRU"), "RNN": _recurrent("RNN"),
    "Identity": lambda b, n: [b.value(n.input[0])],
    **ops_modern.MAPPERS,
}

# Ops that only compute shapes or fill values around them (e.g. the zero initial state of an RNN).
SHAPE_OPS = frozenset({"Shape", "Size", "ConstantOfShape"})

__all__ = ["MAPPERS", "SHAPE_OPS", "Mapper"]


# ---- torch's exported modules (issue 12): Split, element-wise math, and the patterns torch's exporter
# spells nn.GLU, nn.Softmin and nn.Softsign as, each mapped to that one layer -------------------------
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


def _softmax_or_softmin(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    """``softmax(-x)`` is nn.Softmin; any other Softmax is one."""
    neg = b.made_by(n.input[0], "Neg", "Math")
    if neg is None:
        return _softmax("Softmax")(b, n)
    axis = int(node_attrs(n).get("axis", -1))
    if axis == 0 or axis == -len(b.shape(n.input[0])):
        raise OpProblem("Softmax across the batch dimension has no netbuilder layer")
    return [b.add("Softmin", n, {"dim": axis}, [b.drop(n.input[0])])]


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


TORCH_MODULE_MAPPERS: dict[str, Mapper] = {
    "Split": _split, "Slice": _slice, "Softmax": _softmax_or_softmin, "Reshape": _reshape_or_pixel_shuffle,
    "DepthToSpace": _depth_to_space,
    "Add": _arith("Add"), "Sub": _arith("Sub"), "Mul": _arith("Mul"), "Div": _arith("Div"), "Pow": _arith("Pow"),
    **{op: _unary(f) for op, f in (("Neg", "neg"), ("Abs", "abs"), ("Exp", "exp"), ("Log", "log"),
                                   ("Sqrt", "sqrt"), ("Reciprocal", "reciprocal"))},
}
MAPPERS.update(TORCH_MODULE_MAPPERS)
