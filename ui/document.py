"""The open project: the engine's Project, its incremental shape inference, and one undo stack.

Every change to the graph goes through :meth:`Document.push`, which wraps an engine edit
in a QUndoCommand. The document holds no graph state of its own: views read the Project.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from netbuilder.analysis.lint import lint_project
from netbuilder.analysis.shape_inference import Problem, ShapeInference
from netbuilder.errors import EditRefused
from netbuilder.files.project import Project, load_project
from netbuilder.files.project_edits import DEFAULT_NAME, ProjectEdit
from netbuilder.model.edits import Edit
from ui.startup import torch_loaded


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
        # The weights the app's model holds after training: the checkpoint of the last run that kept weights, and
        # its words ("run 2's best weights"). Exports carry them; None: the project's own weights (beside it).
        self.trained_weights: tuple[Path, str] | None = None
        # The last data-vs-graph check: (data set, loss, metrics, graph fingerprint) and its problems. A whole
        # MNIST takes ~100 ms to scan for NaN; an edit that changes none of these (a move, a rename of the
        # project) reuses the answer.
        self._fit_memo: dict[str, tuple[tuple[Any, ...], list[Problem]]] = {}
        # What several views ask after one change (the problems, their fixes), computed once for all of them:
        # kept until the next change, or the next turn of the event loop (a data file changed on disk since).
        self._turn_memo: dict[str, Any] = {}
        self.changed.connect(self._turn_memo.clear)  # connected first: cleared before any view asks again

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

    def memo(self, key: str, compute: Any) -> Any:
        """``compute()``, once per change and event-loop turn however many views ask (the Problems dock, the
        canvas's fix badges, the Run controls after an edit)."""
        if key not in self._turn_memo:
            if not self._turn_memo:
                QTimer.singleShot(0, self, self._turn_memo.clear)
            self._turn_memo[key] = compute()
        return self._turn_memo[key]

    def problems(self) -> list[Problem]:
        """The graph's, lint's, and the data's problems (the data checked against the graph and the loss).

        Called after every edit, by several views: computed once per change (:meth:`memo`); the data sets come
        from :data:`DATA_CACHE`, read once per change of data settings or files.
        """
        return list(self.memo("problems", self._problems))

    def _problems(self) -> list[Problem]:
        lint = lint_project(self.project)
        found = [*self.inference.problems, *lint]
        # The data is checked once torch is in (never before the first paint: see ui/startup.py).
        if self.project.data.get("dataset") and torch_loaded() and not any(p.code == "data-settings" for p in lint):
            found += self._data_problems()
        return found

    def _data_problems(self) -> list[Problem]:
        from netbuilder.data.project_check import project_data_problems

        return project_data_problems(self.project, self.inference, self._fit_memo)

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
