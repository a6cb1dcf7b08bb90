"""The project's own name and description, the inspector's wording, and what a refused edit leaves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox

from netbuilder import Project
from netbuilder.model.edits import Disconnect
from ui.document import Document
from ui.main_window import MainWindow


@pytest.fixture
def save_answers(monkeypatch) -> list[Path]:
    """The save dialog answers the next queued path; message boxes are not shown."""
    paths: list[Path] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(paths.pop(0)), "")))
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a: None))
    return paths


def saved_name(path: Path) -> str:
    """The name in the file, as ``netbuilder summary`` prints it."""
    return json.loads(path.read_text(encoding="utf-8"))["name"]


def labels(win) -> list[str]:
    return [w.text() for w in win.inspector.widget().findChildren(QLabel)]


def commit(line) -> None:
    """Type into a field and press Enter, as a user does."""
    line.selectAll()
    QTest.keyClicks(line, line.property("typed"))
    QTest.keyClick(line, Qt.Key.Key_Return)


def type_into(line, text: str) -> None:
    line.setFocus()
    line.setProperty("typed", text)
    commit(line)


def test_save_as_names_an_untitled_project_after_its_file(qtbot, tmp_path, save_answers) -> None:
    win = MainWindow(Document(Project()))
    qtbot.addWidget(win)
    save_answers.append(tmp_path / "mnist_mine.nbproj")
    assert win.save_as()
    assert win.document.project.name == "mnist_mine"
    assert saved_name(tmp_path / "mnist_mine.nbproj") == "mnist_mine"
    assert win.inspector.editors["project_name"].text() == "mnist_mine"
    assert win.document.undo_stack.isClean() and not win.isWindowModified()


def test_save_as_keeps_a_name_the_project_has(window, tmp_path, save_answers) -> None:
    win = window()  # the digits CNN example, opened without a file
    name = win.document.project.name
    save_answers.append(tmp_path / "copy.nbproj")
    assert win.save_as()
    assert saved_name(tmp_path / "copy.nbproj") == name != "copy"


def test_with_nothing_selected_the_inspector_edits_the_projects_name_and_description_undoably(window) -> None:
    win = window()
    win.scene.clearSelection()
    old = win.document.project.name
    name = win.inspector.editors["project_name"]
    assert name.text() == old
    type_into(name, "My digits")
    assert win.document.project.name == "My digits" and win.isWindowModified()
    description = win.inspector.editors["project_description"]
    description.setPlainText("Digits, but mine.")
    description.editingFinished.emit()
    assert win.document.project.description == "Digits, but mine."
    assert win.document.undo_stack.count() == 2
    win.undo_action.trigger()
    win.undo_action.trigger()
    assert win.document.project.name == old and win.inspector.editors["project_name"].text() == old
    assert not win.isWindowModified()
    win.redo_action.trigger()
    assert win.document.project.name == "My digits" and win.inspector.editors["project_name"].text() == "My digits"


def test_an_empty_project_name_is_refused_and_the_field_shows_the_name_kept(window) -> None:
    win = window()
    win.scene.clearSelection()
    old = win.document.project.name
    name = win.inspector.editors["project_name"]
    name.setFocus()
    name.selectAll()
    QTest.keyClick(name, Qt.Key.Key_Backspace)
    assert name.property("problem")  # red while typed, with the reason
    QTest.keyClick(name, Qt.Key.Key_Return)
    assert win.document.project.name == old and name.text() == old
    assert "needs a name" in win.statusBar().currentMessage()
    assert win.document.undo_stack.count() == 0


def test_a_refused_rename_puts_the_kept_name_back_in_the_field(window) -> None:
    win = window()
    conv1 = win.document.project.graph.by_name("conv1")
    win.scene.select_nodes([conv1.id])
    name = win.inspector.editors["name"]
    type_into(name, "relu1")  # another layer's name
    assert conv1.name == "conv1" and win.inspector.editors["name"].text() == "conv1"
    assert "relu1" in win.statusBar().currentMessage()


def test_the_output_nodes_inspector_says_what_the_model_returns(window) -> None:
    win = window()
    win.scene.select_nodes([win.document.project.graph.by_name("logits").id])
    shown = labels(win)
    assert "[N, 10]" in shown and "—" not in shown


def test_the_problems_title_counts_in_the_singular_and_the_plural(window) -> None:
    win = window("linear_regression")
    graph = win.document.project.graph
    linear = graph.by_name("linear").id
    assert win.document.push(Disconnect(graph.in_edges(linear)["in"]))
    problems = win.document.problems()
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    assert errors == 1, [p.message for p in problems]
    assert win.problems.windowTitle() == f"Problems (1 error, {warnings} warning{'' if warnings == 1 else 's'})"


def test_the_examples_are_titled_by_what_they_are_and_cite_the_teaching_texts_section(window) -> None:
    win = window()
    examples = win.recent_menu.example_actions  # File ▸ Open Recent, under "Examples"
    titles = [a.text() for a in examples]
    assert titles == ["Linear regression", "Logistic regression", "Softmax regression", "Digits CNN",
                      "LSTM sequence classifier"]
    for action, section in zip(examples, ("4.1", "4.2", "4.3", "4.4", "4.5"), strict=True):
        assert f"§{section}" in action.statusTip() and "seed" not in action.statusTip()
