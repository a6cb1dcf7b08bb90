"""Train a project end to end: settings, data, checks, model, history, checkpoints."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from netbuilder.analysis.lint import lint_project
from netbuilder.analysis.shape_inference import infer_shapes
from netbuilder.build.compile import build_module
from netbuilder.data.dataset import DataError, Dataset
from netbuilder.data.fit import data_problems
from netbuilder.data.sources import load_dataset
from netbuilder.errors import NetbuilderError, os_problem
from netbuilder.files.atomic import WriteError
from netbuilder.files.project import Project
from netbuilder.files.training_settings import SettingsError, TrainingSettings
from netbuilder.model.fingerprint import graph_fingerprint
from netbuilder.training.checkpoint import CheckpointError, read_metadata, resume, save_checkpoint
from netbuilder.training.distributed import DistContext
from netbuilder.training.events import Event, Failed
from netbuilder.training.history import RunHistory
from netbuilder.training.snapshot import SNAPSHOT_NAME, runs_beside, take_snapshot
from netbuilder.training.trainer import RunResult, Trainer


def runs_dir(project: Project, out: Path | None = None) -> Path:
    """Where runs of ``project`` go: ``out``, or a folder beside the project file."""
    if out is not None:
        return Path(out)
    if project.path is None:
        raise DataError("save the project first: its runs are stored beside the project file")
    return runs_beside(project.path)


def run_folder(runs_folder: Path, run_id: int) -> Path:
    """The folder of run ``run_id`` (its best/last checkpoints) inside a runs folder."""
    return Path(runs_folder) / f"run-{run_id:04d}"


def delete_run(runs_folder: Path, run_id: int) -> None:
    """Delete run ``run_id``: its rows in the history and its folder of checkpoints.

    A run still training is refused: stop it first. A run the history does not have, or whose
    folder is gone already, is not an error: what is left of it goes. The folder goes first, so
    a file the system refuses to delete (an OSError naming it) leaves the run in the history.
    """
    history = RunHistory(Path(runs_folder) / "history.sqlite")
    try:
        status = next((r.status for r in history.runs() if r.id == run_id), None)
        if status == "running":
            raise DataError(f"run {run_id} is still training: stop it first, then delete it")
        folder = run_folder(runs_folder, run_id)
        if folder.exists():
            shutil.rmtree(folder)
        history.delete(run_id)
    finally:
        history.close()


@dataclass
class PreparedRun:
    settings: TrainingSettings
    module: torch.nn.Module
    train: Dataset
    val: Dataset | None


def prepare(project: Project, overrides: dict[str, Any] | None = None,
            progress: Callable[[str, int, int], None] | None = None) -> PreparedRun:
    """Settings, data and model for a run, after every check; raises with all problems listed
    (the graph's and lint's first, then the settings', then the data's)."""
    inference = infer_shapes(project.graph)
    lint = [p for p in lint_project(project) if p.severity == "error"]
    problems = [p.message for p in (*inference.errors, *lint)]
    try:
        settings: TrainingSettings | None = TrainingSettings.from_dict({**project.training, **(overrides or {})})
    except SettingsError as exc:
        problems.append(str(exc))
        settings = None
    base = project.path.parent if project.path else None
    inputs = project.graph.of_kind("Input")
    shape = tuple(inputs[0].params["shape"]) if len(inputs) == 1 else None
    seed = settings.seed if settings is not None else 0
    dataset = val = None
    # Misspelt data options are among lint's problems already; loading would only repeat them.
    if not any(p.code == "data-settings" for p in lint):
        try:
            dataset = load_dataset(project.data, base, seed, shape, progress)
            # A separate validation set, when the project names one, replaces validation_split.
            separate = project.data.get("validation")
            val = load_dataset(separate, base, seed, shape, progress) if separate else None
        except DataError as exc:
            problems.append(str(exc))
    if not problems:  # fitting data to the model needs a model that infers and settings that hold
        assert settings is not None and dataset is not None
        problems = [p.message for d in (dataset, val) if d is not None
                    for p in data_problems(d, project.graph, inference, settings.loss, settings.metrics)
                    if p.severity == "error"]
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise DataError(f"cannot train '{project.name}' yet:\n{lines}")
    assert settings is not None and dataset is not None
    torch.manual_seed(settings.seed)
    module = build_module(project.graph, inference)
    if val is not None:
        return PreparedRun(settings, module, dataset, val)
    train, val = dataset.split(settings.validation_split, settings.seed)
    return PreparedRun(settings, module, train, val)


def train_project(project: Project, overrides: dict[str, Any] | None = None,
                  on_event: Callable[[Event], None] | None = None, out: Path | None = None,
                  resume_from: Path | None = None, dist: DistContext | None = None,
                  trainer_ready: Callable[[Trainer], None] | None = None,
                  progress: Callable[[str, int, int], None] | None = None) -> tuple[RunResult, Path | None]:
    """Train ``project``; returns the result and the run's folder (None on ranks other than 0).

    Rank 0 alone writes the history database and the ``best``/``last`` checkpoints.
    """
    dist = dist or DistContext()
    run = prepare(project, overrides, progress)
    callbacks = [on_event] if on_event else []
    failure: list[str] = []  # the message of a failed run, with what its folder keeps

    def report(event: Event) -> None:
        if isinstance(event, Failed) and run_dir is not None:
            # The trainer's words are about the module in this process; a user (the app's, the
            # command line's) has the run's files once it is gone, so the message says what they hold.
            event = replace(event, message=f"{event.message.rstrip('.')}. {kept_checkpoint(run_dir)}")
            failure.append(event.message)
        for callback in callbacks:
            callback(event)

    run_dir = None
    run_id = None
    history = None
    if dist.is_main:
        folder = runs_dir(project, out)
        history = RunHistory(folder / "history.sqlite")
        run_id = history.begin(project.name, graph_fingerprint(project.graph), run.settings.to_dict(), project.data)
        run_dir = run_folder(folder, run_id)
        run_dir.mkdir(parents=True, exist_ok=True)
        # The graph and settings this run trains, kept with its checkpoints: results and "load these
        # weights" read them later, whatever the project has become since.
        take_snapshot(project).save(run_dir / SNAPSHOT_NAME)
        callbacks.insert(0, history.recorder(run_id))

    def checkpoint(tag: str, trainer: Trainer, state) -> None:
        assert run_dir is not None
        path = run_dir / f"{tag}.safetensors"
        try:
            save_checkpoint(path, trainer, state, {"graph_hash": graph_fingerprint(project.graph),
                                                   "project": project.name, "run_id": run_id})
        except OSError as exc:  # a full disk, a folder gone or made read-only: the old file is untouched
            reason = exc.reason if isinstance(exc, WriteError) else os_problem(exc)
            raise CheckpointError(f"could not save the checkpoint {path}: {reason}") from exc

    trainer = Trainer(run.module, run.train, run.settings, run.val, on_event=report,
                      checkpoint=checkpoint if dist.is_main else None, dist=dist)
    trainer.run_id, trainer.run_dir = run_id, str(run_dir) if run_dir is not None else None
    if resume_from is not None:
        resume(Path(resume_from), trainer)
    if trainer_ready:
        trainer_ready(trainer)
    try:
        result = trainer.run()
    finally:
        if history is not None:
            history.close()
    if failure:
        result.message = failure[-1]
    return result, run_dir


def kept_checkpoint(run_dir: Path) -> str:
    """What run ``run_dir`` keeps of its weights, for the message of a run that failed."""
    path = Path(run_dir) / "last.safetensors"
    try:
        meta = read_metadata(path)
    except (NetbuilderError, OSError):
        return "The run had saved no checkpoint yet: train again to have one"
    epochs = f"{meta['epoch']} epoch{'s' if meta['epoch'] != 1 else ''} done"
    return f"The run keeps its last checkpoint, {path.name}, saved at step {meta['step']} ({epochs})"
