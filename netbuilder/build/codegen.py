"""Readable, standalone PyTorch source for a graph: one attribute per layer, one line per node.

The code is written from the compiled torch.fx graph (so it computes exactly what the app
trains), imports only torch, and loads the app's weights with ``load_state_dict``.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
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

_OPERATORS = {operator.add: "+", operator.mul: "*"}


class CodegenError(NetbuilderError):
    """The graph cannot be written as code; the message says why."""


def module_source(module: nn.Module) -> str:
    """A constructor call that rebuilds ``module`` (weights aside)."""
    if isinstance(module, nn.MultiheadAttention):
        return (f"nn.MultiheadAttention({module.embed_dim}, {module.num_heads}, dropout={module.dropout}, "
                f"bias={module.in_proj_bias is not None}, kdim={module.kdim}, vdim={module.vdim}, batch_first=True)")
    if isinstance(module, nn.TransformerEncoderLayer):
        act = "gelu" if getattr(module, "activation_relu_or_gelu", 1) == 2 else "relu"
        return (f"nn.TransformerEncoderLayer({module.self_attn.embed_dim}, {module.self_attn.num_heads}, "
                f"dim_feedforward={module.linear1.out_features}, dropout={module.dropout.p}, activation={act!r}, "
                f"batch_first=True, norm_first={module.norm_first})")
    text = repr(module)
    if "\n" in text or not hasattr(nn, type(module).__name__):
        raise CodegenError(f"no constructor is known for {type(module).__name__}")
    if isinstance(module, nn.RNN):  # its repr leaves the nonlinearity out
        text = f"{text[:-1]}, nonlinearity={module.nonlinearity!r})"
    return f"nn.{text}"


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
    init = [f"        self.{name} = {module_source(child)}" for name, child in module.named_children()]
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
            shape = inference.outputs(node_id)["out"]
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
