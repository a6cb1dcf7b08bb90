"""Import an ONNX model as an editable project of catalog layers, with its weights.

The steps: read the file with bounded memory (declared tensor sizes are checked against the
bytes that hold them before anything is allocated; large weights are held apart from the
message, :mod:`netbuilder.onnx.held`; external data comes from the model's folder only),
refuse loops and dangling names with a clear message, lift old opsets with
``onnx.version_converter``, check the model with ``onnx.checker``, fold constant subgraphs
with onnxscript's optimizer within size bounds, infer shapes with ``onnx.shape_inference``,
then walk the nodes, handing each to its mapper in :mod:`netbuilder.onnx.ops`, which adds
layers through a :class:`~netbuilder.onnx.layer_maker.LayerMaker`. The result is
shape-checked and compiled once, so an import never hands back a graph that would not run.
docs/onnx-import.md lists what maps to what.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from netbuilder.analysis.shape_inference import infer_shapes
from netbuilder.build.compile import build_module
from netbuilder.errors import EditRefused
from netbuilder.files.project import Project
from netbuilder.model.graph import Edge
from netbuilder.model.layout import columns_for, layered_positions
from netbuilder.onnx import ops_attention, ops_modern
from netbuilder.onnx.layer_maker import LayerMaker
from netbuilder.onnx.ops import MAPPERS, SHAPE_OPS
from netbuilder.onnx.reader import (
    DTYPES,
    FILL_KEEPS,
    MAX_FILE_BYTES,
    OnnxImportError,
    dims_of,
    label_of,
    opset_of,
    prepare,
    read_model,
)
from netbuilder.onnx.values import Fill, Opaque, OpProblem, Port, Skip, Unknown, Value


def import_onnx_project(path: str | Path, out: str | Path) -> tuple[Project, Path]:
    """Import ``path`` and write the editable project to ``out`` with its weights beside it
    (:func:`netbuilder.files.weights.weights_beside`); the project and the weights file. The weights are
    written first, so a project file never stands without them."""
    from netbuilder.files.atomic import check_writable
    from netbuilder.files.weights import save_weights, weights_beside

    out = Path(out)
    check_writable(out)  # a missing folder is named before the work, and nothing is written
    check_writable(weights_beside(out))
    project, weights = import_onnx(path, out.stem)
    module = build_module(project.graph)
    module.load_state_dict(weights)
    weights_path = save_weights(module, weights_beside(out), {"source": Path(path).name})
    project.save(out)
    return project, weights_path


def import_onnx(path: str | Path, name: str | None = None) -> tuple[Project, dict[str, torch.Tensor]]:
    """Read an ONNX model as a project of catalog layers, plus its weights.

    Parameters
    ----------
    path:
        The ``.onnx`` file; weights in external data files are read from its own folder only.
    name:
        The project's name; the file's stem when None.

    Returns
    -------
    The project, and a state dict that ``build_module(project.graph).load_state_dict`` takes as is.

    Raises
    ------
    OnnxImportError
        For anything that cannot be read or has no faithful netbuilder equal; one message lists
        every unsupported operator with its count. Nothing is written either way.
    """
    file = str(path)
    skeleton, arrays = read_model(Path(path), file)
    model, held = prepare(skeleton, file, arrays)
    del skeleton, arrays
    maker = LayerMaker(model, file)
    maker.values.update(held)  # the large weights, held apart from the message (netbuilder.onnx.held)
    del held
    _walk(maker)
    ops_attention.fuse_encoder_layers(maker)
    # Left to right by depth, wrapped into bands so that the whole reads like a page (see columns_for).
    for node_id, position in layered_positions(maker.graph, columns_for(maker.graph)).items():
        maker.graph.move(node_id, position)
    _verify(maker, file)
    producer = f"{model.producer_name} {model.producer_version}".strip() or "an unknown tool"
    description = f"Imported from {Path(path).name} (made by {producer}, opset {opset_of(model)})."
    return Project(maker.graph, name or Path(path).stem, description), maker.weights


# ---- the walk ----------------------------------------------------------------------------------
def _walk(b: LayerMaker) -> None:
    """Map every live node in order, then add the Outputs; OnnxImportError lists every problem."""
    g = b.model.graph
    inits = {t.name for t in g.initializer}
    for vi in g.input:
        if vi.name not in inits:
            b.values[vi.name] = _input(b, vi)
    live = _live(b.model)
    for k, n in enumerate(g.node):
        if k in live:
            claimed = n.output and all(o in b.claimed for o in n.output if o)  # in a pattern mapped whole
            outs = [b.claimed.get(o) for o in n.output] if claimed else _map(b, n)
            for name, v in zip(n.output, outs, strict=False):
                b.values[name] = v
            for name in n.output[len(outs):]:
                b.values[name] = Unknown()
    for node_id, mode in b.rnn_modes.items():
        b.graph.set_params(node_id, {"output": mode})
    for o in g.output:
        try:
            src = b.resolve(b.values[o.name])
            out = b.graph.add_node(b.graph.make_node("Output", b.node_name(o.name, "", "Output")))
            b.graph.connect(Edge(src.node, src.port, out.id, "in"), check_cycle=False)
            b.outputs[o.name] = out.id
        except (OpProblem, EditRefused) as exc:
            b.problems.append(f"graph output '{o.name}': {exc}")
        except Skip:
            pass
    if b.unsupported or b.problems:
        lines = []
        if b.unsupported:
            ops = ", ".join(f"{op} ({k})" for op, k in sorted(b.unsupported.items()))
            lines.append(f"{sum(b.unsupported.values())} node(s) use operators netbuilder has no layer "
                         f"for: {ops}")
        lines += b.problems[:30]
        if len(b.problems) > 30:
            lines.append(f"... and {len(b.problems) - 30} more problems")
        raise OnnxImportError(f"{b.file}: cannot import this model:\n" + "\n".join(f"  - {s}" for s in lines))


def _input(b: LayerMaker, vi: onnx.ValueInfoProto) -> Value:
    dims, elem = dims_of(vi), vi.type.tensor_type.elem_type
    problem = None
    if elem not in DTYPES:
        kind = onnx.helper.tensor_dtype_to_np_dtype(elem).name if elem else "not a tensor"
        problem = f"is {kind}; netbuilder inputs are float32 or int64"
    elif len(dims) < 2 or any(d is None for d in dims[1:]):
        problem = (f"has shape {['?' if d is None else d for d in dims]}; netbuilder needs a batch dimension "
                   "first and known sizes after it")
    else:
        try:
            node = b.graph.make_node("Input", b.node_name(vi.name, "", "Input"),
                                     {"shape": list(dims[1:]), "dtype": DTYPES[elem]})
            return Port(b.graph.add_node(node).id)
        except EditRefused as exc:
            problem = str(exc)
    b.problems.append(f"graph input '{vi.name}' {problem}")
    return Unknown()


def _live(model: onnx.ModelProto) -> set[int]:
    """The indices of the nodes some graph output depends on."""
    nodes = model.graph.node
    producer = {o: k for k, n in enumerate(nodes) for o in n.output if o}
    stack = [producer[o.name] for o in model.graph.output if o.name in producer]
    live: set[int] = set()
    while stack:
        k = stack.pop()
        if k not in live:
            live.add(k)
            stack.extend(producer[i] for i in nodes[k].input if i in producer)
    return live


def _map(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    ins = [b.values[i] for i in n.input if i]
    data = [v for v in ins if not isinstance(v, np.ndarray)]
    if n.domain not in ("", "ai.onnx"):
        b.unsupported[f"{n.domain}.{n.op_type}"] += 1
        return []
    if n.op_type == "ConstantOfShape":
        value = next((numpy_helper.to_array(a.t) for a in n.attribute if a.name == "value"), np.zeros(1))
        return [Fill(float(value.reshape(-1)[0]))]
    if (n.op_type == "Expand" and isinstance(ins[0], np.ndarray) and ins[0].size == 1 and data
            and all(isinstance(v, (Fill, Opaque)) for v in data)):
        return [Fill(float(ins[0].reshape(-1)[0]))]  # a value broadcast to a computed shape (dynamo's zeros)
    if n.op_type in SHAPE_OPS or (data and all(isinstance(v, (Fill, Opaque)) for v in data)):
        keep = n.op_type in FILL_KEEPS and isinstance(ins[0], Fill)
        return [ins[0] if keep else Opaque()] * len(n.output)
    if not data:  # constants only, yet not folded (too large, or the folder gave up)
        b.problems.append(f"{label_of(n)}: computes a constant that could not be folded when importing")
        return []
    pattern = ops_modern.PATTERNS.get(n.op_type)  # a pattern starting here (GELU's Div), tried first
    if n.op_type not in MAPPERS and pattern is None:
        b.unsupported[n.op_type] += 1
        return []
    if any(isinstance(v, Unknown) for v in data):
        return []
    try:
        matched = pattern(b, n) if pattern is not None else None
        if matched is not None:
            return matched
        if n.op_type not in MAPPERS:
            b.unsupported[n.op_type] += 1
            return []
        return MAPPERS[n.op_type](b, n)
    except OpProblem as exc:
        b.problems.append(f"{label_of(n)}: {exc}")
    except Skip:
        pass
    return []


# ---- after mapping ---------------------------------------------------------------------------
def _verify(maker: LayerMaker, file: str) -> None:
    """Shape-check, compare output shapes with ONNX's, and check the weights fit the compiled module."""
    graph = maker.graph
    inference = infer_shapes(graph)
    errors = inference.errors
    if errors:
        lines = "\n".join(f"  - {p.message}" for p in errors[:30])
        raise OnnxImportError(f"{file}: the imported graph does not check out ({len(errors)} problem(s)):\n{lines}")
    for name, node_id in maker.outputs.items():
        got = inference.info(node_id).inputs["in"].shape
        want = maker.shapes.get(name, ())[1:]
        if len(got) != len(want) or any(w is not None and w != d for w, d in zip(want, got, strict=False)):
            raise OnnxImportError(f"{file}: output '{name}' would have shape [N, {', '.join(map(str, got))}] but "
                                  f"the ONNX model gives {['?' if w is None else w for w in want]} per sample; "
                                  "this model uses a pattern the importer gets wrong (please report it)")
    with torch.device("meta"):  # names and shapes only: no memory for the weights, no random init
        own = build_module(graph, inference).state_dict()
    problems = [f"'{k}' is missing" for k in own if k not in maker.weights]
    problems += [f"'{k}' has shape {list(maker.weights[k].shape)} but the layer takes {list(v.shape)}"
                 for k, v in own.items() if k in maker.weights and maker.weights[k].shape != v.shape]
    problems += [f"'{k}' belongs to no layer" for k in maker.weights if k not in own]
    if problems:
        raise OnnxImportError(f"{file}: the weights do not fit the imported layers: " + "; ".join(problems[:10]))


__all__ = ["MAX_FILE_BYTES", "OnnxImportError", "import_onnx"]
