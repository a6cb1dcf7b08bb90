"""Which loss fits a data set's targets, with the reason in a sentence the app can show.

Picking a data set for a project drawn from scratch sets this loss in the same undo step
(the Data dock), so a first run does not start with mse on class numbers.
"""

from __future__ import annotations

from typing import Any

from netbuilder.analysis.lint import meaning_layer
from netbuilder.data.dataset import Dataset
from netbuilder.files.training_settings import INDEX_TARGET_LOSSES, TrainingSettings
from netbuilder.model.graph import Graph

# Losses comparing values of the same shape as the output (float targets).
VALUE_LOSSES = ("mse", "l1", "huber", "bce", "bce_with_logits")


def ends_in_sigmoid(graph: Graph | None) -> bool:
    """Whether the layer feeding the graph's one Output (past Dropout and the like) is a Sigmoid."""
    if graph is None:
        return False
    outputs = graph.of_kind("Output")
    if len(outputs) != 1:
        return False
    edge = graph.in_edges(outputs[0].id).get("in")
    if edge is None:
        return False
    last, _passed = meaning_layer(graph, edge.src)
    return last is not None and last.kind == "Sigmoid"


def _classes(n: int | None) -> str:
    return f" ({n} classes)" if n else ""


def suggest_loss(dataset: Dataset, graph: Graph | None = None) -> tuple[str, str]:
    """The loss for ``dataset``'s targets, and why: class numbers → cross_entropy; one-hot or probability
    rows → cross_entropy_soft; 0/1 targets → bce_with_logits (bce when ``graph`` ends in a Sigmoid);
    other real numbers → mse."""
    y = dataset.y
    if dataset.labels_are_indices:
        n = dataset.num_classes or (int(y.max()) + 1 if len(y) else 0)
        return "cross_entropy", f"cross_entropy, because the targets are class numbers{_classes(n)}"
    lo, hi = float(y.min()), float(y.max())
    if dataset.task == "classification" and y.dim() == 2 and y.shape[1] > 1 and lo >= 0 and hi <= 1:
        return ("cross_entropy_soft", "cross_entropy_soft, because the targets are one-hot or probability rows"
                f"{_classes(dataset.num_classes or y.shape[1])}")
    if lo >= 0 and hi <= 1 and (dataset.task == "binary" or bool(((y == 0) | (y == 1)).all())):
        if ends_in_sigmoid(graph):
            return "bce", "bce, because the targets are 0/1 labels and the network already ends in a Sigmoid"
        return ("bce_with_logits", "bce_with_logits, because the targets are 0/1 labels (it applies the sigmoid "
                "itself, so the last layer gives raw scores)")
    if dataset.task == "binary":  # the teaching text's §4.2: noise pushed the labels out of [0, 1]
        return ("mse", f"mse, because the targets run from {lo:.3g} to {hi:.3g}, outside the [0, 1] a binary "
                "cross-entropy needs (noisy labels?)")
    return "mse", "mse, because the targets are real numbers to predict (regression)"


def _kind(loss: str) -> str:
    if loss in INDEX_TARGET_LOSSES:
        return "index"
    return "soft" if loss == "cross_entropy_soft" else "value"


def loss_to_suggest(training: dict[str, Any], old_data: dict[str, Any], dataset: Dataset,
                    graph: Graph | None = None) -> tuple[str, str] | None:
    """The loss to set with a newly picked data set, and why; None to keep the project's loss.

    A loss is suggested where nothing has chosen one yet: the training settings have no "loss" key,
    or the project named no data set and its loss is still the default (a project drawn from scratch).
    It is also suggested where the current loss cannot read these targets at all (cross_entropy on
    real numbers, mse on class numbers), which training would refuse anyway.
    """
    loss, reason = suggest_loss(dataset, graph)
    current = training.get("loss")
    if current == loss:
        return None
    fresh = current is None or (not old_data.get("dataset") and current == TrainingSettings.loss)
    if fresh or _kind(current) != _kind(loss):
        return loss, reason
    return None
