"""Folding an ONNX model's constant subgraphs into initializers, with bounded memory and time.

The folding itself is onnxscript's (``onnxscript.optimizer.fold_constants``), which evaluates each
node with ``onnx.reference`` on the model in process: no session, no execution provider, node names
kept, and a ``should_fold`` hook, called before a node is evaluated. It was chosen over onnxruntime's
offline optimisation and over a home-made evaluator for those reasons: the evaluator is onnx's own
(so every op folds as the spec says), and the hook is where the bounds go. Only its folding pass
runs; its rewrite rules would fuse ops into patterns the importer does not map.

The hook (:class:`_Bounds`) decides from sizes alone, before anything is allocated:

* ops whose output size comes from their inputs' *values* (ConstantOfShape, Expand, Tile, Range,
  Pad, OneHot) have it computed from those values (a shape vector, a few repeats); the model zoo's
  "light" files compute every weight this way;
* any other op has it from ONNX shape inference (the folder infers each node first), or the product
  of its inputs' sizes when a shape is unknown; ops whose cost is not linear in their output
  (MatMul, Conv, ...) are folded only when the product of their inputs' sizes is small, which bounds
  their time too;
* each folded tensor holds at most :data:`MAX_FOLD_VALUES` values, and what folding adds to the
  model's weights (its stored tensors included) stays within
  :data:`~netbuilder.onnx.reader.MAX_WEIGHT_BYTES`.

A node over a bound is refused with an :class:`OnnxImportError` naming it, its op and the size, so
a ConstantOfShape of [100000, 100000, 100000] costs a multiplication, not 4 PB. Random ops are
never folded (onnxscript skips them), nor are quantize/dequantize ops (its default).
"""

from __future__ import annotations

import math

import numpy as np
import onnx
import onnx_ir as ir
import onnx_ir.passes.common as ir_passes
from onnxscript.optimizer import fold_constants

from netbuilder.errors import NetbuilderError
from netbuilder.onnx.held import HOLD_BYTES

MAX_FOLD_VALUES = 1 << 28  # per folded tensor (1 GiB of float32; VGG's largest weight is 103 M values)
FOLD_COMPUTE = 1 << 24  # product of the input sizes of an op whose cost is not linear in its output
VALUE_SIZED = frozenset({"ConstantOfShape", "Expand", "Tile", "Range", "Pad", "OneHot"})
NEVER_FOLDED = frozenset({"Resize", "Upsample", "RandomNormal", "RandomUniform", "RandomNormalLike",
                          "RandomUniformLike", "Multinomial", "Bernoulli"})
# Ops that touch each output value a bounded number of times (elementwise, layout, indexing).
LINEAR = frozenset({
    "Identity", "Cast", "CastLike", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Slice",
    "Split", "Gather", "GatherElements", "Shape", "Size", "Add", "Sub", "Mul", "Div", "Pow", "Neg", "Abs", "Sqrt",
    "Reciprocal", "Exp", "Log", "Relu", "Sigmoid", "Tanh", "Clip", "Min", "Max", "Sum", "Mean", "Equal", "Less",
    "Greater", "Not", "And", "Or", "Where", "Floor", "Ceil", "Round", "Sign", "Erf",
})


class _Refused(NetbuilderError):
    """Raised inside the folder and turned into an OnnxImportError by the caller (no import cycle)."""


def fold(model: onnx.ModelProto, arrays: dict[str, np.ndarray], stored_bytes: int,
         max_weight_bytes: int) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """The model with its constant subgraphs folded, and its large constants held apart again
    (:mod:`netbuilder.onnx.held`): the held weights ``arrays`` come in as graph inputs of the
    skeleton and are initializers while folding. Raises _Refused when a node asks for too much."""
    m = ir.from_proto(model)
    graph = m.graph
    for v in list(graph.inputs):
        if v.name in arrays:  # the array itself, not a copy
            graph.inputs.remove(v)
            v.const_value = ir.Tensor(arrays[v.name], name=v.name)
            graph.register_initializer(v)
    ir_passes.RemoveUnusedNodesPass()(m)  # fold only what some output needs
    bounds = _Bounds(max_weight_bytes - stored_bytes, max_weight_bytes)
    try:
        fold_constants(m, onnx_shape_inference=True, input_size_limit=MAX_FOLD_VALUES,
                       output_size_limit=MAX_FOLD_VALUES, should_fold=bounds)
    except _Refused:
        raise
    except Exception as exc:  # a bound refusal arrives wrapped when raised inside a partial evaluator
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, _Refused):
            raise cause from None
        return model, arrays  # folding is a convenience: unfolded weights are reported by their nodes
    ir_passes.RemoveUnusedNodesPass()(m)
    ir_passes.LiftConstantsToInitializersPass(lift_all_constants=True, size_limit=0)(m)
    out = {}
    for name, v in list(graph.initializers.items()):
        t = v.const_value
        if t is not None and t.size * _itemsize_of(t) > HOLD_BYTES and not v.is_graph_output():
            out[name] = t.numpy()
            graph.initializers.pop(name)
            v.const_value = None
            graph.inputs.append(v)
    return ir.to_proto(m), out


class _Bounds:
    """The should_fold hook: True to fold (within the bounds), False to leave, raises to refuse."""

    def __init__(self, budget: int, max_weight_bytes: int) -> None:
        self.left = budget
        self.max_weight_bytes = max_weight_bytes

    def __call__(self, node: ir.Node) -> bool | None:
        if node.op_type in NEVER_FOLDED or node.domain not in ("", "ai.onnx"):
            return False
        if node.op_type in ("QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"):
            return None  # onnxscript's default: kept
        ins = [v.const_value if v is not None else None for v in node.inputs]
        if node.op_type in VALUE_SIZED:
            shape = _value_sized_shape(node.op_type, node, ins)
            if shape is None:
                return False  # invalid or unreadable: left for the mapper to name
            sizes = [math.prod(shape)]
        else:
            product = math.prod(max(1, t.size) for t in ins if t is not None)
            if node.op_type not in LINEAR and product > FOLD_COMPUTE:
                raise _Refused(f"{_label(node)}: computing this constant would take "
                               f"{product:,} steps (the product of its inputs' sizes); netbuilder folds such ops up "
                               f"to {FOLD_COMPUTE:,}. Store the result as an initializer (e.g. with onnxscript's "
                               "optimizer) and import again")
            sizes = [_static_size(v) for v in node.outputs]
            sizes = [product if s is None else s for s in sizes]
        itemsize = max((_itemsize(v) for v in node.outputs), default=8)
        for size in sizes:
            if size > MAX_FOLD_VALUES:
                raise _Refused(f"{_label(node)}: its constant output would hold {size:,} values "
                               f"({_bytes(size * itemsize)}); netbuilder computes constants of up to "
                               f"{MAX_FOLD_VALUES:,} values each. Is the file damaged?")
        freed = sum(t.size * _itemsize_of(t) for v, t in zip(node.inputs, ins, strict=True)
                    if t is not None and v is not None and len(v.uses()) == 1 and not v.is_graph_output())
        grows = sum(sizes) * itemsize - freed
        if grows > self.left:
            raise _Refused(f"{_label(node)}: its constant output ({_bytes(sum(sizes) * itemsize)}) would take the "
                           f"model's weights, stored and computed, over {_bytes(self.max_weight_bytes)}, the most "
                           "netbuilder imports")
        self.left -= max(grows, 0)
        return True


def _value_sized_shape(op: str, node: ir.Node, ins: list) -> tuple[int, ...] | None:
    """The output shape of a value-sized op from its constant inputs (small vectors), or None."""
    def vec(k: int) -> np.ndarray | None:
        t = ins[k] if k < len(ins) else None
        if t is None or t.size > 64:
            return None
        return t.numpy().reshape(-1)

    in_shape = tuple(ins[0].shape.numpy()) if ins and ins[0] is not None else None
    try:
        if op == "ConstantOfShape":
            shape = vec(0)
            out = () if shape is None and ins[0] is not None and ins[0].size == 0 else shape
        elif op == "Expand":
            out = np.broadcast_shapes(in_shape, tuple(int(d) for d in vec(1)))
        elif op == "Tile":
            out = tuple(d * int(r) for d, r in zip(in_shape, vec(1), strict=True))
        elif op == "Range":
            start, limit, delta = (float(vec(k)[0]) for k in range(3))
            out = (max(math.ceil((limit - start) / delta), 0),) if delta else None
        elif op == "Pad":
            pads = vec(1)
            rank = len(in_shape)
            axes = vec(3) if len(ins) > 3 and ins[3] is not None else np.arange(rank)
            out = list(in_shape)
            for k, a in enumerate(axes):
                out[int(a)] += int(pads[k]) + int(pads[k + len(axes)])
        elif op == "OneHot":
            out = (*in_shape, int(vec(1)[0]))
        else:
            return None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if out is None:
        return None
    out = tuple(int(d) for d in out)
    return out if all(d >= 0 for d in out) else None


def _static_size(v: ir.Value | None) -> int | None:
    if v is None or v.shape is None or not v.shape.is_static():
        return None
    return math.prod(int(d) for d in v.shape.numpy())


def _itemsize(v: ir.Value | None) -> int:
    dtype = v.dtype if v is not None else None
    return max(1, math.ceil(dtype.itemsize)) if dtype is not None else 8


def _itemsize_of(t) -> int:
    return max(1, math.ceil(t.dtype.itemsize))


def _bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return ""


def _label(node: ir.Node) -> str:
    name = node.name or (node.outputs[0].name if node.outputs else "")
    return f"{node.op_type} node '{name}'"
