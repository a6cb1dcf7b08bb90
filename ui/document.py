"""The open project: the engine's Project, its incremental shape inference, and one undo stack.

Every change to the graph goes through :meth:`Document.push`, which wraps an engine edit
in a QUndoCommand. The document holds no graph state of its own: views read the Project.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from netbuilder.analysis.lint import lint_project
from netbuilder.analysis.shape_inference import Problem, ShapeInference
from netbuilder.errors import EditRefused
from netbuilder.files.project import Project, load_project
from netbuilder.model.edits import Edit


class EditCommand(QUndoCommand):
    """An engine edit on the undo stack. Its first redo is the apply that already happened."""

    def __init__(self, document: Document, edit: Edit) -> None:
        super().__init__(edit.text)
        self._document = document
        self._edit = edit
        self._applied = True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self._edit.apply(self._document.project.graph)
        self._document.changed.emit()

    def undo(self) -> None:
        self._edit.revert(self._document.project.graph)
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

    def push(self, edit: Edit) -> bool:
        """Apply ``edit``; on success it goes on the undo stack. A refusal emits ``refused`` with the reason."""
        try:
            edit.apply(self.project.graph)
        except EditRefused as exc:
            self.refused.emit(str(exc))
            return False
        self.undo_stack.push(EditCommand(self, edit))
        self.changed.emit()
        return True

    def problems(self) -> list[Problem]:
        return [*self.inference.problems, *lint_project(self.project)]

    def save(self, path: str | Path | None = None) -> Path:
        saved = self.project.save(path)
        self.undo_stack.setClean()
        return saved
