"""Checks behind the canvas's wire gestures: a wire that replaces another, a layer dropped into a wire.

Both answer before anything is applied, with the reason a user reads when the gesture is refused,
so the canvas can light ports up while a wire is dragged and refuse a drop without an undo step.
"""

from __future__ import annotations

from netbuilder.analysis.shape_inference import ShapeInference
from netbuilder.layers import CATALOG, ShapeError
from netbuilder.layers.accepts import fit
from netbuilder.model.graph import Edge, Graph


def replaced_wire(graph: Graph, edge: Edge) -> Edge | None:
    """The wire ``edge`` would push out of its input: the one there now, unless it is ``edge`` itself."""
    if edge.dst not in graph.nodes:
        return None
    taken = graph.in_edges(edge.dst).get(edge.dst_port)
    return taken if taken is not None and taken != edge else None


def replace_problem(graph: Graph, edge: Edge) -> str | None:
    """Why ``edge`` cannot be wired even if it replaces the wire its input has now; None when it can.

    :meth:`Graph.connect_problem` names a taken input only after every other reason (ports, a
    node feeding itself, a loop), and none of those depends on the wire already there (it runs
    into the input, never out of it), so the taken input is the one reason set aside here.
    """
    problem = graph.connect_problem(edge)
    if problem is None or replaced_wire(graph, edge) is None:
        return problem
    no_port = edge.src_port not in graph.node(edge.src).output_ports()
    if no_port or edge.src == edge.dst or edge.src in graph.downstream([edge.dst]):
        return problem
    return None


def insert_problem(graph: Graph, inference: ShapeInference, kind: str, edge: Edge) -> str | None:
    """Why a default ``kind`` layer cannot go into the wire ``edge`` (src -> new -> dst); None when it can.

    The new layer must take what the wire carries, and the wire's end must take what the new layer
    gives. Where the wire's shape is not known yet (a problem upstream), only the ports are checked.
    """
    spec = CATALOG[kind]
    if not spec.input_ports(spec.defaults()):
        return f"{kind} has no input, so it cannot go into a wire"
    if not spec.output_ports():
        return f"{kind} has no output, so it cannot go into a wire"
    carried = inference.outputs(edge.src)
    tensor = carried.get(edge.src_port) if carried else None
    if tensor is None:
        return None
    found = fit(kind, tensor)
    if found.reason is not None:
        return found.reason
    dst = graph.node(edge.dst)
    inputs = dict(inference.info(edge.dst).inputs)
    inputs[edge.dst_port] = found.output
    if any(p.name not in inputs for p in dst.input_ports() if not p.optional):
        return None  # the end waits on another input: it cannot be checked yet
    try:
        dst.spec.infer(dst.params, inputs)
    except ShapeError as err:
        return f"{dst.kind} '{dst.name}' needs {err.expected}, but {kind} would give it {found.output}"
    except Exception:  # a rule that does not expect this input: shape inference will say what is wrong
        return None
    return None


__all__ = ["insert_problem", "replace_problem", "replaced_wire"]
