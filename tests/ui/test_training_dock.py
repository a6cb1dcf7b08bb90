"""The Training dock: each change one undo step; a refused value says why under its field and changes nothing."""

from __future__ import annotations

import copy

import pytest
from PySide6.QtCore import Qt

from netbuilder import load_project
from netbuilder.examples import example_path
from ui.docks.training_dock import TrainingDock
from ui.document import Document


@pytest.fixture
def dock(qtbot) -> TrainingDock:
    made = TrainingDock(Document(load_project(example_path("mnist_cnn"))))
    qtbot.addWidget(made)
    made.resize(320, 700)
    made.show()
    qtbot.waitExposed(made)
    return made


def choose(combo, data) -> None:
    k = combo.findData(data)
    assert k >= 0, data
    combo.setCurrentIndex(k)
    combo.activated.emit(k)


def test_setting_the_learning_rate_is_one_undo_step(dock) -> None:
    document = dock.document
    rate = dock.editors["learning_rate"]
    rate.setValue(0.01)
    assert document.project.training["learning_rate"] == 0.01
    assert document.undo_stack.count() == 1 and document.undo_stack.text(0) == "Set learning rate to 0.01"
    document.undo_stack.undo()
    assert document.project.training["learning_rate"] == 0.001 and rate.value() == 0.001


def test_monitoring_a_metric_not_computed_is_refused_with_the_reason_under_the_field(dock) -> None:
    document = dock.document
    dock.editors["metrics"].item(1).setCheckState(Qt.CheckState.Unchecked)  # accuracy off
    assert document.project.training["metrics"] == ["loss"]
    before = copy.deepcopy(document.project.training)
    choose(dock.editors["monitor"], "accuracy")
    assert document.project.training == before and document.undo_stack.count() == 1
    reason = dock.reasons["monitor"]
    assert reason.isVisible() and "add 'accuracy' to metrics" in reason.text()
    assert dock.editors["monitor"].currentData() == "accuracy"  # as typed, until something else changes
    dock.editors["epochs"].setValue(3)  # another field: the refused one shows the project's value again
    assert document.project.training["epochs"] == 3
    assert dock.editors["monitor"].currentData() == "loss" and not reason.isVisible()


def test_leaving_sgd_with_nesterov_on_is_refused_and_undo_shows_the_project(dock) -> None:
    document = dock.document
    choose(dock.editors["optimizer"], "sgd")
    assert dock.editors["momentum"].isVisible() and dock.editors["nesterov"].isVisible()
    dock.editors["momentum"].setValue(0.9)
    dock.editors["nesterov"].setChecked(True)
    assert document.project.training["nesterov"] is True
    choose(dock.editors["optimizer"], "adam")
    assert document.project.training["optimizer"] == "sgd"
    assert "nesterov needs the sgd optimizer" in dock.reasons["optimizer"].text()
    document.undo_stack.undo()
    assert dock.editors["optimizer"].currentData() == "sgd" and not dock.reasons["optimizer"].isVisible()
    assert not dock.editors["nesterov"].isChecked()


def test_schedule_fields_show_only_when_they_matter(dock) -> None:
    assert not dock.editors["step_size"].isVisible()
    choose(dock.editors["schedule"], "step")
    assert dock.editors["step_size"].isVisible() and dock.editors["gamma"].isVisible()
    assert not dock.editors["plateau_patience"].isVisible()
    choose(dock.editors["schedule"], "plateau")
    assert dock.editors["plateau_patience"].isVisible() and not dock.editors["step_size"].isVisible()


def test_the_device_picker_lists_this_machines_devices(dock) -> None:
    devices = dock.editors["device"]
    names = [devices.itemData(k) for k in range(devices.count())]
    assert "cpu" in names and names[0] == "auto"
    choose(devices, "cpu")
    assert dock.document.project.training["device"] == "cpu"


def test_every_field_is_labelled_with_a_tooltip(dock) -> None:
    for key, editor in dock.editors.items():
        assert editor.toolTip(), key


def test_screenshot(dock) -> None:
    dock.grab().save("/tmp/training_dock.png")
