"""Compile a valid graph into a torch.fx.GraphModule with straight-line generated code.

Like torch.fx itself, the result keeps its generated ``forward`` readable
(``module.code``); there is no interpreter loop at run time. Each layer with weights
becomes a submodule named after its node, so parameters read ``fc1.weight``.
"""

from __future__ import annotations

import operator

import torch.fx as fx
import torch.nn as nn

from netbuilder.analysis.shape_inference import ShapeInference, infer_shapes
from netbuilder.errors import CompileError
from netbuilder.model.graph import Graph, Node


def build_module(graph: Graph, inference: ShapeInference | None = None) -> fx.GraphModule:
    """Build a ``torch.fx.GraphModule`` from ``graph``.

    Inputs become ``forward`` arguments named after the Input nodes, in the order they
    were added; several Outputs are returned as a tuple in the order they were added.
    Nodes whose result reaches no Output are left out.

    Raises
    ------
    CompileError
        When the graph has errors; the message lists each with its fix.
    """
    inference = inference or infer_shapes(graph)
    errors = inference.errors
    if errors:
        lines = "\n".join(f"  - {p.message}" for p in errors)
        raise CompileError(f"the graph has {len(errors)} problem(s) to fix before it can run:\n{lines}")

    output_ids = [n.id for n in graph.of_kind("Output")]
    used = graph.live_nodes()
    root = nn.Module()
    code = fx.Graph()
    values: dict[tuple[str, str], fx.Node] = {}
    results: dict[str, fx.Node] = {}
    for node_id in graph.topological_order():
        node = graph.node(node_id)
        if node_id not in used:
            continue
        if node.kind == "Input":
            values[node_id, "out"] = code.placeholder(node.name)
            continue
        in_edges = graph.in_edges(node_id)
        # One entry per input port, None where an optional port is left unwired.
        args = [values[e.src, e.src_port] if (e := in_edges.get(port.name)) else None
                for port in node.input_ports()]
        if node.kind == "Output":
            results[node_id] = args[0]
            continue
        try:
            values.update(_emit_node(root, code, node, args, inference))
        except Exception as exc:  # torch's bare KeyError/TypeError would not say which node
            raise CompileError(f"{node.kind} '{node.name}' could not be built as a torch module "
                               f"({type(exc).__name__}: {exc}); rename the node or change its "
                               "parameters, and please report this") from exc
    ordered = [results[n] for n in output_ids]
    code.output(ordered[0] if len(ordered) == 1 else tuple(ordered))
    try:
        module = fx.GraphModule(root, code, class_name="Net")
    except Exception as exc:
        raise CompileError(f"the graph could not be built as a torch module ({type(exc).__name__}: {exc}); "
                           "please report this") from exc
    for node_id in used:
        # A name a newer torch gives GraphModule (as it gave 'graph' and 'code') would shadow the
        # layer and break forward; name_problem refuses the names known today.
        name = graph.node(node_id).name
        if name in module._modules and getattr(module, name, None) is not module._modules[name]:
            raise CompileError(f"{graph.node(node_id).kind} '{name}': the name clashes with an attribute "
                               "of torch's GraphModule; rename the node")
    return module


def _emit_node(root: nn.Module, code: fx.Graph, node: Node, args: list[fx.Node | None],
               inference: ShapeInference) -> dict[tuple[str, str], fx.Node]:
    """Add ``node``'s submodule to ``root`` and its lines to ``code``; returns its output values by
    (node id, port).

    A node of one output names its value after itself; a node of several (Split) gives a
    sequence from its emit, one value per port, named ``<node>_<port>``."""
    spec = node.spec
    info = inference.info(node.id)
    if spec.build is not None:
        module = spec.build(node.params, info.inputs)
        if node.frozen:  # kept as they are while training: the optimizer leaves them, no gradient is computed
            module.requires_grad_(False)
        root.add_module(node.name, module)
    if spec.emit is not None:
        # The module's raw result gets its own name; the node's name goes to its output.
        def call(*a, _target=node.name, **kw):
            return code.create_node("call_module", _target, a, kw, name=f"{_target}_raw")

        out = spec.emit(code, call, args, node.params, info.inputs, info.outputs)
    else:
        out = code.call_module(node.name, tuple(a for a in args if a is not None))
    ports = node.output_ports()
    if len(ports) == 1 and isinstance(out, fx.Node):
        if out.name != node.name:
            out._rename(node.name)  # the generated code reads in the user's names
        out.meta["netbuilder_node"] = node.id  # for code export: which node a line computes
        return {(node.id, ports[0]): out}
    outs = list(out) if isinstance(out, (list, tuple)) else []
    if len(outs) != len(ports):
        raise TypeError(f"its emit gave {len(outs)} values for {len(ports)} output ports")
    parents = {v.args[0] for v in outs if v.target is operator.getitem}
    if len(parents) == 1 and len(outs) == len(ports) and all(v.target is operator.getitem for v in outs):
        parent = parents.pop()  # the call all the parts are taken from reads as the node: sp = x.split(...)
        if parent.name != node.name:
            parent._rename(node.name)
    for port, value in zip(ports, outs, strict=True):
        name = f"{node.name}_{port}"
        if value.name != name:
            value._rename(name)
        value.meta["netbuilder_node"] = node.id
        value.meta["netbuilder_port"] = port
    return {(node.id, port): value for port, value in zip(ports, outs, strict=True)}
