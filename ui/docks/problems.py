"""The problems dock: every error and warning; a click selects and centres the node."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDockWidget, QListWidget, QListWidgetItem, QStyle

from netbuilder.analysis.shape_inference import Problem
from ui.document import Document


def counted(n: int, noun: str) -> str:
    """``1 error``, ``2 errors``, ``0 warnings``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class ProblemsDock(QDockWidget):
    node_clicked = Signal(str)

    def __init__(self, document: Document) -> None:
        super().__init__("Problems")
        self.setObjectName("ProblemsDock")
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.setWidget(self.list)
        self.list.itemClicked.connect(self._clicked)
        self.run_problems: list[Problem] = []  # the last run's failure, beside the graph's problems
        self.set_document(document)

    def set_document(self, document: Document) -> None:
        self.document = document
        document.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        problems = [*self.run_problems, *self.document.problems()]
        for p in problems:
            icon = QStyle.StandardPixmap.SP_MessageBoxCritical if p.severity == "error" \
                else QStyle.StandardPixmap.SP_MessageBoxWarning
            item = QListWidgetItem(self.style().standardIcon(icon), p.message)
            item.setData(Qt.ItemDataRole.UserRole, p.node)
            self.list.addItem(item)
        errors = sum(p.severity == "error" for p in problems)
        self.setWindowTitle(f"Problems ({counted(errors, 'error')}, {counted(len(problems) - errors, 'warning')})"
                            if problems else "Problems (none)")

    def set_run_problems(self, problems: list[Problem]) -> None:
        """Show what went wrong in the last run (a failure, a NaN, out of memory) above the graph's problems."""
        self.run_problems = list(problems)
        self.refresh()

    def _clicked(self, item: QListWidgetItem) -> None:
        node = item.data(Qt.ItemDataRole.UserRole)
        if node:
            self.node_clicked.emit(node)
