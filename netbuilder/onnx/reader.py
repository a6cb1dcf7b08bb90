"""Reading an ONNX file for import, with bounded memory, and preparing it for mapping.

Declared tensor sizes are checked against the bytes that hold them before anything is
allocated; weights in external data files are read from the model's own folder only
(:mod:`netbuilder.onnx.external`); loops and dangling names are refused; old opsets are lifted
with ``onnx.version_converter``; constant subgraphs are folded with onnxscript's optimizer
within size bounds (:mod:`netbuilder.onnx.folding`). Split from :mod:`netbuilder.onnx.importer`,
which maps the prepared model to layers.
"""

from __future__ import annotations

import heapq
import math
from pathlib import Path

import numpy as np
import onnx
from onnx import version_converter

from netbuilder.errors import NetbuilderError
from netbuilder.layers.spec import MAX_SIZE
from netbuilder.onnx import external, folding, held

MAX_FILE_BYTES = 2**31 - 1  # protobuf's own limit for one message
# A drawn network of more layers than this cannot be edited, and importing one costs about 1.2 s and
# 12 MB per thousand nodes (a 30,000-node chain: 37 s, 355 MB), so a larger graph is refused up front.
MAX_NODES = 20_000
TARGET_OPSET = 17  # older models are lifted to this; newer ones are read as they are
# All the weights of one model, stored inside, in external files or computed by folding: every
# tool on the way (checker, version converter, shape inference) takes the model as one protobuf
# message, which holds under 2 GiB; the rest is left for the graph itself.
MAX_WEIGHT_BYTES = 2**31 - 2**27
FILL_KEEPS = frozenset({"Slice", "Squeeze", "Unsqueeze", "Reshape", "Expand", "Transpose", "Identity", "Cast",
                         "Tile", "Gather"})
DTYPES = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.INT64: "int64"}


class OnnxImportError(NetbuilderError):
    """An ONNX file could not be imported; the message names the file, the node and the reason."""



# ---- reading and preparing --------------------------------------------------------------
def read_model(path: Path, file: str) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """The model as a skeleton (:mod:`netbuilder.onnx.held`) and its large weights, held apart by name."""
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise OnnxImportError(f"{file}: this is a folder, not an ONNX file")
        if size > MAX_FILE_BYTES:
            raise OnnxImportError(f"{file}: the file is {size / 2**30:.1f} GiB; netbuilder reads ONNX files up to "
                                  "2 GiB with their weights inside")
        skeleton, spans = held.read_skeleton(path)
    except FileNotFoundError:
        raise OnnxImportError(f"{file}: no such file; check the path") from None
    except held.WireError as exc:
        raise OnnxImportError(f"{file}: not an ONNX model; the file cannot be decoded ({exc}). Is it truncated "
                              "or another format?") from None
    except OSError as exc:
        raise OnnxImportError(f"{file}: cannot read the file ({exc.strerror or exc})") from None
    try:
        model = onnx.load_model_from_string(skeleton)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise OnnxImportError(f"{file}: not an ONNX model; the file cannot be decoded ({exc}). Is it truncated "
                              "or another format?") from None
    del skeleton
    if not model.graph.node or not model.opset_import:
        raise OnnxImportError(f"{file}: not an ONNX model (no graph nodes or no opset); is it truncated or "
                              "another format?")
    inits = model.graph.initializer
    plan = [(inits[k], path, offset, length) for k, (offset, length) in sorted(spans.items())]
    for t, _, _, length in plan:
        if any(d < 0 for d in t.dims):
            raise OnnxImportError(f"{file}: tensor '{t.name}' has a negative dimension {list(t.dims)}")
        if (declared := held.declared_bytes(t)) != length:
            raise OnnxImportError(f"{file}: tensor '{t.name}' declares shape {list(t.dims)} ({declared:,} bytes) but "
                                  f"holds {length:,} bytes; the file is damaged")
    plan += _plan_external(model, path.parent, file)
    if (total := sum(p[3] for p in plan)) > MAX_WEIGHT_BYTES:  # the weights inside are bounded by the file
        raise OnnxImportError(f"{file}: the weights take {total / 2**30:.2f} GiB; netbuilder imports models with up "
                              f"to {MAX_WEIGHT_BYTES / 2**30:.2f} GiB of weights")
    arrays = {}
    try:
        for t, source, offset, length in plan:
            arrays[t.name] = held.read_array(source, t, offset, length)
    except OSError as exc:
        raise OnnxImportError(f"{file}: cannot read the weights of tensor '{t.name}' from {source.name} "
                              f"({exc.strerror or exc})") from None
    _hold(model, [p[0] for p in plan])
    _check_structure(model, file, set(arrays))
    return model, arrays


def _plan_external(model: onnx.ModelProto, folder: Path, file: str) -> list[tuple]:
    """Where each weight kept in an external data file lies, from the model's own folder only; every
    location and size is checked before a byte is read."""
    try:
        return [(t, *external.planned_bytes(t, folder)) for t in external.external_tensors(model)]
    except external.ExternalDataProblem as exc:
        raise OnnxImportError(f"{file}: {exc}") from None


def _hold(model: onnx.ModelProto, tensors: list[onnx.TensorProto]) -> None:
    """Held tensors leave the model's initializers and stand as graph inputs of their
    type and shape, which every onnx tool reads for shapes; the folder gets their values back."""
    if not tensors:
        return
    g = model.graph
    names = {t.name: held.as_input(t) for t in tensors}
    keep = [onnx.TensorProto.FromString(t.SerializeToString()) for t in g.initializer if t.name not in names]
    del g.initializer[:]
    g.initializer.extend(keep)
    inputs = [names.pop(vi.name, None) or vi for vi in g.input]
    del g.input[:]
    g.input.extend([*inputs, *names.values()])


def _stored_bytes(t: onnx.TensorProto) -> int:
    """The bytes a stored tensor declares (its shape times its item size); allocates nothing."""
    try:
        itemsize = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(t.data_type)).itemsize
    except Exception:
        itemsize = 8
    return math.prod(max(d, 0) for d in t.dims) * itemsize


def _tensor_problem(t: onnx.TensorProto) -> str | None:
    """Why a stored tensor cannot be read safely, or None; allocates nothing."""
    if t.data_location == onnx.TensorProto.EXTERNAL:  # initializers were read by read_model; a Constant's not
        return ("is a Constant's value stored in an external file, which netbuilder does not read; store it as "
                "an initializer (onnx.save(..., save_as_external_data=True) does) and import again")
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


def _check_structure(model: onnx.ModelProto, file: str, weights: set[str] = frozenset()) -> None:
    """Refuse dangling names, loops and oversized tensors before any tool reads the model."""
    g = model.graph
    if len(g.node) > MAX_NODES:
        raise OnnxImportError(f"{file}: the graph has {len(g.node):,} nodes; netbuilder imports graphs of up to "
                              f"{MAX_NODES:,} nodes, as a network it can draw: export a smaller part of the model "
                              "(a block, an encoder) and import that")
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
        if vi.name in weights:  # a held weight standing as an input: its size was checked against its bytes
            continue
        for d in vi.type.tensor_type.shape.dim:
            if d.HasField("dim_value") and not 0 <= d.dim_value <= MAX_SIZE:
                raise OnnxImportError(f"{file}: input '{vi.name}' has a dimension of {d.dim_value:,}; netbuilder "
                                      f"takes sizes up to {MAX_SIZE:,}")


def opset_of(model: onnx.ModelProto) -> int:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def prepare(model: onnx.ModelProto, file: str,
            arrays: dict[str, np.ndarray] | None = None) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """Check, lift, fold and infer shapes; the prepared model (its held weights no longer listed as
    inputs) and the held weights by name, which the importer takes as the weights' values."""
    arrays = arrays or {}
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
    # Before the strict check: at IR 3 the converter's new initializers (Pad's pads, ...) are not inputs.
    _constant_inputs(model)
    try:
        onnx.checker.check_model(model, full_check=True)  # types and shapes, strictly
    except Exception as exc:
        raise OnnxImportError(f"{file}: the model's types or shapes do not check out: {_first_line(exc)}") from None
    model, arrays = _fold(model, arrays, file)
    try:
        model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    except Exception as exc:
        raise OnnxImportError(f"{file}: shape inference failed: {_first_line(exc)}") from None
    g = model.graph
    inputs = [onnx.ValueInfoProto.FromString(vi.SerializeToString()) for vi in g.input]
    del g.input[:]
    g.input.extend(vi for vi in inputs if vi.name not in arrays)
    g.value_info.extend(vi for vi in inputs if vi.name in arrays)  # the weights' shapes stay known
    return model, arrays


def _fold(model: onnx.ModelProto, arrays: dict[str, np.ndarray],
          file: str) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """Fold weight and shape subgraphs into initializers, within the bounds of
    :mod:`netbuilder.onnx.folding`; a node over them is refused, naming it."""
    stored = sum(_stored_bytes(t) for t in model.graph.initializer) + sum(a.nbytes for a in arrays.values())
    try:
        return folding.fold(model, arrays, stored, MAX_WEIGHT_BYTES)
    except folding._Refused as exc:
        raise OnnxImportError(f"{file}: {exc}") from None


def _constant_inputs(model: onnx.ModelProto) -> None:
    """Graph inputs that have an initializer become constants: IR 3 required every initializer to be
    listed as an input too (the model zoo's files do), and the importer reads them as weights anyway."""
    g = model.graph
    inits = {t.name for t in g.initializer}
    if any(vi.name in inits for vi in g.input):
        keep = [onnx.ValueInfoProto.FromString(vi.SerializeToString()) for vi in g.input if vi.name not in inits]
        del g.input[:]
        g.input.extend(keep)
    model.ir_version = max(model.ir_version, 4)  # IR 4 lets an initializer stand without an input


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = next((s for s in text if s.strip()), type(exc).__name__)
    return line[:400]


def label_of(n: onnx.NodeProto) -> str:
    return f"{n.op_type} node '{n.name or n.output[0]}'"


def dims_of(vi: onnx.ValueInfoProto) -> tuple[int | None, ...]:
    return tuple(d.dim_value if d.HasField("dim_value") else None for d in vi.type.tensor_type.shape.dim)
