"""Readable, standalone PyTorch source for a graph: one attribute per layer, one line per node.

The code is written from the compiled torch.fx graph (so it computes exactly what the app
trains), builds each layer with the call the catalog's builder makes (so the same seed gives
the same initial weights), imports only torch, and loads the app's weights with
``load_state_dict``.
"""

from __future__ import annotations

import math
import operator
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
import torch.fx as fx
import torch.nn as nn

from netbuilder import __version__
from netbuilder.analysis.shape_inference import infer_shapes
from netbuilder.build.compile import build_module
from netbuilder.errors import NetbuilderError
from netbuilder.files.project import Project
from netbuilder.layers.spec import LayerSpec, TensorType

_OPERATORS = {operator.add: "+", operator.mul: "*"}


class CodegenError(NetbuilderError):
    """The graph cannot be written as code; the message says why."""


def constructor_call(spec: LayerSpec, params: dict[str, Any], inputs: Mapping[str, TensorType]) -> str:
    """The ``nn.X(...)`` call that builds the layer ``spec`` builds from ``params`` and ``inputs``.

    The call is the one the catalog's own builder makes, recorded as it runs, so the generated
    model gets every argument the app's does (``repr()`` leaves some out: PReLU's ``init``, an
    RNN's ``nonlinearity``) and, from the same seed, the same initial weights.
    """
    cls = type(spec.build(params, inputs))
    if getattr(nn, cls.__name__, None) is not cls:
        raise CodegenError(f"{spec.kind} builds a {cls.__module__}.{cls.__name__}, which is not in torch.nn; "
                           "no constructor can be written for it")
    args, kwargs, built = _record_construction(cls, lambda: spec.build(params, inputs))
    if args is None:
        raise CodegenError(f"{spec.kind}'s builder did not construct its {cls.__name__} directly; "
                           "no constructor can be written for it")
    call = f"nn.{cls.__name__}({_call_literals(args, kwargs, spec.kind)})"
    rebuilt = cls(*args, **kwargs)
    if repr(rebuilt) != repr(built) or _shapes(rebuilt) != _shapes(built):
        # The builder changed the module after constructing it; the call alone would differ.
        raise CodegenError(f"{spec.kind}: the layer is more than its constructor call {call}; "
                           "it cannot be written as code")
    return call


_RECORDING = threading.Lock()


def _record_construction(cls: type, build: Callable[[], nn.Module]) -> tuple[Any, dict[str, Any], nn.Module]:
    """Run ``build`` and catch the arguments of its outermost ``cls(...)`` in this thread.

    torch has no hook on module construction, so the class's ``__init__`` is wrapped for the
    duration; other threads building the same class meanwhile go straight through.
    """
    seen: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    me = threading.get_ident()
    own = cls.__dict__.get("__init__")
    original = cls.__init__

    def recording(self: Any, *args: Any, **kwargs: Any) -> None:
        if not seen and type(self) is cls and threading.get_ident() == me:
            seen.append((args, kwargs))
        original(self, *args, **kwargs)

    with _RECORDING:
        cls.__init__ = recording
        try:
            built = build()
        finally:
            if own is None:
                del cls.__init__
            else:
                cls.__init__ = own
    return (*seen[0], built) if seen else (None, {}, built)


def _shapes(module: nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def _literal(value: Any, kind: str) -> str:
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_literal(v, kind) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    raise CodegenError(f"{kind}: its constructor takes a {type(value).__name__} ({value!r}), which cannot be "
                       "written as code")


def _call_literals(args: tuple[Any, ...], kwargs: dict[str, Any], kind: str) -> str:
    return ", ".join([*(_literal(a, kind) for a in args), *(f"{k}={_literal(v, kind)}" for k, v in kwargs.items())])


def _arg(value: Any) -> str:
    if isinstance(value, fx.Node):
        return value.name
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_arg(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    return repr(value)


def _index(value: Any) -> str:
    """``x[(slice(None), -1)]`` written as ``x[:, -1]``."""
    parts = value if isinstance(value, tuple) else (value,)
    out = []
    for p in parts:
        if isinstance(p, slice):
            out.append(("" if p.start is None else str(p.start)) + ":" + ("" if p.stop is None else str(p.stop))
                       + ("" if p.step is None else f":{p.step}"))
        else:
            out.append(_arg(p))
    return ", ".join(out)


def _call(args: Iterable[Any], kwargs: dict[str, Any]) -> str:
    return ", ".join([*(_arg(a) for a in args), *(f"{k}={_arg(v)}" for k, v in kwargs.items())])


def _line(node: fx.Node) -> str:
    if node.op == "call_module":
        return f"{node.name} = self.{node.target}({_call(node.args, node.kwargs)})"
    if node.op == "call_method":
        return f"{node.name} = {_arg(node.args[0])}.{node.target}({_call(node.args[1:], node.kwargs)})"
    if node.op == "call_function":
        if node.target is operator.getitem:
            return f"{node.name} = {_arg(node.args[0])}[{_index(node.args[1])}]"
        if node.target in _OPERATORS:
            a, b = node.args
            return f"{node.name} = {_arg(a)} {_OPERATORS[node.target]} {_arg(b)}"
        if node.target is torch.cat:
            return f"{node.name} = torch.cat({_call(node.args, node.kwargs)})"
    raise CodegenError(f"cannot write fx node {node.format_node()} as code")


def generate_source(project: Project, source_file: str | None = None, class_name: str = "Net",
                    training: str | None = None) -> str:
    """Python source of an ``nn.Module`` equivalent to the project's graph.

    ``training``, when given, is the training part from :mod:`netbuilder.training.training_script`.
    """
    graph = project.graph
    inference = infer_shapes(graph)
    if inference.errors:
        lines = "\n".join(f"  - {p.message}" for p in inference.errors)
        raise CodegenError(f"the graph has problems to fix before it can be written as code:\n{lines}")
    module = build_module(graph, inference)
    init = []
    for name, _child in module.named_children():  # in the app's order, so a seed gives the same weights
        node = graph.by_name(name)
        init.append(f"        self.{name} = {constructor_call(node.spec, node.params, inference.info(node.id).inputs)}")
        if node.frozen:
            init.append(f"        self.{name}.requires_grad_(False)  # frozen: training keeps its weights")
    inputs = [n.name for n in module.graph.nodes if n.op == "placeholder"]
    body = []
    for node in module.graph.nodes:
        if node.op == "placeholder":
            continue
        if node.op == "output":
            body.append(f"        return {_arg(node.args[0])}")
            continue
        line = f"        {_line(node)}"
        node_id = node.meta.get("netbuilder_node")
        if node_id is not None:
            g = graph.node(node_id)
            shape = inference.outputs(node_id)[node.meta.get("netbuilder_port", g.output_ports()[0])]
            line += f"  # {g.kind} '{g.name}' -> {shape}"
        body.append(line)
    input_docs = "\n".join(f"    {n.name}: {inference.outputs(n.id)['out']}" for n in graph if n.kind == "Input")
    origin = f" from {Path(source_file).name}" if source_file else ""
    return "\n".join([
        f'"""{project.name}: a PyTorch model generated by netbuilder {__version__}{origin}.',
        "",
        "Inputs (N is the batch size):",
        input_docs,
        "",
        "Load the app's weights with:",
        "    from safetensors.torch import load_file",
        f"    model = {class_name}()",
        '    model.load_state_dict(load_file("weights.safetensors"))',
        '"""',
        "",
        *(["import argparse", "from pathlib import Path", "", "import numpy as np"] if training else []),
        *(["import torch"] if training or any("torch." in line for line in body) else []),
        "from torch import nn",
        "",
        "",
        f"class {class_name}(nn.Module):",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        *(init or ["        pass"]),
        "",
        f"    def forward(self, {', '.join(inputs)}):",
        *body,
        "",
    ]) + (training.rstrip("\n") + "\n" if training else "")
