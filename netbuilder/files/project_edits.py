"""Undoable edits of a project's own fields (its name and description), beside the graph's edits.

They live here, not in :mod:`netbuilder.model.edits`, because the Project is in ``files`` and the
model layer never imports it. Like the graph's edits, each has an exact inverse and a refused
one leaves the project as it was.
"""

from __future__ import annotations

from netbuilder.errors import EditRefused
from netbuilder.files.project import Project

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


__all__ = ["DEFAULT_NAME", "ProjectEdit", "SetProjectInfo", "project_name_problem"]
