"""The Data dock: picking a data set is one undo step (with the loss its targets need), a CSV's columns
are picked from its header, the preview shows what was read, and the data is checked against the graph."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from netbuilder import Project, load_project
from netbuilder.data.cache import DATA_CACHE
from netbuilder.examples import example_path
from ui import theme
from ui.docks.data_dock import DataDock
from ui.document import Document


@pytest.fixture
def dock(qtbot):
    def make(project: Project | None = None) -> DataDock:
        made = DataDock(Document(project or Project()))
        qtbot.addWidget(made)
        made.resize(320, 700)
        made.show()
        return made

    return make


def choose(combo, data) -> None:
    """Pick the item holding ``data`` as a user does (``activated`` fires)."""
    k = combo.findData(data)
    assert k >= 0, data
    combo.setCurrentIndex(k)
    combo.activated.emit(k)


def test_picking_digits_sets_the_data_and_the_loss_in_one_undo_step(dock) -> None:
    d = dock()
    document = d.document
    choose(d.dataset_combo, "digits")
    assert document.project.data == {"dataset": "digits", "options": {}}
    assert document.project.training["loss"] == "cross_entropy"
    assert "cross_entropy, because the targets are class numbers (10 classes)" in d.note.text()
    assert d.note.isVisible()
    assert document.undo_stack.count() == 1 and document.undo_stack.text(0) == "Use data set 'digits'"
    assert len(d.thumbnails) == 8 and d.shown_preview.train_size == 1438
    document.undo_stack.undo()
    assert document.project.data == {"dataset": "", "options": {}}
    assert document.project.training["loss"] == "mse"
    assert d.dataset_combo.currentData() == ""
    document.undo_stack.redo()
    assert d.dataset_combo.currentData() == "digits"


def test_an_image_set_is_resized_to_the_inputs_shape(dock) -> None:
    project = load_project(example_path("mnist_cnn"))
    project.data = {"dataset": "", "options": {}}
    d = dock(project)
    choose(d.dataset_combo, "digits")
    assert project.data["options"] == {"resize": [28, 28]}
    assert project.training["loss"] == "cross_entropy"  # the example's own: kept, and nothing said
    assert not d.note.text()
    assert d.document.problems() == []


def test_a_csv_file_is_trains_ready_with_columns_picked_and_its_preview_shows_rows(dock, tmp_path,
                                                                                   monkeypatch) -> None:
    table = tmp_path / "houses.csv"
    table.write_text("rooms,area,age,price\n" + "".join(f"{k % 5 + 1},{50 + 7 * k},{k % 30},{100 + 3.5 * k}\n"
                                                        for k in range(40)))
    project = Project()
    project.path = tmp_path / "houses.nbproj"
    d = dock(project)
    choose(d.dataset_combo, "csv")
    assert project.data == {"dataset": "csv", "options": {}}
    assert "needs the option 'path'" in d.error.text() and d.error.isVisible()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(table), "")))
    d.fields["path_choose"].click()
    assert project.data["options"] == {"path": "houses.csv"}  # inside the project's folder: stored relative
    assert project.training["loss"] == "mse"  # price is a real number
    assert d.fields["target"].currentText() == "price"
    columns = d.fields["features"]
    assert [columns.item(k).text() for k in range(columns.count())] == ["rooms", "area", "age", "price"]
    columns.item(2).setCheckState(Qt.CheckState.Unchecked)  # leave out the age
    assert project.data["options"] == {"path": "houses.csv", "target": "price", "features": ["rooms", "area"]}
    assert d.preview_table is not None and d.preview_table.rowCount() == 6
    assert [d.preview_table.horizontalHeaderItem(c).text() for c in range(3)] == ["rooms", "area", "target"]
    assert d.preview_table.item(1, 1).text() == "57"
    assert not d.error.isVisible()
    d.document.undo_stack.undo()
    assert project.data["options"] == {"path": "houses.csv"}
    assert d.fields["features"].item(2).checkState() == Qt.CheckState.Checked


def test_a_typed_path_that_does_not_exist_shows_the_error_in_red(dock, tmp_path, qtbot) -> None:
    d = dock()
    choose(d.dataset_combo, "csv")
    line = d.fields["path"]
    line.setText(str(tmp_path / "nothing.csv"))
    line.editingFinished.emit()
    assert d.document.project.data["options"]["path"].endswith("nothing.csv")
    assert "no such file" in d.error.text() and theme.tone("error").name() in d.error.styleSheet()


def test_the_validation_split_and_a_separate_set_are_undoable(dock) -> None:
    project = Project()
    project.data = {"dataset": "digits", "options": {}}
    d = dock(project)
    d.fields["validation_split"].setValue(0.5)
    assert project.training["validation_split"] == 0.5
    assert d.shown_preview.validation_size == 898
    d.fields["separate"].setChecked(True)
    assert project.data["validation"] == {"dataset": "digits", "options": {}}
    assert d.document.undo_stack.count() == 2
    d.document.undo_stack.undo()
    assert "validation" not in project.data and d.fields["hold_out"].isChecked()


def test_data_that_does_not_fit_the_graph_is_a_problem(dock) -> None:
    project = load_project(example_path("mnist_cnn"))
    document = Document(project)
    assert document.problems() == []
    from netbuilder.files.project_edits import SetData

    assert document.push(SetData({"dataset": "seed-linear"}))
    messages = [p.message for p in document.problems()]
    assert any("Input 'image' expects [N, 1, 28, 28]" in m for m in messages), messages
    assert document.push(SetData({"dataset": "csv", "options": {"path": "/nowhere/at/all.csv"}}))
    broken = [p for p in document.problems() if p.code == "data-load"]
    assert len(broken) == 1 and "no such file" in broken[0].message
    loads = DATA_CACHE.loads
    for _ in range(3):
        document.problems()
    assert DATA_CACHE.loads == loads  # checked on every edit without reading the data again


def test_screenshot(dock) -> None:
    d = dock(load_project(example_path("mnist_cnn")))
    d.grab().save("/tmp/data_dock.png")
