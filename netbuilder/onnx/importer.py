"""Import an ONNX model as an editable project of catalog layers, with its weights.

The steps: read the file with bounded memory (declared tensor sizes are checked against the
bytes that hold them before anything is allocated), refuse loops and dangling names with a
clear message, lift old opsets with ``onnx.version_converter``, check the model with
``onnx.checker``, fold constant subgraphs with onnxscript's optimizer, infer shapes with
``onnx.shape_inference``, then map each node with :mod:`netbuilder.onnx.ops`. The result is
shape-checked and compiled once, so an import never hands back a graph that would not run.
docs/onnx-import.md lists what maps to what.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from netbuilder.analysis.shape_inference import infer_shapes
from netbuilder.build.compile import build_module
from netbuilder.errors import EditRefused
from netbuilder.files.project import Project
from netbuilder.layers import CATALOG
from netbuilder.model.graph import Edge, Graph, name_problem
from netbuilder.model.layout import layered_positions
from netbuilder.onnx.ops import MAPPERS, SHAPE_OPS, Fill, Opaque, OpProblem, Port, RnnOut, Skip, TimeMajor, Unknown
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


def import_onnx_project(path: str | Path, out: str | Path) -> tuple[Project, Path]:
    """Import ``path`` and write the editable project to ``out`` with its weights beside it
    (:func:`netbuilder.files.weights.weights_beside`); the project and the weights file. The weights are
    written first, so a project file never stands without them."""
    from netbuilder.build.compile import build_module
    from netbuilder.files.weights import save_weights, weights_beside

    out = Path(out)
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
        The ``.onnx`` file (weights inside it, not in external files).
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
    model = prepare(read_model(Path(path), file), file)
    maker = LayerMaker(model, file)
    maker.build()
    for node_id, position in layered_positions(maker.graph).items():  # left to right by depth
        maker.graph.move(node_id, position)
    _verify(maker, file)
    producer = f"{model.producer_name} {model.producer_version}".strip() or "an unknown tool"
    description = f"Imported from {Path(path).name} (made by {producer}, opset {opset_of(model)})."
    return Project(maker.graph, name or Path(path).stem, description), maker.weights


# ---- mapping --------------------------------------------------------------------------------
class LayerMaker:
    """Builds the graph and the weights while :mod:`netbuilder.onnx.ops` mappers run.

    Parameters
    ----------
    model:
        A prepared model: checked, folded, shapes inferred.
    file:
        The file name, for messages.
    """

    def __init__(self, model: onnx.ModelProto, file: str) -> None:
        self.model, self.file = model, file
        self.graph = Graph()
        self.weights: dict[str, torch.Tensor] = {}
        g = model.graph
        self.values: dict[str, Any] = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        infos = [*g.input, *g.value_info, *g.output]
        self.shapes = {vi.name: dims_of(vi) for vi in infos if vi.type.HasField("tensor_type")}
        self.elem = {vi.name: vi.type.tensor_type.elem_type for vi in infos}
        self.users = Counter(i for n in g.node for i in n.input) + Counter(o.name for o in g.output)
        self.biasable: dict[str, str] = {}  # ONNX value -> id of the bias-less layer making it
        self.rnn_modes: dict[str, str] = {}
        self.outputs: dict[str, str] = {}  # ONNX output name -> Output node id
        self.unsupported: Counter[str] = Counter()
        self.problems: list[str] = []

    # ---- for mappers -------------------------------------------------------------------
    def value(self, name: str) -> Any:
        return self.values[name]

    def has(self, n: onnx.NodeProto, k: int) -> bool:
        return len(n.input) > k and bool(n.input[k])

    def is_const(self, n: onnx.NodeProto, k: int) -> bool:
        return self.has(n, k) and isinstance(self.values[n.input[k]], np.ndarray)

    def const(self, n: onnx.NodeProto, k: int, what: str) -> np.ndarray:
        if not self.has(n, k):
            raise OpProblem(f"its input {what} is missing")
        v = self.values[n.input[k]]
        if not isinstance(v, np.ndarray):
            raise OpProblem(f"its input {what} ('{n.input[k]}') is computed at run time; netbuilder needs a "
                            "constant (an initializer) there")
        return v

    def port(self, n: onnx.NodeProto, k: int) -> Port:
        if not self.has(n, k):
            raise OpProblem(f"its input {k + 1} is missing")
        if isinstance(self.values[n.input[k]], np.ndarray):
            raise OpProblem(f"its input '{n.input[k]}' is a constant where netbuilder expects a computed tensor")
        return self.resolve(self.values[n.input[k]])

    def resolve(self, v: Any, *_: Any) -> Port:
        """The wire a value stands for, or an OpProblem saying why it has none."""
        if isinstance(v, Port):
            return v
        if isinstance(v, Unknown):
            raise Skip
        if isinstance(v, RnnOut) and v.which == "seq":
            return self.rnn_use(v.node, "sequence")
        if isinstance(v, (Fill, Opaque)):
            raise OpProblem("it uses a tensor computed from shapes at run time, which netbuilder has no layer for")
        if isinstance(v, TimeMajor):
            raise OpProblem("it uses a time-major [T, N, ...] tensor; netbuilder keeps the batch dimension first")
        raise OpProblem("it uses a raw RNN output (states or per-direction values) netbuilder has no wire for")

    def shape(self, name: str) -> tuple[int | None, ...]:
        shape = self.shapes.get(name)
        if shape is None:
            raise OpProblem(f"the shape of '{name}' is not known when importing")
        return shape

    def dtype(self, name: str) -> str:
        t = self.elem.get(name, 0)
        return onnx.helper.tensor_dtype_to_np_dtype(t).name if t else "of unknown type"

    def bidirectional(self, node_id: str) -> bool:
        return bool(self.graph.node(node_id).params["bidirectional"])

    def rnn_use(self, node_id: str, mode: str) -> Port:
        old = self.rnn_modes.setdefault(node_id, mode)
        if old != mode:
            raise OpProblem(f"'{self.graph.node(node_id).name}' is used both as its full sequence and as its last "
                            "step; a netbuilder RNN gives one of them")
        return Port(node_id)

    def add(self, kind: str, n: onnx.NodeProto, params: dict[str, Any], inputs: list[Port],
            weights: dict[str, Any] | None = None, biasable: bool = False) -> Port:
        """Add a catalog node made from ONNX node ``n``, wired from ``inputs``, with its weights."""
        g = self.graph
        try:
            node = g.add_node(g.make_node(kind, self._name(n.name, n.op_type, kind), params))
            ports = [p.name for p in node.input_ports()]
            for port, src in zip(ports, inputs, strict=True):
                g.connect(Edge(src.node, "out", node.id, port), check_cycle=False)
        except EditRefused as exc:
            raise OpProblem(str(exc)) from None
        for key, w in (weights or {}).items():
            if w is not None:
                self.weights[f"{node.name}.{key}"] = w if isinstance(w, torch.Tensor) else _tensor(w)
        if biasable:
            self.biasable[n.output[0]] = node.id
        return Port(node.id)

    def bias_target(self, value: str) -> str | None:
        return self.biasable.get(value) if self.users[value] == 1 else None

    def set_bias(self, node_id: str, c: np.ndarray) -> Port:
        """Fold a constant added right after a bias-less Linear or Conv into its bias."""
        node = self.graph.node(node_id)
        if node.kind == "Linear":
            m, fits = node.params["out_features"], c.size == 1 or c.shape[-1] == c.size
        else:  # one value per channel: [M, 1, ...] after any leading 1s
            m, nd = node.params["out_channels"], int(node.kind[4])
            fits = c.size == 1 or (c.ndim > nd and c.shape[-nd - 1] == c.size)
        if not fits or c.size not in (1, m):
            raise OpProblem(f"adds a constant of shape {list(c.shape)}, which is not one bias per output of "
                            f"'{node.name}'; netbuilder has no layer for adding other constants")
        self.graph.set_params(node_id, {"bias": True})
        self.weights[f"{node.name}.bias"] = _tensor(np.broadcast_to(c.reshape(-1), (m,)))
        return Port(node_id)

    # ---- the walk ------------------------------------------------------------------------
    def _name(self, raw: str, op_type: str, kind: str) -> str:
        """A free node name from an ONNX name: '/conv1/Conv' gives 'conv1', as torch named the layer."""
        parts = [p for p in raw.replace(".", "/").replace("::", "/").split("/") if p]
        if op_type and len(parts) > 1 and re.fullmatch(rf"{op_type}(_\d+)?", parts[-1]):
            parts = parts[:-1]  # torch's '/scope/Op_2'
        elif op_type and len(parts) == 1 and re.fullmatch(rf"{op_type}(_?\d+)?", parts[0], re.IGNORECASE):
            parts = []  # 'Relu_3' says nothing the kind does not
        base = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in "_".join(parts))[:60]
        if not base.strip("_"):
            # No name of its own: number it like the palette numbers a new node ('relu1').
            return self.graph.unique_name(CATALOG[kind].name_base or kind.lower())
        if base[0].isdigit():
            base = f"n{base}"
        if name_problem(base) is None and self.graph.by_name(base) is None:
            return base
        return self.graph.unique_name(base)

    def build(self) -> None:
        g = self.model.graph
        inits = {t.name for t in g.initializer}
        for vi in g.input:
            if vi.name not in inits:
                self.values[vi.name] = self._input(vi)
        live = self._live()
        for k, n in enumerate(g.node):
            if k in live:
                outs = self._map(n)
                for name, v in zip(n.output, outs, strict=False):
                    self.values[name] = v
                for name in n.output[len(outs):]:
                    self.values[name] = Unknown()
        for node_id, mode in self.rnn_modes.items():
            self.graph.set_params(node_id, {"output": mode})
        for o in g.output:
            try:
                src = self.resolve(self.values[o.name])
                out = self.graph.add_node(self.graph.make_node("Output", self._name(o.name, "", "Output")))
                self.graph.connect(Edge(src.node, "out", out.id, "in"), check_cycle=False)
                self.outputs[o.name] = out.id
            except (OpProblem, EditRefused) as exc:
                self.problems.append(f"graph output '{o.name}': {exc}")
            except Skip:
                pass
        if self.unsupported or self.problems:
            lines = []
            if self.unsupported:
                ops = ", ".join(f"{op} ({k})" for op, k in sorted(self.unsupported.items()))
                lines.append(f"{sum(self.unsupported.values())} node(s) use operators netbuilder has no layer "
                             f"for: {ops}")
            lines += self.problems[:30]
            if len(self.problems) > 30:
                lines.append(f"... and {len(self.problems) - 30} more problems")
            raise OnnxImportError(f"{self.file}: cannot import this model:\n" + "\n".join(f"  - {s}" for s in lines))

    def _input(self, vi: onnx.ValueInfoProto) -> Any:
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
                node = self.graph.make_node("Input", self._name(vi.name, "", "Input"),
                                            {"shape": list(dims[1:]), "dtype": DTYPES[elem]})
                return Port(self.graph.add_node(node).id)
            except EditRefused as exc:
                problem = str(exc)
        self.problems.append(f"graph input '{vi.name}' {problem}")
        return Unknown()

    def _live(self) -> set[int]:
        """The indices of the nodes some graph output depends on."""
        nodes = self.model.graph.node
        producer = {o: k for k, n in enumerate(nodes) for o in n.output if o}
        stack = [producer[o.name] for o in self.model.graph.output if o.name in producer]
        live: set[int] = set()
        while stack:
            k = stack.pop()
            if k not in live:
                live.add(k)
                stack.extend(producer[i] for i in nodes[k].input if i in producer)
        return live

    def _map(self, n: onnx.NodeProto) -> list[Any]:
        ins = [self.values[i] for i in n.input if i]
        data = [v for v in ins if not isinstance(v, np.ndarray)]
        if n.domain not in ("", "ai.onnx"):
            self.unsupported[f"{n.domain}.{n.op_type}"] += 1
            return []
        if n.op_type == "ConstantOfShape":
            value = next((numpy_helper.to_array(a.t) for a in n.attribute if a.name == "value"), np.zeros(1))
            return [Fill(float(value.reshape(-1)[0]))]
        if n.op_type in SHAPE_OPS or (data and all(isinstance(v, (Fill, Opaque)) for v in data)):
            keep = n.op_type in FILL_KEEPS and isinstance(ins[0], Fill)
            return [ins[0] if keep else Opaque()] * len(n.output)
        if not data:  # constants only, yet not folded (too large, or the folder gave up)
            self.problems.append(f"{label_of(n)}: computes a constant that could not be folded when importing")
            return []
        if n.op_type not in MAPPERS:
            self.unsupported[n.op_type] += 1
            return []
        if any(isinstance(v, Unknown) for v in data):
            return []
        try:
            return MAPPERS[n.op_type](self, n)
        except OpProblem as exc:
            self.problems.append(f"{label_of(n)}: {exc}")
        except Skip:
            pass
        return []


def _tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(a, dtype=np.float32, copy=True))


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
    own = build_module(graph, inference).state_dict()
    problems = [f"'{k}' is missing" for k in own if k not in maker.weights]
    problems += [f"'{k}' has shape {list(maker.weights[k].shape)} but the layer takes {list(v.shape)}"
                 for k, v in own.items() if k in maker.weights and maker.weights[k].shape != v.shape]
    problems += [f"'{k}' belongs to no layer" for k in maker.weights if k not in own]
    if problems:
        raise OnnxImportError(f"{file}: the weights do not fit the imported layers: " + "; ".join(problems[:10]))


__all__ = ["MAX_FILE_BYTES", "OnnxImportError", "import_onnx"]
