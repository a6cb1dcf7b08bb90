"""Undoable edits of a project's own fields (name, description, data and training settings), beside the
graph's edits.

They live here, not in :mod:`netbuilder.model.edits`, because the Project is in ``files`` and the
model layer never imports it. Like the graph's edits, each has an exact inverse and a refused
one leaves the project as it was.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

from netbuilder.errors import EditRefused
from netbuilder.files.data_settings import data_settings_problems
from netbuilder.files.project import Project
from netbuilder.files.training_settings import SettingsError, TrainingSettings

DEFAULT_NAME = Project.name  # "Untitled": what a new project is called until it is named
MAX_NAME = 200  # the JSON Schema's limit (netbuilder/files/schema/project.schema.json)
MAX_DESCRIPTION = 20000


class ProjectEdit:
    """Base class: ``apply`` then ``revert`` leaves the project exactly as before."""

    text = "Edit project"

    def apply(self, project: Project) -> None:
        raise NotImplementedError

    def revert(self, project: Project) -> None:
        raise NotImplementedError


def project_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a project's name, or None when it can."""
    if not name.strip():
        return "a project needs a name: type one (it shows in the title bar and the runs' folder)"
    if len(name) > MAX_NAME:
        return f"a project's name has at most {MAX_NAME} characters; this one has {len(name)}: shorten it"
    if name != name.strip():
        return "a project's name cannot start or end with spaces: remove them"
    return None


class SetProjectInfo(ProjectEdit):
    """Set the project's name and/or description (None leaves that one as it is)."""

    def __init__(self, name: str | None = None, description: str | None = None) -> None:
        self.name = name
        self.description = description
        self._old: tuple[str, str] = ("", "")
        self.text = f"Rename project to '{name}'" if name is not None else "Edit project description"

    def apply(self, project: Project) -> None:
        if self.name is not None and (problem := project_name_problem(self.name)):
            raise EditRefused(problem)
        if self.description is not None and len(self.description) > MAX_DESCRIPTION:
            raise EditRefused(f"a project's description has at most {MAX_DESCRIPTION} characters; "
                              f"this one has {len(self.description)}: shorten it")
        self._old = (project.name, project.description)
        if self.name is not None:
            project.name = self.name
        if self.description is not None:
            project.description = self.description

    def revert(self, project: Project) -> None:
        project.name, project.description = self._old


# What the undo stack calls each training setting ("Set learning rate to 0.01").
SETTING_WORDS: dict[str, str] = {
    "loss": "loss", "optimizer": "optimizer", "learning_rate": "learning rate", "momentum": "momentum",
    "nesterov": "Nesterov momentum", "weight_decay": "weight decay", "l1": "L1 penalty", "schedule": "schedule",
    "step_size": "schedule step", "gamma": "schedule factor", "plateau_patience": "plateau patience",
    "batch_size": "batch size", "epochs": "epochs", "grad_clip": "gradient clipping",
    "validation_split": "validation split", "early_stopping_patience": "early stopping patience",
    "monitor": "monitored metric", "metrics": "metrics", "seed": "seed", "device": "device",
    "precision": "precision", "memory_format": "memory format", "threads": "threads",
    "report_every": "report interval",
}


def _shown(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def training_problem(training: dict[str, Any]) -> str | None:
    """Why these training settings cannot be trained with, or None when they can."""
    try:
        TrainingSettings.from_dict(training)
    except SettingsError as exc:
        return str(exc)
    except (TypeError, ValueError) as exc:  # a value of the wrong type for the comparisons
        return f"a training setting has a value of the wrong kind ({exc})"
    return None


class SetTraining(ProjectEdit):
    """Change some training settings at once. The result must hold as :class:`TrainingSettings`,
    or the edit is refused with the reason and nothing changes."""

    def __init__(self, changes: dict[str, Any]) -> None:
        if not changes:
            raise ValueError("SetTraining needs at least one change")
        self.changes = copy.deepcopy(dict(changes))
        self._old: dict[str, Any] = {}
        self._absent: list[str] = []
        parts = [f"{SETTING_WORDS.get(k, k)} to {_shown(v)}" for k, v in self.changes.items()]
        self.text = "Set " + (parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1])

    def apply(self, project: Project) -> None:
        result = {**project.training, **copy.deepcopy(self.changes)}
        if problem := training_problem(result):
            raise EditRefused(problem)
        self._old = {k: copy.deepcopy(project.training[k]) for k in self.changes if k in project.training}
        self._absent = [k for k in self.changes if k not in project.training]
        project.training.update(copy.deepcopy(self.changes))

    def revert(self, project: Project) -> None:
        project.training.update(copy.deepcopy(self._old))
        for k in self._absent:
            project.training.pop(k, None)


class SetData(ProjectEdit):
    """Replace the project's ``data`` object (which data set, its options, a separate validation set).

    A data set or option the loaders do not know is refused: it would only be reported later.
    Options must be plain JSON values, since they are saved in the project file.
    """

    def __init__(self, data: dict[str, Any], text: str | None = None) -> None:
        self.data = copy.deepcopy(dict(data))
        self.data.setdefault("options", {})
        self._old: dict[str, Any] = {}
        name = self.data.get("dataset") or ""
        self.text = text or (f"Use data set '{name}'" if name else "Clear the data set")

    def apply(self, project: Project) -> None:
        if problems := data_settings_problems(self.data):
            raise EditRefused(problems[0])
        try:
            json.dumps(self.data, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise EditRefused(f"data options must be plain values a project file can hold ({exc})") from None
        self._old = copy.deepcopy(project.data)
        project.data = copy.deepcopy(self.data)

    def revert(self, project: Project) -> None:
        project.data = copy.deepcopy(self._old)


class ProjectEdits(ProjectEdit):
    """Several project edits as one undo step (a data set and the loss it suggests). All or nothing."""

    def __init__(self, text: str, edits: Sequence[ProjectEdit]) -> None:
        self.text = text
        self.edits = list(edits)

    def apply(self, project: Project) -> None:
        done: list[ProjectEdit] = []
        try:
            for edit in self.edits:
                edit.apply(project)
                done.append(edit)
        except Exception:
            for edit in reversed(done):
                edit.revert(project)
            raise

    def revert(self, project: Project) -> None:
        for edit in reversed(self.edits):
            edit.revert(project)


__all__ = ["DEFAULT_NAME", "SETTING_WORDS", "ProjectEdit", "ProjectEdits", "SetData", "SetProjectInfo",
           "SetTraining", "project_name_problem", "training_problem"]
