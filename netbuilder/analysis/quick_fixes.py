"""Quick fixes: for a problem whose message names its fix, the edit that applies it.

Shape inference, lint and the data checks report a :class:`Problem` with the fix in words
("insert Flatten", "switch the loss to cross_entropy"); :func:`quick_fixes` turns the ones it
can into a :class:`QuickFix`: a label for a button or a menu, and one edit (a graph
:class:`~netbuilder.model.edits.Edit`, several as a Compound, or a project edit) the GUI
pushes as one undo step. A fix is only offered where it is known to remove the problem: the
shape fixes run the layer's own shape rule on the shape the fix would deliver.

The data checks' fixes need to know the data set (how many classes, which loss fits its
targets); the caller passes that as :class:`DataFacts` (``netbuilder.data.facts.data_facts``
builds them), since this layer sits below the data sets.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from netbuilder.analysis.lint import meaning_layer
from netbuilder.analysis.shape_inference import Problem, ShapeInference
from netbuilder.files.project import Project
from netbuilder.files.project_edits import ProjectEdit, SetTraining
from netbuilder.layers import ShapeError, TensorType
from netbuilder.layers.merge import aligned_shape
from netbuilder.model.edits import Compound, Connect, Edit, SetParams
from netbuilder.model.graph import Edge, Graph, Node
from netbuilder.model.rewiring import NODE_WIDTH, dissolve, insert_on_edge, set_as_output

MERGES = ("Add", "Multiply", "Concat")


@dataclass(frozen=True)
class DataFacts:
    """What the data checks' fixes need to know of the project's data set.

    ``num_classes`` for class targets; ``target_shape`` the shape of one target for value
    targets (None for class numbers); ``loss`` the loss that fits the targets and
    ``loss_reason`` why, in words ("cross_entropy, because the targets are class numbers");
    ``input_type`` the type of one sample.
    """

    num_classes: int | None = None
    target_shape: tuple[int, ...] | None = None
    loss: str | None = None
    loss_reason: str = ""
    input_type: TensorType | None = None


@dataclass(frozen=True)
class QuickFix:
    """One fix: ``label`` says what it does; ``edit`` does it (one undo step); ``node`` is the node it
    adds or changes, for the GUI to select (None for a project setting)."""

    label: str
    edit: Edit | ProjectEdit
    node: str | None = None


Finder = Callable[[Problem, Project, ShapeInference, "DataFacts | None"], list[QuickFix]]


def quick_fixes(problem: Problem, project: Project, inference: ShapeInference,
                data: DataFacts | None = None) -> list[QuickFix]:
    """The fixes ``problem`` offers (none where it names no fix this module can apply).

    ``inference`` is the graph's current shape inference; ``data`` the data set's facts, needed
    by the fixes of the data checks' problems only.
    """
    finder = _FINDERS.get(problem.code)
    if finder is None or (problem.node is not None and problem.node not in project.graph.nodes):
        return []
    try:
        return finder(problem, project, inference, data)
    except (KeyError, ShapeError):  # a graph the problem no longer describes: no fix rather than a wrong one
        return []


# ---- shape problems ------------------------------------------------------------------------------
def _infers(node: Node, inputs: dict[str, TensorType]) -> bool:
    """Whether ``node``'s shape rule accepts these inputs."""
    try:
        node.spec.infer(node.params, inputs)
    except Exception:  # ShapeError, or a rule that does not expect the shapes at all
        return False
    return True


def _shape_fixes(problem: Problem, project: Project, inference: ShapeInference,
                 _data: DataFacts | None) -> list[QuickFix]:
    graph = project.graph
    node = graph.node(problem.node)
    inputs = dict(inference.info(node.id).inputs)
    if node.kind in MERGES:
        return _merge_reshape(graph, node, inputs)
    port = problem.port or "in"
    got = inputs.get(port)
    edge = graph.in_edges(node.id).get(port)
    if got is None or edge is None or got.rank <= 2:
        return []
    flat = TensorType((math.prod(got.shape),), got.dtype)
    if not _infers(node, {**inputs, port: flat}):
        return []
    edit, new = insert_on_edge(graph, edge, "Flatten", text=f"Insert Flatten before {node.kind} '{node.name}'")
    return [QuickFix(f"Insert Flatten before {node.kind} '{node.name}' ({got} to {flat})", edit, new.id)]


def _merge_reshape(graph: Graph, node: Node, inputs: dict[str, TensorType]) -> list[QuickFix]:
    """A Reshape adding 1s before each lower-rank input (leading, else trailing: merge.aligned_shape), so the
    ranks match and the merge broadcasts per sample (what merge.py's message tells the user to do)."""
    if not inputs or len({t.rank for t in inputs.values()}) < 2:
        return []
    top = max(inputs.values(), key=lambda t: t.rank)
    widest = top.rank
    edits: list[Edit] = []
    fixed = dict(inputs)
    said, new_id, names = [], None, set()
    for port, t in sorted(inputs.items()):
        if t.rank == widest:
            continue
        aligned = aligned_shape(t.shape, widest, top.shape)
        if aligned is None:
            return []
        shape = aligned[0]
        fixed[port] = TensorType(tuple(shape), t.dtype)
        # Built before any is applied: each Reshape takes a name the others have not.
        name = next(f"reshape{k}" for k in range(1, len(graph) + 9)
                    if f"reshape{k}" not in names and graph.by_name(f"reshape{k}") is None)
        names.add(name)
        edit, new = insert_on_edge(graph, graph.in_edges(node.id)[port], "Reshape", {"shape": shape}, name=name)
        edits.append(edit)
        new_id = new_id or new.id
        said.append(f"to [{', '.join(map(str, shape))}] before '{port}'")
    if not _infers(node, fixed):
        return []
    label = f"Insert Reshape {' and '.join(said)} of {node.kind} '{node.name}'"
    return [QuickFix(label, edits[0] if len(edits) == 1 else Compound(label, edits), new_id)]


def _unconnected(problem: Problem, project: Project, inference: ShapeInference,
                 _data: DataFacts | None) -> list[QuickFix]:
    """Wire an output whose shape the node accepts into the empty input: one wired to nothing if there is
    one (nearest first), else the nearest."""
    graph = project.graph
    node = graph.node(problem.node)
    port = problem.port or "in"
    known = dict(inference.info(node.id).inputs)
    downstream = graph.downstream([node.id])  # wiring any of these in would make a loop

    def distance(src: Node) -> float:
        # From the source's right edge to this node's left edge; a wire running backwards costs more.
        dx = node.position[0] - (src.position[0] + NODE_WIDTH)
        return math.hypot(dx if dx >= 0 else 3 * -dx, node.position[1] - src.position[1])

    def free_ports(src: Node) -> set[str]:
        used = {e.src_port for e in graph.out_edges(src.id)}
        return {p for p in src.output_ports() if p not in used}

    def rank(src: Node) -> tuple[bool, float]:
        # An output wired to nothing first (the end a deleted layer left dangling is the one meant), then nearest.
        return (not free_ports(src), distance(src))

    best: tuple[Node, str] | None = None
    for src in sorted((n for n in graph if n.id not in downstream and n.output_ports()), key=rank):
        outputs = inference.outputs(src.id)
        free = free_ports(src)
        for out_port, t in sorted((outputs or {}).items(), key=lambda item: item[0] not in free):
            if graph.connect_problem(Edge(src.id, out_port, node.id, port), check_cycle=False) is not None:
                continue
            try:
                node.spec.infer(node.params, {**known, port: t})
            except KeyError:  # another input still empty: this one fits as far as can be told
                pass
            except Exception:
                continue
            best = (src, out_port)
            break
        if best is not None:
            break
    if best is None:
        return []
    src, out_port = best
    where = "" if port == "in" else f" input '{port}'"
    label = f"Wire {src.kind} '{src.name}' into {node.kind} '{node.name}'{where}"
    return [QuickFix(label, Compound(label, [Connect(src.id, out_port, node.id, port)]), node.id)]


def _no_output(problem: Problem, project: Project, inference: ShapeInference,
               data: DataFacts | None) -> list[QuickFix]:
    """An Output after the layer whose result goes nowhere that ends the model: of the loose ends, one whose
    shape fits the data's targets (as many values as classes), then the one furthest from the inputs (the end
    of the main chain, not a side branch added last), then the last added."""
    graph = project.graph
    order = graph.topological_order()
    depth: dict[str, int] = {}
    for n in order:  # the longest wire path from an Input
        ins = [depth.get(e.src, 0) for e in graph.in_edges(n).values()]
        depth[n] = max(ins) + 1 if ins else 0
    ends = [graph.node(n) for n in order
            if graph.node(n).output_ports() and not graph.out_edges(n) and graph.node(n).kind != "Input"
            and inference.outputs(n) is not None]
    if not ends:
        return []

    def fits(node: Node) -> bool:
        if data is None:
            return False
        shape = next(iter(inference.outputs(node.id).values())).shape
        if data.num_classes is not None:
            return shape[-1:] == (data.num_classes,)
        return data.target_shape is not None and tuple(shape) == tuple(data.target_shape)

    last = max(enumerate(ends), key=lambda k_node: (fits(k_node[1]), depth[k_node[1].id], k_node[0]))[1]
    edit, output_id = set_as_output(graph, last.id)
    label = f"Add an Output after {last.kind} '{last.name}'"
    edit.text = label
    return [QuickFix(label, edit, output_id)]


# ---- lint: the loss and the last layer disagree ----------------------------------------------------
def _double_activation(problem: Problem, project: Project, inference: ShapeInference,
                       _data: DataFacts | None) -> list[QuickFix]:
    graph = project.graph
    node = graph.node(problem.node)
    loss = project.training.get("loss")
    label = f"Delete {node.kind} '{node.name}' so the model ends in raw scores (logits)"
    fixes = [QuickFix(label, dissolve(graph, node.id, label), None)]
    if node.kind == "LogSoftmax" and loss == "cross_entropy":
        fixes.append(_loss_fix("nll", "it takes the LogSoftmax's log-probabilities"))
    if node.kind == "Sigmoid" and loss == "bce_with_logits":
        fixes.append(_loss_fix("bce", "it takes the Sigmoid's probabilities"))
    return fixes


def _output_edges(graph: Graph, last_id: str) -> list[Edge]:
    """The wires into Outputs whose values ``last_id`` decides (looking through Dropout, Flatten...)."""
    return [e for out in graph if out.kind == "Output" and (e := graph.in_edges(out.id).get("in"))
            and meaning_layer(graph, e.src)[0].id == last_id]


def _needs_activation(kind: str, loss: str, why: str) -> Finder:
    def find(problem: Problem, project: Project, inference: ShapeInference,
             _data: DataFacts | None) -> list[QuickFix]:
        graph = project.graph
        fixes = []
        for edge in _output_edges(graph, problem.node)[:1]:
            out = graph.node(edge.dst)
            label = f"Insert {kind} before Output '{out.name}'"
            edit, new = insert_on_edge(graph, edge, kind, text=label)
            fixes.append(QuickFix(label, edit, new.id))
        return [*fixes, _loss_fix(loss, why)]

    return find


def _loss_fix(loss: str, why: str) -> QuickFix:
    return QuickFix(f"Switch the loss to {loss} ({why})", SetTraining({"loss": loss}))


# ---- the data checks ----------------------------------------------------------------------------
def _classes(problem: Problem, project: Project, inference: ShapeInference,
             data: DataFacts | None) -> list[QuickFix]:
    graph = project.graph
    node = graph.node(problem.node)
    if data is None or not data.num_classes or node.kind != "Linear":
        return []
    n = data.num_classes
    label = f"Set out_features of Linear '{node.name}' to {n}, the number of classes"
    return [QuickFix(label, _set(node, {"out_features": n}, label), node.id)]


def _target_shape(problem: Problem, project: Project, inference: ShapeInference,
                  data: DataFacts | None) -> list[QuickFix]:
    graph = project.graph
    node = graph.node(problem.node)
    if data is None or data.target_shape is None or len(data.target_shape) != 1 or node.kind != "Linear":
        return []
    width = data.target_shape[0]
    label = f"Set out_features of Linear '{node.name}' to {width}, the width of a target"
    return [QuickFix(label, _set(node, {"out_features": width}, label), node.id)]


def _set(node: Node, changes: dict, label: str) -> Compound:
    return Compound(label, [SetParams(node.id, changes)])


def _loss_for_targets(problem: Problem, project: Project, inference: ShapeInference,
                      data: DataFacts | None) -> list[QuickFix]:
    if data is None or data.loss is None or data.loss == project.training.get("loss"):
        return []
    reason = data.loss_reason.split(", because ", 1)[-1] if ", because " in data.loss_reason else ""
    return [_loss_fix(data.loss, f"because {reason}" if reason else "it fits the targets")]


def _input_shape(problem: Problem, project: Project, inference: ShapeInference,
                 data: DataFacts | None) -> list[QuickFix]:
    node = project.graph.node(problem.node)
    if data is None or data.input_type is None or node.kind != "Input":
        return []
    t = data.input_type
    changes = {"shape": list(t.shape), "dtype": t.dtype}
    label = f"Set the shape of Input '{node.name}' to {list(t.shape)}" + (
        f" and its dtype to {t.dtype}" if t.dtype != node.params.get("dtype") else "")
    return [QuickFix(label, _set(node, changes, label), node.id)]


_FINDERS: dict[str, Finder] = {
    "shape": _shape_fixes,
    "unconnected": _unconnected,
    "no-output": _no_output,
    "lint-double-activation": _double_activation,
    "lint-needs-probabilities": _needs_activation("Sigmoid", "bce_with_logits", "it applies the sigmoid itself"),
    "lint-needs-log-probabilities": _needs_activation("LogSoftmax", "cross_entropy", "it applies log-softmax itself"),
    "data-classes": _classes,
    "data-target-shape": _target_shape,
    "data-targets": _loss_for_targets,
    "data-bce-range": _loss_for_targets,
    "data-input": _input_shape,
}

__all__ = ["DataFacts", "QuickFix", "quick_fixes"]
