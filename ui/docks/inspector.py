"""The inspector: typed editors for the selected node's parameters, and what the node computes;
with nothing selected, the project's name and description."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QWidget,
)

from netbuilder.analysis.summary import node_row
from netbuilder.files.project_edits import SetProjectInfo, project_name_problem
from netbuilder.layers.spec import ParamSpec
from netbuilder.model.edits import Rename, SetFrozen, SetParams
from ui import theme
from ui.document import Document

INT_MAX = 2**31 - 1
INVALID_STYLE = "QLineEdit { border: 2px solid {colour}; }"


def check_as_typed(line: QLineEdit, problem: Callable[[str], str | None], form: QFormLayout) -> None:
    """While the text of ``line`` is not acceptable, mark it red and say why in a line under it."""
    plain_tip = line.toolTip()
    reason_label = QLabel()
    reason_label.setWordWrap(True)
    theme.use_tone(reason_label, "error")
    reason_label.hide()
    form.addRow("", reason_label)

    def recheck(text: str) -> None:
        reason = problem(text)
        theme.use_tone(line, "error" if reason else None, INVALID_STYLE)
        line.setToolTip(reason or plain_tip)
        line.setProperty("problem", reason or "")
        reason_label.setText(reason or "")
        reason_label.setVisible(bool(reason))

    line.textChanged.connect(recheck)


def _json_problem(spec: ParamSpec, text: str) -> str | None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return f"{spec.name}: '{text}' is not a value; write e.g. 3 or [3, 3]"
    reason = spec.check(value)
    return f"{spec.name} {reason}" if reason else None


class DescriptionEdit(QPlainTextEdit):
    """A text box that says when the user leaves it, like QLineEdit's ``editingFinished``."""

    editingFinished = Signal()

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        self.editingFinished.emit()


def _wrapped(text: str) -> QLabel:
    """A value that wraps in a narrow dock rather than running past its edge (the form scrolls otherwise)."""
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class InspectorDock(QDockWidget):
    def __init__(self, document: Document) -> None:
        super().__init__("Inspector")
        self.setObjectName("InspectorDock")
        self.node_id: str | None = None
        self.editors: dict[str, QWidget] = {}
        self.set_document(document)

    def set_document(self, document: Document) -> None:
        self.document = document
        document.changed.connect(self._refresh)
        self.show_node(None)

    def _refresh(self) -> None:
        if self.node_id is not None and self.node_id not in self.document.project.graph.nodes:
            self.node_id = None
        self.show_node(self.node_id)

    def show_node(self, node_id: str | None) -> None:
        self.node_id = node_id
        body = QWidget()
        form = QFormLayout(body)
        self.editors = {}
        if node_id is None:
            self._show_project(form)
            self._show(body)
            return
        graph = self.document.project.graph
        node = graph.node(node_id)
        name = QLineEdit(node.name)

        def rename() -> None:
            if name.text() != node.name and not self.document.push(Rename(node_id, name.text())):
                name.setText(node.name)  # refused: the status bar says why; the field shows the name it kept

        name.editingFinished.connect(rename)
        form.addRow("Name", name)
        check_as_typed(name, lambda text: None if text == node.name else graph.rename_problem(node_id, text), form)
        self.editors["name"] = name
        doc = QLabel(f"<b>{node.kind}</b>: {node.spec.doc}")
        doc.setWordWrap(True)
        form.addRow(doc)
        for spec in node.spec.params:
            editor = self._editor(spec, node.params[spec.name])
            editor.setToolTip(spec.doc)
            self.editors[spec.name] = editor
            form.addRow(spec.name, editor)
            if isinstance(editor, QLineEdit):
                check_as_typed(editor, lambda text, spec=spec: _json_problem(spec, text), form)
        row = node_row(graph, self.document.inference, node_id)
        info = self.document.inference.info(node_id)
        if node.kind == "Output":  # it has no output port: what it shows is what the model returns
            returns = ", ".join(str(t) for t in info.inputs.values()) if info.inputs else "—"
            form.addRow("Returns", _wrapped(returns))
        else:
            form.addRow("Output", _wrapped(row.output))
        # A layer reaching no Output is left out of the compiled model: its weights would never train.
        counted = "" if row.compiled else " (not in the model: it reaches no Output)"
        form.addRow("Parameters", _wrapped(f"{row.params:,}{counted}"))
        if row.params or node.frozen:  # weights to keep as they are while training (fine-tuning the rest)
            frozen = QCheckBox("keep weights")  # short: a wide row made the dock scroll sideways
            frozen.setChecked(node.frozen)
            frozen.setToolTip("Frozen: the optimizer leaves this layer's weights as they are (no gradient is "
                              "computed for them); the other layers train")
            frozen.toggled.connect(lambda on: self.document.push(SetFrozen(node_id, on)))
            self.editors["frozen"] = frozen
            form.addRow("Frozen", frozen)
        form.addRow("Multiply-adds", _wrapped(f"{row.macs:,} per sample"))
        if info.problem is not None:
            problem = QLabel(info.problem.message)
            theme.use_tone(problem, "error")
            problem.setWordWrap(True)
            form.addRow(problem)
        self._show(body)

    def _show(self, body: QWidget) -> None:
        """Show ``body`` in a scroll area: a form wider (or taller) than the dock scrolls rather than widening
        the dock, which made the canvas jump each time a layer with wide editors was selected."""
        scroll = self.widget()
        if not isinstance(scroll, QScrollArea):
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            self.setWidget(scroll)
        old = scroll.takeWidget()
        scroll.setWidget(body)
        if old is not None:
            old.deleteLater()

    def _show_project(self, form: QFormLayout) -> None:
        """The project's name and description, each change one undo step."""
        project = self.document.project
        intro = QLabel("Select a layer to edit it. The project:")
        intro.setWordWrap(True)
        form.addRow(intro)
        name = QLineEdit(project.name)
        name.setToolTip("The project's name: the title bar, the examples list and the runs' folder show it")

        def rename() -> None:
            if name.text() != project.name and not self.document.push(SetProjectInfo(name=name.text())):
                name.setText(project.name)  # refused: the status bar says why

        name.editingFinished.connect(rename)
        form.addRow("Project", name)
        check_as_typed(name, lambda text: None if text == project.name else project_name_problem(text), form)
        self.editors["project_name"] = name
        description = DescriptionEdit()
        description.setPlainText(project.description)
        description.setPlaceholderText("What this network is for, and what to watch when it trains")
        description.editingFinished.connect(
            lambda: description.toPlainText() != project.description
            and self.document.push(SetProjectInfo(description=description.toPlainText())))
        form.addRow("Description", description)
        self.editors["project_description"] = description

    def _set(self, name: str, value: Any) -> None:
        node = self.document.project.graph.node(self.node_id)
        if node.params.get(name) != value:
            self.document.push(SetParams(self.node_id, {name: value}))

    def _editor(self, spec: ParamSpec, value: Any) -> QWidget:
        if spec.kind == "int":
            box = QSpinBox()
            box.setRange(int(spec.minimum if spec.minimum is not None else -INT_MAX),
                         int(min(spec.maximum if spec.maximum is not None else INT_MAX, INT_MAX)))
            box.setValue(value)
            box.setKeyboardTracking(False)  # one edit when typing is done, not one per digit
            box.valueChanged.connect(lambda v, n=spec.name: self._set(n, v))
            return box
        if spec.kind == "float":
            box = QDoubleSpinBox()
            box.setDecimals(6)
            box.setRange(spec.minimum if spec.minimum is not None else -1e9,
                         spec.maximum if spec.maximum is not None else 1e9)
            box.setSingleStep(0.01)
            box.setValue(value)
            box.setKeyboardTracking(False)
            box.valueChanged.connect(lambda v, n=spec.name: self._set(n, v))
            return box
        if spec.kind == "bool":
            check = QCheckBox()
            check.setChecked(value)
            check.toggled.connect(lambda v, n=spec.name: self._set(n, v))
            return check
        if spec.kind == "choice":
            combo = QComboBox()
            combo.addItems([str(c) for c in spec.choices])
            combo.setCurrentText(str(value))
            combo.currentTextChanged.connect(lambda v, n=spec.name: self._set(n, v))
            return combo
        # Lists and "int or pair" values: typed as JSON, e.g. [1, 28, 28] or 3 or null.
        line = QLineEdit(json.dumps(value))
        line.setPlaceholderText(spec.kind)

        def commit(line=line, spec=spec) -> None:
            if problem := _json_problem(spec, line.text()):
                self.document.refused.emit(problem)  # the status bar says why; the field stays red
                return
            self._set(spec.name, json.loads(line.text()))

        line.editingFinished.connect(commit)
        return line
