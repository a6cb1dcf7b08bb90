"""Reading an ONNX file for import, with bounded memory, and preparing it for mapping.

Declared tensor sizes are checked against the bytes that hold them before anything is
allocated; loops and dangling names are refused; old opsets are lifted with
``onnx.version_converter``; constant subgraphs are folded with onnxscript's optimizer.
Split from :mod:`netbuilder.onnx.importer`, which maps the prepared model to layers.
"""

from __future__ import annotations

import heapq
import math
from pathlib import Path

import numpy as np
import onnx
import onnx_ir as ir
import onnx_ir.passes.common as ir_passes
from onnx import version_converter
from onnxscript.optimizer import fold_constants

from netbuilder.errors import NetbuilderError
from netbuilder.layers.spec import MAX_SIZE

MAX_FILE_BYTES = 2**31 - 1  # protobuf's own limit for one message
MAX_NODES = 200_000
TARGET_OPSET = 17  # older models are lifted to this; newer ones are read as they are
FOLD_LIMIT = 1 << 24  # values; folding never makes a tensor larger than this
# Ops whose output size comes from their input *values*, so a tiny hostile constant could ask
# for terabytes; they are never folded (a ConstantOfShape stays and is read as a Fill).
_VALUE_SIZED = frozenset({"ConstantOfShape", "Expand", "Tile", "Range", "Resize", "Upsample", "Pad", "OneHot",
                          "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial"})
FILL_KEEPS = frozenset({"Slice", "Squeeze", "Unsqueeze", "Reshape", "Expand", "Transpose", "Identity", "Cast",
                         "Tile", "Gather"})
DTYPES = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.INT64: "int64"}


class OnnxImportError(NetbuilderError):
    """An ONNX file could not be imported; the message names the file, the node and the reason."""



# ---- reading and preparing --------------------------------------------------------------
def read_model(path: Path, file: str) -> onnx.ModelProto:
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise OnnxImportError(f"{file}: this is a folder, not an ONNX file")
        if size > MAX_FILE_BYTES:
            raise OnnxImportError(f"{file}: the file is {size / 2**30:.1f} GiB; netbuilder reads ONNX files up to "
                                  "2 GiB with their weights inside")
        data = path.read_bytes()
    except FileNotFoundError:
        raise OnnxImportError(f"{file}: no such file; check the path") from None
    except OSError as exc:
        raise OnnxImportError(f"{file}: cannot read the file ({exc.strerror or exc})") from None
    try:
        model = onnx.load_model_from_string(data)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise OnnxImportError(f"{file}: not an ONNX model; the file cannot be decoded ({exc}). Is it truncated "
                              "or another format?") from None
    if not model.graph.node or not model.opset_import:
        raise OnnxImportError(f"{file}: not an ONNX model (no graph nodes or no opset); is it truncated or "
                              "another format?")
    _check_structure(model, file)
    return model


def _tensor_problem(t: onnx.TensorProto) -> str | None:
    """Why a stored tensor cannot be read safely, or None; allocates nothing."""
    if t.data_location == onnx.TensorProto.EXTERNAL:
        return "is stored in an external file; save the model with its weights inside the .onnx file"
    if any(d < 0 for d in t.dims):
        return f"has a negative dimension {list(t.dims)}"
    try:
        itemsize = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(t.data_type)).itemsize
        field = onnx.helper.tensor_dtype_to_field(t.data_type)
    except Exception:
        return f"has data type {t.data_type}, which netbuilder cannot read"
    declared = math.prod(t.dims)
    held = len(t.raw_data) / itemsize if t.raw_data else len(getattr(t, field))
    if t.data_type in (onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16) and not t.raw_data:
        held = len(t.int32_data)
    if held != declared:
        return f"declares shape {list(t.dims)} ({declared:,} values) but holds {held:,.0f}; the file is damaged"
    return None


def _check_structure(model: onnx.ModelProto, file: str) -> None:
    """Refuse dangling names, loops and oversized tensors before any tool reads the model."""
    g = model.graph
    if len(g.node) > MAX_NODES:
        raise OnnxImportError(f"{file}: {len(g.node):,} nodes; netbuilder imports up to {MAX_NODES:,}")
    if g.sparse_initializer:
        raise OnnxImportError(f"{file}: sparse initializers are not supported")
    tensors = [*g.initializer, *(a.t for n in g.node for a in n.attribute if a.type == onnx.AttributeProto.TENSOR)]
    for t in tensors:
        if problem := _tensor_problem(t):
            raise OnnxImportError(f"{file}: tensor '{t.name}' {problem}")
    provided = {i.name for i in g.input} | {t.name for t in g.initializer} | {o for n in g.node for o in n.output}
    for n in g.node:
        for i in n.input:
            if i and i not in provided:
                raise OnnxImportError(f"{file}: {label_of(n)} reads '{i}', which no initializer, graph input or node "
                                      "provides (a missing initializer?)")
    for o in g.output:
        if o.name not in provided:
            raise OnnxImportError(f"{file}: the graph output '{o.name}' is computed by no node")
    # Kahn's sort: what is left over sits on a loop. The nodes are put in order on the way,
    # since some tools write an acyclic graph out of order and the checker refuses that.
    producer = {o: k for k, n in enumerate(g.node) for o in n.output if o}
    needs = [{producer[i] for i in n.input if i in producer} for n in g.node]
    users: list[list[int]] = [[] for _ in g.node]
    for k, srcs in enumerate(needs):
        for s in srcs:
            users[s].append(k)
    left = [len(s) for s in needs]
    ready = [k for k, c in enumerate(left) if c == 0]  # a heap, so the file's own order is kept
    order: list[int] = []
    while ready:
        k = heapq.heappop(ready)
        order.append(k)
        for u in users[k]:
            left[u] -= 1
            if left[u] == 0:
                heapq.heappush(ready, u)
    if len(order) < len(g.node):
        loop = [label_of(g.node[k]) for k, c in enumerate(left) if c > 0]
        raise OnnxImportError(f"{file}: the graph has a loop through {', '.join(loop[:5])}"
                              f"{' and more' if len(loop) > 5 else ''}; ONNX graphs must flow one way")
    if order != sorted(order):
        nodes = [onnx.NodeProto.FromString(g.node[k].SerializeToString()) for k in sorted(order, key=order.index)]
        del g.node[:]
        g.node.extend(nodes)
    for vi in g.input:
        for d in vi.type.tensor_type.shape.dim:
            if d.HasField("dim_value") and not 0 <= d.dim_value <= MAX_SIZE:
                raise OnnxImportError(f"{file}: input '{vi.name}' has a dimension of {d.dim_value:,}; netbuilder "
                                      f"takes sizes up to {MAX_SIZE:,}")


def opset_of(model: onnx.ModelProto) -> int:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def prepare(model: onnx.ModelProto, file: str) -> onnx.ModelProto:
    opset = opset_of(model)
    if not opset:
        raise OnnxImportError(f"{file}: the model imports no standard ONNX opset")
    try:
        onnx.checker.check_model(model)
    except Exception as exc:
        raise OnnxImportError(f"{file}: not a valid ONNX model: {_first_line(exc)}") from None
    if model.ir_version < 4:
        # Before IR 4 every initializer is also listed as a graph input, by rule rather than to be
        # fed: they are the weights. Dropped from the inputs they are constants (so a Transpose of a
        # weight folds), and the IR lifted to 4, which lets the opset lifting below add initializers
        # (Pad's pads, Split's sizes) without listing them as inputs too.
        weights = {t.name for t in model.graph.initializer}
        inputs = [vi for vi in model.graph.input if vi.name not in weights]
        del model.graph.input[:]
        model.graph.input.extend(inputs)
        model.ir_version = 4
    if opset < TARGET_OPSET:
        try:
            model = version_converter.convert_version(model, TARGET_OPSET)
        except Exception as exc:
            raise OnnxImportError(f"{file}: cannot lift opset {opset} to {TARGET_OPSET}: {_first_line(exc)}") from None
    try:
        onnx.checker.check_model(model, full_check=True)  # types and shapes, strictly
    except Exception as exc:
        raise OnnxImportError(f"{file}: the model's types or shapes do not check out: {_first_line(exc)}") from None
    model = _fold(model)
    try:
        return onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    except Exception as exc:
        raise OnnxImportError(f"{file}: shape inference failed: {_first_line(exc)}") from None


def _should_fold(node: ir.Node) -> bool | None:
    if node.op_type in _VALUE_SIZED:
        return False
    # A bound on any output's size: a broadcast, Gather or MatMul cannot exceed the product
    # of its inputs' sizes, and Concat not their sum; check it before anything is computed.
    sizes = [max(1, v.const_value.size) for v in node.inputs if v is not None and v.const_value is not None]
    return None if math.prod(sizes) <= FOLD_LIMIT or len(sizes) == 1 else False


def _fold(model: onnx.ModelProto) -> onnx.ModelProto:
    """Fold weight and shape subgraphs into initializers.

    onnxscript's optimizer is used rather than onnxruntime's: it runs in process on the model
    itself (no session, no execution provider), keeps node names, skips ConstantOfShape by
    design, and takes a should_fold hook, which is where the size bound above goes. Only its
    folding pass runs: its rewrite rules would fuse ops into patterns we do not map.
    """
    try:
        m = ir.from_proto(model)
        fold_constants(m, onnx_shape_inference=True, input_size_limit=FOLD_LIMIT, output_size_limit=FOLD_LIMIT,
                       should_fold=_should_fold)
        ir_passes.RemoveUnusedNodesPass()(m)
        ir_passes.LiftConstantsToInitializersPass(lift_all_constants=True, size_limit=0)(m)
        return ir.to_proto(m)
    except Exception:  # folding is a convenience: unfolded weights are reported by their nodes
        return model


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = next((s for s in text if s.strip()), type(exc).__name__)
    return line[:400]


def label_of(n: onnx.NodeProto) -> str:
    return f"{n.op_type} node '{n.name or n.output[0]}'"


def dims_of(vi: onnx.ValueInfoProto) -> tuple[int | None, ...]:
    return tuple(d.dim_value if d.HasField("dim_value") else None for d in vi.type.tensor_type.shape.dim)
