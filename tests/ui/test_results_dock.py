"""The Results dock after a run: the teaching text's pictures, the confusion matrix and its samples, exports."""

from __future__ import annotations

import csv

import numpy as np
from PySide6.QtGui import QImage

from netbuilder.training.events import Finished
from tests.ui.test_training_run import ended


def train(qtbot, win, **training) -> Finished:
    win.document.project.training.update(training)
    assert win.run_actions.start()
    last = ended(qtbot, win)
    qtbot.waitUntil(lambda: win.results_dock.results is not None, timeout=30_000)
    return last


def test_linear_regression_ends_on_the_scatter_and_its_fitted_line(window, qtbot, tmp_path) -> None:
    win = window("linear_regression")
    train(qtbot, win)
    dock = win.results_dock
    assert dock.isVisible() and dock.stack.currentWidget() is dock.fit
    xs, ys = dock.fit.curve.getData()
    slope = np.polyfit(xs, ys, 1)[0]
    assert abs(slope - 2) <= 0.15, slope  # the data is y = 2x + noise (teaching text §4.1)
    sx, _sy = dock.fit.scatter.getData()
    assert len(sx) == 100  # every sample is drawn
    assert f"slope {slope:.3f}" in dock.fit.caption.text()
    png = dock.export_png(tmp_path / "fit.png")
    assert not QImage(str(png)).isNull()
    (written,) = dock.export_csv(tmp_path / "fit.csv")
    rows = list(csv.reader(written.open()))
    assert rows[0][0] == "index" and len(rows) == 101


def test_logistic_regression_draws_a_sigmoid_over_the_data(window, qtbot) -> None:
    win = window("logistic_regression")
    train(qtbot, win)
    dock = win.results_dock
    assert dock.stack.currentWidget() is dock.fit
    _xs, ys = dock.fit.curve.getData()
    assert 0 <= ys.min() and ys.max() <= 1  # a probability
    assert np.all(np.diff(ys) >= -1e-6)  # rising with x, as the data's class is x > 0
    assert ys[0] < 0.5 < ys[-1]


def test_the_digits_cnn_shows_its_confusion_matrix_and_the_samples_it_gets_wrong(window, qtbot, tmp_path) -> None:
    win = window("mnist_cnn")
    last = train(qtbot, win, epochs=10)
    assert last.best["val_accuracy"] >= 0.95  # the bar: held-out accuracy on the bundled digits
    dock = win.results_dock
    view = dock.classes
    assert dock.stack.currentWidget() is view
    r = dock.results
    assert r.held_out and len(r.data) == int(view.cm.sum())
    assert view.matrix.rowCount() == 11 and view.matrix.columnCount() == 11  # 10 classes + precision / recall
    right = int(np.trace(view.cm))
    assert f"{right} of {len(r.data)} right" in view.summary.text()
    # A click on an off-diagonal cell lists exactly its samples, with pictures and their probabilities.
    off = view.cm.copy()
    np.fill_diagonal(off, 0)
    t, p = np.unravel_index(int(off.argmax()), off.shape)
    view.matrix.cellClicked.emit(int(t), int(p))
    assert view.samples.count() == min(int(view.cm[t, p]), 64)
    shown = [view.samples.item(i).data(0x0100) for i in range(view.samples.count())]
    assert all(int(r.predictions.labels[i]) == t and int(r.predictions.predicted[i]) == p for i in shown)
    assert not view.samples.item(0).icon().isNull()  # an image, as a thumbnail
    assert f"predicted {p}" in view.bars_caption.text() or f"predicted {r.class_names()[p]}" in view.bars_caption.text()
    # The highest-loss grid starts with the worst sample.
    worst = int(np.argmax(r.predictions.loss.numpy()))
    assert view.top_losses.item(0).data(0x0100) == worst
    written = dock.export_csv(tmp_path / "digits.csv")
    assert [p.name for p in written] == ["digits.csv", "digits-confusion.csv"]
    matrix = list(csv.reader(written[1].open()))
    assert sum(int(v) for row in matrix[1:] for v in row[1:]) == len(r.data)


def test_a_stopped_run_shows_its_last_weights(window, qtbot) -> None:
    from tests.ui.test_training_run import first_steps

    win = window("mnist_cnn")
    win.document.project.training["epochs"] = 50
    win.run_actions.start()
    first_steps(qtbot, win)
    win.run_actions.stop.trigger()
    assert ended(qtbot, win, 10).reason == "stopped"
    qtbot.waitUntil(lambda: win.results_dock.results is not None, timeout=30_000)
    assert win.results_dock.results.checkpoint.name == "last.safetensors"
    # Seen on Xvfb: Stop brought a chance-level Results tab forward over the curves; it waits behind its tab now.
    from ui.dock_actions import in_front

    assert in_front(win.run_dock) and not in_front(win.results_dock)


def test_a_csv_picked_in_the_data_dock_trains_and_shows_its_fit(window, qtbot, tmp_path, monkeypatch) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog

    from tests.ui.test_data_dock import choose

    table = tmp_path / "points.csv"
    table.write_text("x,noise,y\n" + "".join(f"{k / 50 - 1:.4f},{k % 7},{3 * (k / 50 - 1) + 0.5:.4f}\n"
                                             for k in range(100)))
    win = window("linear_regression")
    win.document.save(tmp_path / "fit.nbproj")
    dock = win.data_dock
    choose(dock.dataset_combo, "csv")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(table), "")))
    dock.fields["path_choose"].click()
    assert dock.fields["target"].currentText() == "y"  # the last column, by default
    columns = dock.fields["features"]
    noise = next(columns.item(k) for k in range(columns.count()) if columns.item(k).text() == "noise")
    noise.setCheckState(Qt.CheckState.Unchecked)  # the input is x alone
    assert win.document.project.data["options"]["features"] == ["x"]
    assert not [p for p in win.document.problems() if p.severity == "error"]
    last = train(qtbot, win, epochs=150, learning_rate=0.1)
    assert last.reason == "completed"
    assert win.results_dock.results.data.name.startswith("points")
    xs, ys = win.results_dock.fit.curve.getData()
    assert abs(np.polyfit(xs, ys, 1)[0] - 3) < 0.3  # the CSV's own line: y = 3x + 0.5


def test_results_are_computed_off_the_gui_thread_and_only_the_last_asked_for_shows(window, qtbot) -> None:
    win = window("linear_regression")
    win.document.project.training["epochs"] = 3
    train(qtbot, win)
    first_dir = win.runs.run_dir
    win.run_actions.start()
    ended(qtbot, win)
    second_dir = win.runs.run_dir
    dock = win.results_dock
    # The window shows the second run's results by itself first (asked for just after the run's end).
    qtbot.waitUntil(lambda: dock.results is not None and dock.results.checkpoint.parent == second_dir
                    and not dock.loading, timeout=30_000)
    assert dock.show_run(first_dir, "best")
    assert dock.loading and dock.results is None and "Computing" in dock.title.text()  # returned at once
    dock.show_run(second_dir, "last")  # asked again before the first is ready: the first is dropped
    qtbot.waitUntil(lambda: not dock.loading, timeout=30_000)
    qtbot.wait(300)  # the first request's answer, if it came late, would land now
    assert dock.results.checkpoint == second_dir / "last.safetensors"
    assert dock.title.text().startswith(second_dir.name)


def test_the_sample_captions_read_in_full_under_their_thumbnails(window, qtbot) -> None:
    win = window("mnist_cnn")
    train(qtbot, win, epochs=1)
    view = win.results_dock.classes
    r = win.results_dock.results
    grid = view.top_losses
    first = int(grid.item(0).data(0x0100))
    true, predicted = int(r.predictions.labels[first]), int(r.predictions.predicted[first])
    lines = grid.item(0).text().split("\n")
    assert lines[0] == f"true {true} → predicted {predicted}"
    assert lines[1].endswith(f"loss {float(r.predictions.loss[first]):.2g}")
    metrics = grid.fontMetrics()
    for k in range(grid.count()):  # each line fits its cell, and every line has a row of its own
        text = grid.item(k).text()
        assert all(metrics.horizontalAdvance(line) + 8 <= grid.gridSize().width() for line in text.split("\n")), text
    assert grid.gridSize().height() >= grid.iconSize().height() + len(lines) * metrics.height()
