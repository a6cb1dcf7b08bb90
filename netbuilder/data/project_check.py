"""A project's data checked against its model before a run: the data set (and a validation set) loads,
fits the Input, the last layer, the loss and the metrics. The app's Problems list and ``netbuilder check``
say the same; nothing is downloaded here (a data set not on this machine yet is a warning)."""

from __future__ import annotations

from typing import Any

from netbuilder.analysis.shape_inference import Problem, ShapeInference
from netbuilder.data.cache import DATA_CACHE, DataTooLarge, NotDownloaded
from netbuilder.data.fit import data_problems
from netbuilder.errors import DataError
from netbuilder.files.project import Project
from netbuilder.model.fingerprint import graph_fingerprint


def project_data_problems(project: Project, inference: ShapeInference,
                          memo: dict[str, tuple[tuple[Any, ...], list[Problem]]] | None = None) -> list[Problem]:
    """The problems of ``project``'s data with its graph. ``memo`` (the app's, kept between edits) reuses the
    answer while the data set, loss, metrics and graph are the ones it was computed for."""
    memo = {} if memo is None else memo
    graph = project.graph
    inputs = graph.of_kind("Input")
    shape = tuple(inputs[0].params["shape"]) if len(inputs) == 1 else None
    base = project.path.parent if project.path else None
    training = project.training
    seed = training.get("seed", 0) if isinstance(training.get("seed", 0), int) else 0
    found: list[Problem] = []
    sets = [("data set", project.data)]
    if project.data.get("validation"):
        sets.append(("validation data set", project.data["validation"]))
    for what, data in sets:
        try:
            dataset = DATA_CACHE.get(data, base, seed, shape, check_only=True)
        except DataTooLarge:
            continue
        except NotDownloaded as exc:
            found.append(Problem("warning", "data-load", str(exc)))
            continue
        except DataError as exc:
            found.append(Problem("error", "data-load", f"the {what} cannot be loaded: {exc}"))
            continue
        # Fitting data to the model needs a model whose Input and Output infer.
        if len(inputs) != 1 or inference.outputs(inputs[0].id) is None:
            continue
        loss, metrics = str(training.get("loss")), tuple(training.get("metrics") or ())
        key = (id(dataset), dataset, loss, metrics, graph_fingerprint(graph))
        kept = memo.get(what)
        if kept is not None and kept[0][0] == key[0] and kept[0][1] is dataset and kept[0][2:] == key[2:]:
            found += kept[1]
            continue
        try:
            fit = data_problems(dataset, graph, inference, loss, metrics)
            memo[what] = (key, fit)
            found += fit
        except Exception as exc:  # a check meeting a graph it was not written for: said, never a crash
            found.append(Problem("warning", "data-check", f"the data could not be checked against the "
                                                          f"graph ({type(exc).__name__}: {exc})"))
    if any(p.code in ("no-input", "no-output") for p in inference.problems):
        # "training needs exactly one Input and one Output" would say again what the graph's own error says (and
        # that one has the fix), in the app's Problems list and in `netbuilder check` alike.
        found = [p for p in found if p.code != "data-arity"]
    return found
