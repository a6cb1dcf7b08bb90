"""Does a data set fit a model and its loss? Clear problems before a run starts.

Covers the teaching text's data mistakes: targets outside [0, 1] for a binary
cross-entropy (teaching text §4.2), class numbers given to a loss that wants one-hot rows and a
final layer wider than the number of classes (teaching text §4.3), and plain shape mismatches.
"""

from __future__ import annotations

import torch

from netbuilder.analysis.lint import meaning_layer
from netbuilder.analysis.shape_inference import Problem, ShapeInference
from netbuilder.data.dataset import Dataset
from netbuilder.files.training_settings import INDEX_TARGET_LOSSES
from netbuilder.model.graph import Graph


def data_problems(dataset: Dataset, graph: Graph, inference: ShapeInference, loss: str,
                  metrics: tuple[str, ...] = ()) -> list[Problem]:
    found: list[Problem] = metric_problems(dataset, metrics)
    inputs = graph.of_kind("Input")
    outputs = graph.of_kind("Output")
    if len(inputs) != 1 or len(outputs) != 1:
        def count(n: int, kind: str) -> str:
            names = ", ".join(f"'{x.name}'" for x in (inputs if kind == "Input" else outputs))
            return f"{n} {kind}{'' if n == 1 else 's'}" + (f" ({names})" if n > 1 else "")

        extra = [k for k, nodes in (("Input", inputs), ("Output", outputs)) if len(nodes) != 1]
        def fix_for(kind: str) -> str:
            n = len(inputs if kind == "Input" else outputs)
            return f"add an {kind}" if n == 0 else f"delete the extra {kind}{'s' if n > 2 else ''}"

        fix = "; ".join(fix_for(k) for k in extra)
        return [Problem("error", "data-arity",
                        f"training needs exactly one Input and one Output; this graph has "
                        f"{count(len(inputs), 'Input')} and {count(len(outputs), 'Output')}: {fix}")]
    node, out = inputs[0], outputs[0]
    wanted = inference.outputs(node.id)["out"]
    got = dataset.input_type
    if wanted != got:
        found.append(Problem(
            "error", "data-input",
            f"Input '{node.name}' expects {wanted} but data set '{dataset.name}' gives samples {got}: set the "
            f"Input's shape to {list(got.shape)}" + (f" and dtype {got.dtype}" if got.dtype != wanted.dtype else "")
            + (" or add a resize option to the data" if got.rank == 4 else ""), node.id))
    edge = graph.in_edges(out.id).get("in")
    result = inference.outputs(edge.src) if edge else None
    if result is None:
        return found
    produced = result[edge.src_port]
    last, passed = meaning_layer(graph, edge.src)
    if any(n.kind != "Dropout" for n in passed):  # a Flatten or Reshape sets the width itself
        last = graph.node(edge.src)
    y = dataset.y
    if not bool(torch.isfinite(dataset.x.float()).all()) or not bool(torch.isfinite(y.float()).all()):
        found.append(Problem("error", "data-nan", f"data set '{dataset.name}' contains NaN or infinite values: "
                                                  "remove or fill those rows"))
    if loss in INDEX_TARGET_LOSSES:
        if not dataset.labels_are_indices:
            found.append(Problem("error", "data-targets",
                                 f"the {loss} loss wants class numbers, but '{dataset.name}' has {list(y.shape[1:])} "
                                 "rows per target (one-hot or probabilities): switch the loss to cross_entropy_soft"))
        elif dataset.num_classes and produced.shape[-1:] != (dataset.num_classes,):
            found.append(_width_problem(last, produced, dataset))
        return found
    if loss == "cross_entropy_soft":
        if dataset.labels_are_indices:
            found.append(Problem("error", "data-targets",
                                 f"the cross_entropy_soft loss wants one-hot or probability rows, but '{dataset.name}' "
                                 "has class numbers (like 0, 1, 0): switch the loss to cross_entropy"))
        elif tuple(y.shape[1:]) != produced.shape:
            found.append(_width_problem(last, produced, dataset))
        return found
    # Losses comparing values of the same shape: mse, l1, huber, bce, bce_with_logits.
    if dataset.labels_are_indices:
        found.append(Problem("error", "data-targets",
                             f"the {loss} loss compares values, but '{dataset.name}' has class numbers: use "
                             "cross_entropy for classes, or, if these whole numbers are values to predict, set "
                             "the data set's task option to 'regression'"))
        return found
    if tuple(y.shape[1:]) != produced.shape:
        found.append(Problem("error", "data-target-shape",
                             f"{last.kind} '{last.name}' gives {produced} but the targets of '{dataset.name}' are "
                             f"[N, {', '.join(map(str, y.shape[1:]))}]: make the last layer produce that shape",
                             last.id))
    if loss in ("bce", "bce_with_logits"):
        lo, hi = float(y.min()), float(y.max())
        if lo < 0 or hi > 1:
            found.append(Problem("error", "data-bce-range",
                                 f"binary cross-entropy needs targets in [0, 1], but '{dataset.name}' has targets from "
                                 f"{lo:.3g} to {hi:.3g} (noise added to 0/1 labels, as in the teaching text's §4.2?): "
                                 "use clean 0/1 labels, or a regression loss such as mse"))
    return found


def _width_problem(last, produced, dataset: Dataset) -> Problem:
    n = dataset.num_classes
    return Problem("error", "data-classes",
                   f"{last.kind} '{last.name}' gives {produced} but '{dataset.name}' has {n} classes: give the "
                   f"last layer {n} outputs" + (f" (set out_features to {n})" if last.kind == "Linear" else ""),
                   last.id)


def metric_problems(dataset: Dataset, metrics: tuple[str, ...]) -> list[Problem]:
    """Metrics that cannot tell anything on ``dataset``: top5 where there are 5 classes or fewer
    (the true class is always among the top 5, so it reads 1.0 whatever the model does)."""
    if "top5" not in metrics:
        return []
    classes = dataset.num_classes if dataset.task == "classification" else None
    if classes is not None and classes > 5:
        return []
    has = f"has {classes} classes" if classes is not None else f"holds no classes (task {dataset.task})"
    return [Problem("error", "data-metric",
                    f"the top5 metric counts a sample as right when its class is among the 5 highest scores, but "
                    f"'{dataset.name}' {has}, so it says nothing: remove top5 from metrics (accuracy is the "
                    "top-1 rate)")]
