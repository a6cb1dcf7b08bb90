"""Checks behind the canvas's wire gestures: a wire that replaces another, a layer dropped into a wire,
and which layers fit before or after a layer (the lists of Insert Layer Before… / After…).

They answer before anything is applied, with the reason a user reads when the gesture is refused,
so the canvas can light ports up while a wire is dragged and refuse a drop without an undo step.
"""

from __future__ import annotations

from netbuilder.analysis.shape_inference import ShapeInference
from netbuilder.layers import CATALOG, ShapeError, TensorType
from netbuilder.layers.accepts import fit, kinds_accepting, kinds_for_wires, kinds_with_output
from netbuilder.model.graph import Edge, Graph
from netbuilder.model.rewiring import first_output, wire_before


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


def _carried(inference: ShapeInference, node_id: str, port: str) -> TensorType | None:
    outputs = inference.outputs(node_id)
    return outputs.get(port) if outputs else None


def _into_wires(graph: Graph, inference: ShapeInference, edges: list[Edge], tensor: TensorType | None
                ) -> frozenset[str]:
    """The kinds that go into every one of ``edges`` (all leaving one output, which carries ``tensor``)."""
    candidates = kinds_for_wires() & (kinds_accepting(tensor) if tensor is not None else frozenset(CATALOG))
    return frozenset(k for k in candidates if all(insert_problem(graph, inference, k, e) is None for e in edges))


def kinds_before(graph: Graph, inference: ShapeInference, node_id: str) -> tuple[frozenset[str], TensorType | None]:
    """The kinds a layer inserted before ``node_id`` may be, and the shape they take (None: not known, or no wire).

    On the wire into it (:func:`~netbuilder.model.rewiring.wire_before`): the kinds that take what it carries
    and give what ``node_id`` takes. With no wire in, any kind that puts something out (an Input first).
    """
    edge = wire_before(graph, node_id)
    if edge is None:
        return kinds_with_output(), None
    tensor = _carried(inference, edge.src, edge.src_port)
    return _into_wires(graph, inference, [edge], tensor), tensor


def kinds_after(graph: Graph, inference: ShapeInference, node_id: str) -> tuple[frozenset[str], TensorType | None]:
    """The kinds a layer inserted after ``node_id`` may be, and the shape they take (None: not known yet).

    They take what its first output gives; where that output feeds layers, the new one takes over its wires,
    so it must give each of them what it takes.
    """
    port = first_output(graph.node(node_id))
    tensor = _carried(inference, node_id, port)
    outs = [e for e in graph.out_edges(node_id) if e.src_port == port]
    if outs:
        return _into_wires(graph, inference, outs, tensor), tensor
    if tensor is None:
        return frozenset(k for k, s in CATALOG.items() if s.input_ports(s.defaults())), None
    return kinds_accepting(tensor), tensor


__all__ = ["insert_problem", "kinds_after", "kinds_before", "replace_problem", "replaced_wire"]
