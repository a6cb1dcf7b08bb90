"""The generated PyTorch code of the project, with one layer's line highlighted and scrolled to.

The code is the engine's own export (:func:`netbuilder.build.codegen.generate_source`), so what
the user reads is what File ▸ Export ▸ PyTorch code writes. Each line of ``forward`` ends in a
comment naming its layer (``# Linear 'fc1' -> [N, 10]``), which is how a layer finds its line.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontDatabase, QTextCursor, QTextFormat
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget

from netbuilder.files.project import Project

HIGHLIGHT = QColor("#fff59d")  # a marker-pen yellow; the code stays black on it in both themes


def node_line(source: str, project: Project, node_id: str) -> int | None:
    """The 0-based line of ``source`` that computes node ``node_id`` (an Input: ``forward``'s signature;
    an Output: the ``return``), or None when ``forward`` does not compute it."""
    node = project.graph.node(node_id)
    lines = source.splitlines()
    if node.kind == "Input":
        wanted = lambda line: line.lstrip().startswith("def forward(") and node.name in line  # noqa: E731
    elif node.kind == "Output":
        wanted = lambda line: line.lstrip().startswith("return ")  # noqa: E731
    else:
        tag = f"# {node.kind} '{node.name}' ->"
        wanted = lambda line: tag in line  # noqa: E731
    return next((k for k, line in enumerate(lines) if wanted(line)), None)


class CodeDialog(QDialog):
    """A read-only view of the generated code; :meth:`show_node` (re)generates it and marks a layer's line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Generated PyTorch code")
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.code = QPlainTextEdit()
        self.code.setReadOnly(True)
        self.code.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.code.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.code, 1)
        layout.addWidget(buttons)
        self.resize(900, 560)
        self.line: int | None = None  # the highlighted line, 0-based

    def show_node(self, project: Project, node_id: str) -> None:
        from netbuilder.build.codegen import generate_source
        from netbuilder.errors import NetbuilderError

        node = project.graph.node(node_id)
        try:
            source = generate_source(project)
        except NetbuilderError as exc:
            self.code.setPlainText("")
            self.note.setText(f"No code yet: {exc}")
            self.line = None
        else:
            self.code.setPlainText(source)
            self.line = node_line(source, project, node_id)
            self.note.setText(f"{node.kind} '{node.name}' is the highlighted line of forward." if self.line is not None
                              else f"{node.kind} '{node.name}' leads to no Output, so forward does not compute it.")
        self._highlight()
        self.show()
        self.raise_()
        self.activateWindow()

    def _highlight(self) -> None:
        if self.line is None:
            self.code.setExtraSelections([])
            return
        block = self.code.document().findBlockByLineNumber(self.line)
        cursor = QTextCursor(block)
        marked = QTextEdit.ExtraSelection()
        marked.format.setBackground(HIGHLIGHT)
        marked.format.setForeground(QColor("#000000"))
        marked.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        marked.cursor = cursor
        self.code.setExtraSelections([marked])
        self.code.setTextCursor(cursor)
        self.code.centerCursor()
        self.code.setFocus(Qt.FocusReason.OtherFocusReason)

    def highlighted_text(self) -> str:
        """The text of the highlighted line ('' when none)."""
        if self.line is None:
            return ""
        return self.code.document().findBlockByLineNumber(self.line).text()
