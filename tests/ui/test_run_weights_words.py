"""The words for a run's weights say what they are: the run picker names the best epoch and its value (not
"best 2.0"), and loading or exporting a run's weights names the checkpoint actually used (a stopped run with no
best epoch gives its last weights, and says so)."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QFileDialog, QInputDialog

from tests.ui.test_training_run import ended, first_steps


def test_the_run_picker_names_the_best_epoch_and_the_export_its_weights(window, qtbot, tmp_path, monkeypatch) -> None:
    win = window("linear_regression")
    win.document.project.training["epochs"] = 2
    win.run_actions.start()
    ended(qtbot, win)
    offered = []
    monkeypatch.setattr(QInputDialog, "getItem",
                        staticmethod(lambda _p, _t, _l, items, *a: offered.extend(items) or (items[0], True)))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(tmp_path / "m.onnx"), "")))
    assert win.export_run("onnx")
    assert len(offered) == 1
    assert re.fullmatch(r"run 1 — completed, best at epoch [12] \((val|train)_loss [0-9.e+-]+\)", offered[0]), offered
    message = win.statusBar().currentMessage()
    assert re.search(r"with run 1's best weights \(epoch [12], step \d+\)$", message), message


def test_a_stopped_run_without_a_best_epoch_loads_its_last_weights_and_says_so(window, qtbot, tmp_path) -> None:
    win = window("mnist_cnn")
    win.document.save(tmp_path / "cnn.nbproj")
    win.document.project.training["epochs"] = 3
    win.run_actions.start()
    first_steps(qtbot, win)
    win.run_actions.stop.trigger()
    stopped = ended(qtbot, win, 10)
    dock = win.runs_dock
    dock.refresh()
    record = dock.records[-1]
    assert record.status == "stopped" and "epoch" not in record.best  # stopped in its first epoch
    assert dock.load_weights(record, "best")
    message = win.statusBar().currentMessage()
    assert f"now run 1's last weights (step {stopped.steps_done})" in message and "best" not in message, message
