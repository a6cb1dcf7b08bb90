"""The problems dock: every error and warning; a click selects and centres the node; a problem whose
message names its fix has a button under it that applies the fix as one undo step."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QStyle,
    QWidget,
)

from netbuilder.analysis.quick_fixes import QuickFix
from netbuilder.analysis.shape_inference import Problem
from ui.document import Document
from ui.quick_fixes import all_fixes, apply_fix, fix_text

NODE_ROLE = Qt.ItemDataRole.UserRole
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's index in ProblemsDock.rows
FIX_INDENT = 24  # a fix's button sits under its problem's text, past the icon


def counted(n: int, noun: str) -> str:
    """``1 error``, ``2 errors``, ``0 warnings``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class ProblemsDock(QDockWidget):
    """``node_clicked(id)`` when a problem (or Select Node) asks for its node to be selected.

    ``rows`` holds what the list shows: each problem with its fixes. ``select_node_action`` selects
    the current problem's node; the window puts it in the Layer menu too.
    """

    node_clicked = Signal(str)
    fixed = Signal(object)  # a QuickFix went through (the window shows its layer, gives the canvas the focus)

    def __init__(self, document: Document) -> None:
        super().__init__("Problems")
        self.setObjectName("ProblemsDock")
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setWidget(self.list)
        self.list.itemClicked.connect(self._clicked)
        self.list.itemDoubleClicked.connect(self._clicked)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.list.currentItemChanged.connect(lambda *_: self._update_select_action())
        self.select_node_action = QAction("Select the Problem's &Layer", self)
        self.select_node_action.setStatusTip("Select and centre the layer of the problem chosen in the Problems list")
        self.select_node_action.triggered.connect(self._select_current)
        self.run_problems: list[Problem] = []  # the last run's failure, beside the graph's problems
        self.rows: list[tuple[Problem, list[QuickFix]]] = []
        self.set_document(document)

    def set_document(self, document: Document) -> None:
        self.document = document
        document.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        problems = [*self.run_problems, *self.document.problems()]
        found = all_fixes(self.document, problems[len(self.run_problems):])
        # Errors before warnings (a warning listed first hid the error under it); else in the engine's order.
        found = sorted(found, key=lambda row: row[0].severity != "error")
        self.rows = [(p, []) for p in self.run_problems] + found
        for index, (p, fixes) in enumerate(self.rows):
            icon = QStyle.StandardPixmap.SP_MessageBoxCritical if p.severity == "error" \
                else QStyle.StandardPixmap.SP_MessageBoxWarning
            item = QListWidgetItem(self.style().standardIcon(icon), p.message)
            item.setData(NODE_ROLE, p.node)
            item.setData(ROW_ROLE, index)
            self.list.addItem(item)
            for fix in fixes:
                self._add_fix_row(index, p, fix)
        errors = sum(p.severity == "error" for p in problems)
        self.setWindowTitle(f"Problems ({counted(errors, 'error')}, {counted(len(problems) - errors, 'warning')})"
                            if problems else "Problems (none)")
        self._update_select_action()

    def _add_fix_row(self, index: int, problem: Problem, fix: QuickFix) -> None:
        item = QListWidgetItem()
        item.setData(NODE_ROLE, problem.node)
        item.setData(ROW_ROLE, index)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # the button takes the click; the row is not a problem to select
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(FIX_INDENT, 0, 4, 3)
        button = QPushButton(fix_text(fix))
        button.setToolTip(f"{fix.label}: one step, Ctrl+Z undoes it")
        button.clicked.connect(lambda _checked=False, f=fix: self.apply(f))
        layout.addWidget(button)
        layout.addStretch(1)
        item.setSizeHint(row.sizeHint())
        self.list.addItem(item)
        self.list.setItemWidget(item, row)

    def fix_buttons(self) -> list[QPushButton]:
        """The fix buttons, in the list's order."""
        found = []
        for k in range(self.list.count()):
            widget = self.list.itemWidget(self.list.item(k))
            if widget is not None:
                found.append(widget.findChild(QPushButton))
        return found

    def apply(self, fix: QuickFix) -> None:
        """Apply ``fix`` once the click that asked for it is over: the edit rebuilds this list, button included.

        The rebuild deletes the focused button, and Qt hands the focus to the next widget in the chain (the
        Inspector's Name field, its text selected: Ctrl+Z undid the field, typing renamed the layer); ``fixed``
        lets the window give it to the canvas, where the fix shows, instead."""
        def run() -> None:
            if apply_fix(self.document, fix):
                self.fixed.emit(fix)
        QTimer.singleShot(0, self, run)

    def set_run_problems(self, problems: list[Problem]) -> None:
        """Show what went wrong in the last run (a failure, a NaN, out of memory) above the graph's problems."""
        self.run_problems = list(problems)
        self.refresh()

    def _clicked(self, item: QListWidgetItem) -> None:
        node = item.data(NODE_ROLE)
        if node:
            self.node_clicked.emit(node)

    # ---- the current problem ---------------------------------------------------------------
    def current_row(self) -> tuple[Problem, list[QuickFix]] | None:
        item = self.list.currentItem()
        index = item.data(ROW_ROLE) if item is not None else None
        return self.rows[index] if index is not None and index < len(self.rows) else None

    def _update_select_action(self) -> None:
        row = self.current_row()
        self.select_node_action.setEnabled(bool(row and row[0].node))

    def _select_current(self) -> None:
        row = self.current_row()
        if row is not None and row[0].node:
            self.node_clicked.emit(row[0].node)

    def problem_menu(self, row: int) -> QMenu:
        """The context menu of the problem in ``rows[row]``: its fixes, then Select the Problem's Layer."""
        _problem, fixes = self.rows[row]
        menu = QMenu(self)
        for fix in fixes:
            action = menu.addAction(fix_text(fix))
            action.triggered.connect(lambda _checked=False, f=fix: self.apply(f))
        if fixes:
            menu.addSeparator()
        menu.addAction(self.select_node_action)
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None or item.data(ROW_ROLE) is None:
            return
        row = item.data(ROW_ROLE)
        problem_item = next(self.list.item(k) for k in range(self.list.count())
                            if self.list.item(k).data(ROW_ROLE) == row)
        self.list.setCurrentItem(problem_item)  # Select the Problem's Layer acts on this one
        menu = self.problem_menu(row)
        menu.exec(self.list.viewport().mapToGlobal(pos))
        menu.deleteLater()
