"""Mistakes a shape check cannot see: a model and its training settings that disagree.

These are the teaching text's classic slips (shared/seed, section 4): a Softmax fed to a
loss that applies its own, probabilities given to a loss that wants logits, and so on.
Data-dependent checks (targets outside [0, 1], class counts) belong to the data sets.
"""

from __future__ import annotations

from netbuilder.analysis.shape_inference import Problem
from netbuilder.files.data_settings import data_settings_problems
from netbuilder.files.project import Project
from netbuilder.model.graph import Graph, Node

# loss -> (kinds that must not end the model, why, fix)
_DOUBLE_SQUASH = {
    "cross_entropy": ({"Softmax", "LogSoftmax"}, "the cross_entropy loss applies softmax to raw scores itself",
                      "delete the {kind} so the model ends in logits"),
    "cross_entropy_soft": ({"Softmax", "LogSoftmax"},
                           "the cross_entropy loss applies softmax to raw scores itself",
                           "delete the {kind} so the model ends in logits"),
    "bce_with_logits": ({"Sigmoid"}, "the bce_with_logits loss applies the sigmoid itself",
                        "delete the Sigmoid, or switch the loss to bce"),
}


# Layers that move, reshape or drop values without changing what they mean: a Softmax's
# probabilities are still probabilities after a Flatten, so the checks look through them.
PASS_THROUGH = frozenset({"Dropout", "Flatten", "Reshape", "Permute", "Transpose"})


def meaning_layer(graph: Graph, node_id: str) -> tuple[Node, list[Node]]:
    """The layer that decides what ``node_id``'s values mean, walking back through
    :data:`PASS_THROUGH` layers, and the pass-through layers crossed (nearest the end first)."""
    node, passed = graph.node(node_id), []
    while node.kind in PASS_THROUGH and (edge := graph.in_edges(node.id).get("in")):
        passed.append(node)
        node = graph.node(edge.src)
    return node, passed


def _last_layers(graph: Graph) -> list[tuple[Node, Node, list[Node]]]:
    """(layer, output, passed) for each Output: the layer that decides what reaches it, and the
    pass-through layers between them."""
    found = []
    for out in graph.of_kind("Output"):
        if edge := graph.in_edges(out.id).get("in"):
            last, passed = meaning_layer(graph, edge.src)
            found.append((last, out, passed))
    return found


def _feeds(last: Node, out: Node, passed: list[Node]) -> str:
    through = f" (through {', '.join(f'{n.kind} {n.name!r}' for n in reversed(passed))})" if passed else ""
    return f"{last.kind} '{last.name}' feeds Output '{out.name}'{through}"


def lint_project(project: Project) -> list[Problem]:
    """Problems between the graph and the training settings."""
    loss = project.training.get("loss")
    # Data settings naming an unknown data set or option: said here, before a run is started.
    found: list[Problem] = [Problem("error", "data-settings", message)
                            for message in data_settings_problems(project.data)]
    for last, out, passed in _last_layers(project.graph):
        if loss in _DOUBLE_SQUASH:
            kinds, why, fix = _DOUBLE_SQUASH[loss]
            if last.kind in kinds:
                found.append(Problem(
                    "error", "lint-double-activation",
                    f"{_feeds(last, out, passed)}, but {why}: {fix.format(kind=last.kind)}", last.id))
        elif loss == "bce" and last.kind != "Sigmoid":
            found.append(Problem(
                "warning", "lint-needs-probabilities",
                f"the bce loss needs probabilities in [0, 1], but Output '{out.name}' gets {last.kind} "
                f"'{last.name}': add a Sigmoid before the Output, or switch the loss to bce_with_logits",
                last.id))
        elif loss == "nll" and last.kind != "LogSoftmax":
            found.append(Problem(
                "warning", "lint-needs-log-probabilities",
                f"the nll loss needs log-probabilities, but Output '{out.name}' gets {last.kind} '{last.name}': "
                "add a LogSoftmax before the Output, or switch the loss to cross_entropy",
                last.id))
        elif loss in _NEEDS_EXACT and (drop := _live_dropout(passed)) is not None:
            found.append(Problem(
                "error", "lint-dropout-after-activation",
                f"{_feeds(last, out, passed)}, but in training Dropout '{drop.name}' zeroes some of its "
                f"{_NEEDS_EXACT[loss]} and scales the rest by 1/(1-p), which the {loss} loss cannot take: "
                f"move Dropout '{drop.name}' before {last.kind} '{last.name}'", drop.id))
    return found


# Losses whose inputs must be exact probabilities or log-probabilities; a Dropout after the
# activation breaks them in training (a sigmoid output of 0.8 at p=0.5 becomes 1.6).
_NEEDS_EXACT = {"bce": "probabilities", "nll": "log-probabilities"}


def _live_dropout(passed: list[Node]) -> Node | None:
    return next((n for n in passed if n.kind == "Dropout" and n.params.get("p", 0) > 0), None)
