"""The open project: the engine's Project, its incremental shape inference, and one undo stack.

Every change to the graph goes through :meth:`Document.push`, which wraps an engine edit
in a QUndoCommand. The document holds no graph state of its own: views read the Project.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from netbuilder.analysis.lint import lint_project
from netbuilder.analysis.shape_inference import Problem, ShapeInference
from netbuilder.errors import EditRefused
from netbuilder.files.project import Project, load_project
from netbuilder.files.project_edits import DEFAULT_NAME, ProjectEdit
from netbuilder.model.edits import Edit


class EditCommand(QUndoCommand):
    """An engine edit on the undo stack. Its first redo is the apply that already happened."""

    def __init__(self, document: Document, edit: Edit | ProjectEdit) -> None:
        super().__init__(edit.text)
        self._document = document
        self._edit = edit
        self._applied = True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self._edit.apply(self._document.target(self._edit))
        self._document.changed.emit()

    def undo(self) -> None:
        self._edit.revert(self._document.target(self._edit))
        self._document.changed.emit()


class Document(QObject):
    """A project being edited. ``changed`` fires after every edit, undo and redo."""

    changed = Signal()
    refused = Signal(str)

    def __init__(self, project: Project | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project or Project()
        self.inference = ShapeInference(self.project.graph)
        self.undo_stack = QUndoStack(self)

    @classmethod
    def open(cls, path: str | Path, parent: QObject | None = None) -> Document:
        return cls(load_project(path), parent)

    def target(self, edit: Edit | ProjectEdit) -> Any:
        """What ``edit`` changes: the project itself for a :class:`ProjectEdit`, else its graph."""
        return self.project if isinstance(edit, ProjectEdit) else self.project.graph

    def push(self, edit: Edit | ProjectEdit) -> bool:
        """Apply ``edit``; on success it goes on the undo stack. A refusal emits ``refused`` with the reason."""
        try:
            edit.apply(self.target(edit))
        except EditRefused as exc:
            self.refused.emit(str(exc))
            return False
        self.undo_stack.push(EditCommand(self, edit))
        self.changed.emit()
        return True

    def problems(self) -> list[Problem]:
        return [*self.inference.problems, *lint_project(self.project)]

    def save(self, path: str | Path | None = None) -> Path:
        """Save (to ``path``, or where it was loaded from). A project still called "Untitled" takes
        the file's name, so the title bar, the CLI and the runs' folder name it alike; a project
        that has a name (an example's, or one the user gave) keeps it under any file name."""
        renamed = path is not None and self.project.name == DEFAULT_NAME
        old_name = self.project.name
        if renamed:
            self.project.name = Path(path).stem or DEFAULT_NAME
        try:
            saved = self.project.save(path)
        except Exception:
            self.project.name = old_name  # nothing was written: the project stays as it was
            raise
        self.undo_stack.setClean()
        if renamed:
            self.changed.emit()
        return saved
