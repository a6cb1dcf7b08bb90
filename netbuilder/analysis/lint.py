"""Mistakes a shape check cannot see: a model and its training settings that disagree.

These are the teaching text's classic slips (shared/seed, section 4): a Softmax fed to a
loss that applies its own, probabilities given to a loss that wants logits, and so on.
Data-dependent checks (targets outside [0, 1], class counts) belong to the data sets.
"""

from __future__ import annotations

from netbuilder.analysis.shape_inference import Problem
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


def _last_layers(graph: Graph) -> list[tuple[Node, Node]]:
    """(layer, output) for each layer wired straight into an Output."""
    found = []
    for out in graph:
        if out.kind == "Output" and (edge := graph.in_edges(out.id).get("in")):
            found.append((graph.node(edge.src), out))
    return found


def lint_project(project: Project) -> list[Problem]:
    """Problems between the graph and the training settings."""
    loss = project.training.get("loss")
    found: list[Problem] = []
    for last, out in _last_layers(project.graph):
        if loss in _DOUBLE_SQUASH:
            kinds, why, fix = _DOUBLE_SQUASH[loss]
            if last.kind in kinds:
                found.append(Problem(
                    "error", "lint-double-activation",
                    f"{last.kind} '{last.name}' feeds Output '{out.name}', but {why}: {fix.format(kind=last.kind)}",
                    last.id))
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
    return found
