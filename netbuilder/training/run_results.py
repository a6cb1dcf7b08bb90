"""A finished (or stopped) run, loaded back for its results: the graph it trained, its weights, its data.

What the app's results views show is computed here, headless: the run's own snapshot of the
project (``project.nbproj`` in its folder, so later edits of the graph do not change what a run
shows), its ``best`` or ``last`` checkpoint, the same validation split the run held out, and the
predictions of the model on it (see :mod:`netbuilder.training.results`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from netbuilder.data.dataset import DataError, Dataset
from netbuilder.files.project import Project, load_project
from netbuilder.training import results
from netbuilder.training.checkpoint import CheckpointError
from netbuilder.training.run import prepare
from netbuilder.training.snapshot import SNAPSHOT_NAME

CHECKPOINTS = ("best", "last")


@dataclass
class RunResults:
    """What a results view needs: the data a run was judged on and the model's predictions on it."""

    project: Project
    checkpoint: Path
    data: Dataset  # the validation set, or the training set when the run held none out
    held_out: bool
    module: torch.nn.Module
    predictions: results.Predictions

    @property
    def is_classifier(self) -> bool:
        return self.predictions.labels is not None and self.predictions.probs is not None

    @property
    def one_feature(self) -> bool:
        x = self.data.x
        return x.dim() == 1 or (x.dim() == 2 and x.shape[1] == 1)

    def confusion(self) -> np.ndarray:
        return results.confusion_matrix(self.predictions, self.data.num_classes)

    def class_names(self) -> list[str]:
        n = self.predictions.probs.shape[1] if self.predictions.probs is not None else (self.data.num_classes or 0)
        names = self.data.class_names or []
        return [names[i] if i < len(names) else str(i) for i in range(n)]

    def fitted_curve(self, points: int = 200) -> results.FittedCurve:
        return results.fitted_curve(self.module, self.data, points, loss=self.predictions.loss_name)


def run_project(run_dir: Path, fallback: Project | None = None) -> Project:
    """The project a run trained: its own snapshot, or ``fallback`` for a run made without one (the CLI's)."""
    path = Path(run_dir) / SNAPSHOT_NAME
    if path.is_file():
        return load_project(path)
    if fallback is None:
        raise DataError(f"{run_dir} holds no {SNAPSHOT_NAME}: open the project this run trained to see its results")
    return fallback


def load_results(run_dir: Path, which: str = "best", fallback: Project | None = None) -> RunResults:
    """Load run ``run_dir``'s ``which`` checkpoint (best, or last: where a stopped run ended) and predict.

    A run that never reached a best checkpoint (stopped in its first epoch) falls back to its last.
    Raises DataError or CheckpointError with what to do.
    """
    if which not in CHECKPOINTS:
        raise ValueError(f"which checkpoint: one of {', '.join(CHECKPOINTS)}, not {which!r}")
    run_dir = Path(run_dir)
    checkpoint = checkpoint_of(run_dir, which)
    project = run_project(run_dir, fallback)
    prepared = prepare(project)
    module = results.load_run_module(project, checkpoint)
    data, held_out = (prepared.val, True) if prepared.val is not None else (prepared.train, False)
    predictions = results.predict(module, data, loss=prepared.settings.loss)
    return RunResults(project, checkpoint, data, held_out, module, predictions)


def checkpoint_of(run_dir: Path, which: str = "best") -> Path:
    """Run ``run_dir``'s ``which`` checkpoint, or its other one when that is missing."""
    run_dir = Path(run_dir)
    for tag in (which, *[t for t in CHECKPOINTS if t != which]):
        path = run_dir / f"{tag}.safetensors"
        if path.is_file():
            return path
    raise CheckpointError(f"{run_dir} has no checkpoint yet (the run ended before saving one): train again")


def save_run_weights(project: Project, run_dir: Path, which: str, dest: Path) -> Path:
    """Write run ``run_dir``'s ``which`` weights as a plain weights file ``dest`` for ``project`` as it is now
    (its graph must still fit them: a CheckpointError says which layers changed otherwise)."""
    from netbuilder.files.weights import save_weights
    from netbuilder.model.fingerprint import graph_fingerprint

    checkpoint = checkpoint_of(run_dir, which)
    module = results.load_run_module(project, checkpoint)
    meta = {"project": project.name, "graph_hash": graph_fingerprint(project.graph),
            "from_run": Path(run_dir).name, "checkpoint": checkpoint.stem}
    return save_weights(module, dest, meta)
