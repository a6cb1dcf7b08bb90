"""Training in the app: Train, Pause, Stop, a run that fails, editing during a run, closing during one.

Each run is a real child process running ``netbuilder train`` (the app's worker), so these tests
see what a user sees: the curves' data, the status, the run's files and its history.
"""

from __future__ import annotations

import time

import pytest
from PySide6.QtWidgets import QMessageBox

from netbuilder.files.project import load_project
from netbuilder.model.edits import SetParams
from netbuilder.training.checkpoint import read_metadata
from netbuilder.training.events import Failed, Finished, Steps
from netbuilder.training.history import RunHistory
from netbuilder.training.snapshot import SNAPSHOT_NAME

START_S = 60  # starting the child (importing torch) takes a few seconds on a slow CI machine


def ended(qtbot, win, timeout_s: float = 120):
    done = []
    win.runs.ended.connect(done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=int(timeout_s * 1000))
    return done[0]


def first_steps(qtbot, win):
    seen = []
    win.runs.event.connect(lambda e: seen.append(e) if isinstance(e, Steps) else None)
    qtbot.waitUntil(lambda: bool(seen), timeout=START_S * 1000)
    return seen


def history_of(win) -> RunHistory:
    return RunHistory(win.runs.runs_folder / "history.sqlite")


def test_train_runs_to_completion_and_the_curves_hold_every_step(window, qtbot) -> None:
    win = window("linear_regression")
    assert win.run_actions.train.isEnabled() and "F5" in win.run_actions.train.toolTip()
    assert win.run_actions.start()
    last = ended(qtbot, win)
    assert isinstance(last, Finished) and last.reason == "completed"
    chart = win.run_dock.chart
    (key,) = chart.runs()
    assert key == win.runs.run_id
    steps = chart._runs[key].steps
    assert len(steps) == last.steps_done  # every step's loss reached the chart
    assert "Finished" in win.run_dock.status.text()
    assert (win.runs.run_dir / "best.safetensors").is_file()
    assert (win.runs.run_dir / SNAPSHOT_NAME).is_file()  # the run keeps the graph it trained
    (record,) = history_of(win).runs()
    assert record.status == "completed"
    assert win.run_actions.train.isEnabled() and not win.run_actions.stop.isEnabled()


def test_stop_mid_epoch_returns_within_a_second_and_keeps_the_weights(window, qtbot) -> None:
    win = window("mnist_cnn")
    win.document.project.training["epochs"] = 50  # long enough that Stop lands mid-run
    win.run_actions.start()
    first_steps(qtbot, win)
    assert win.run_actions.stop.isEnabled()
    t0 = time.perf_counter()
    win.run_actions.stop.trigger()
    last = ended(qtbot, win, 10)
    took = time.perf_counter() - t0
    assert took < 1.0, f"Stop took {took:.2f} s"
    assert isinstance(last, Finished) and last.reason == "stopped"
    assert last.steps_done < 50 * last.steps_done  # it really stopped early
    meta = read_metadata(win.runs.run_dir / "last.safetensors")
    assert meta["step"] == last.steps_done  # the weights trained up to the stop
    assert history_of(win).runs()[-1].status == "stopped"
    assert "Stopped" in win.run_dock.status.text()


def test_pause_then_resume_goes_on(window, qtbot) -> None:
    win = window("mnist_cnn")
    win.document.project.training["epochs"] = 50
    win.run_actions.start()
    first_steps(qtbot, win)
    win.run_actions.pause.trigger()
    qtbot.waitUntil(lambda: win.runs.state == "paused", timeout=10_000)
    assert win.run_actions.pause.text().replace("&", "") == "Resume"
    paused_at = len(win.run_dock.chart._runs[win.runs.run_id].steps)
    qtbot.wait(800)
    assert len(win.run_dock.chart._runs[win.runs.run_id].steps) == paused_at  # nothing trains while paused
    win.run_actions.pause.trigger()
    qtbot.waitUntil(lambda: win.runs.state == "running", timeout=10_000)
    qtbot.waitUntil(lambda: len(win.run_dock.chart._runs[win.runs.run_id].steps) > paused_at, timeout=20_000)
    win.run_actions.stop.trigger()
    assert ended(qtbot, win, 10).reason == "stopped"


def test_a_diverging_run_says_why_and_leaves_the_app_usable(window, qtbot) -> None:
    win = window("linear_regression")
    win.document.project.training["learning_rate"] = 1e6  # the issue's own: MSE at this rate overflows at once
    win.run_actions.start()
    last = ended(qtbot, win)
    assert isinstance(last, Failed) and last.kind == "nan"
    dialog = win.run_actions.last_dialog
    assert dialog is not None and dialog.isVisible() and dialog.windowTitle() == "Training diverged"
    assert "learning_rate" in dialog.text() and dialog.text()[0].isupper()
    assert any("The last run failed" in win.problems.list.item(i).text() for i in range(win.problems.list.count()))
    assert win.results_dock.results is None  # a diverged model's "best" is not shown as a result
    dialog.close()
    assert history_of(win).runs()[-1].status == "failed"
    # The app goes on: the project edits, and a second run with a sane rate completes.
    win.document.project.training["learning_rate"] = 0.01
    assert win.run_actions.start()
    assert ended(qtbot, win).reason == "completed"
    assert not any("last run failed" in win.problems.list.item(i).text() for i in range(win.problems.list.count()))


def test_a_project_with_errors_cannot_start_and_says_why(window, qtbot) -> None:
    win = window("linear_regression")
    win.document.project.data = {"dataset": "", "options": {}}
    win.run_actions.update()
    assert "Data dock" in win.run_actions.train.toolTip()
    assert not win.run_actions.start()
    assert "no data set" in win.statusBar().currentMessage()
    assert not win.runs.busy


def test_editing_during_a_run_leaves_the_run_untouched(window, qtbot) -> None:
    win = window("mnist_cnn")
    win.document.project.training["epochs"] = 50
    win.run_actions.start()
    first_steps(qtbot, win)
    conv = next(n for n in win.document.project.graph if n.kind == "Conv2d")
    before = conv.params["out_channels"]
    assert win.document.push(SetParams(conv.id, {"out_channels": before * 2}))
    qtbot.waitUntil(lambda: win.run_dock.changed_note.isVisible(), timeout=5000)
    win.run_actions.stop.trigger()
    assert ended(qtbot, win, 10).reason == "stopped"
    trained = load_project(win.runs.run_dir / SNAPSHOT_NAME)
    assert trained.graph.node(conv.id).params["out_channels"] == before  # the run trained the snapshot
    win.document.undo_stack.undo()
    qtbot.waitUntil(lambda: not win.run_dock.changed_note.isVisible(), timeout=5000)


def test_two_runs_overlay_on_one_chart(window, qtbot) -> None:
    win = window("linear_regression")
    win.document.project.training["epochs"] = 5
    win.run_actions.start()
    ended(qtbot, win)
    win.document.project.training["learning_rate"] = 0.05
    win.run_actions.start()
    ended(qtbot, win)
    chart = win.run_dock.chart
    assert len(chart.runs()) == 2
    assert all(chart.is_run_visible(k) for k in chart.runs())


def test_closing_during_a_run_asks_then_stops_cleanly(window, qtbot, monkeypatch) -> None:
    win = window("mnist_cnn")
    win.document.project.training["epochs"] = 50
    win.run_actions.start()
    first_steps(qtbot, win)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.Cancel)
    win.close()
    assert asked and win.isVisible() and win.runs.busy  # Cancel: nothing stops
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    win.document.undo_stack.setClean()
    win.close()
    assert not win.isVisible() and not win.runs.busy
    assert history_of(win).runs()[-1].status == "stopped"
    assert (win.runs.run_dir / "last.safetensors").is_file()


@pytest.mark.parametrize("kind", ["crash"])
def test_a_worker_that_dies_is_a_failure_not_a_hang(window, qtbot, kind) -> None:
    win = window("mnist_cnn")
    win.document.project.training["epochs"] = 50
    win.run_actions.start()
    first_steps(qtbot, win)
    win.runs.worker.kill()
    last = ended(qtbot, win, 10)
    assert isinstance(last, Failed) and last.kind == kind
    assert "training process" in last.message
    assert win.run_actions.train.isEnabled()


def test_opening_another_project_shows_its_own_runs_not_the_last_ones(window, qtbot) -> None:
    win = window("linear_regression")
    win.document.project.training["epochs"] = 3
    win.run_actions.start()
    ended(qtbot, win)
    qtbot.waitUntil(lambda: win.results_dock.results is not None, timeout=30_000)
    assert win.run_dock.chart.runs()
    win.document.undo_stack.setClean()
    win.open_example("softmax_regression")
    assert win.run_dock.chart.runs() == []  # the linear model's curves are gone from the chart
    assert win.results_dock.results is None and "No results yet" in win.results_dock.title.text()
    assert win.runs_dock.tree.topLevelItemCount() == 0  # a new project: its runs folder is its own


def test_a_data_sets_download_progress_shows_while_the_run_starts(qtbot, tmp_path) -> None:
    """The worker's stderr lines 'downloading NAME: X of Y MiB' (rewritten in place with \\r) reach the window."""
    import sys

    from ui.training.worker import TrainingWorker

    worker = TrainingWorker()
    script = ("import sys, time\n"
              "for done in (1.0, 4.5, 9.9):\n"
              "    print(f'\\rdownloading train-images-idx3-ubyte.gz: {done} of 9.9 MiB', end='', file=sys.stderr,"
              " flush=True); time.sleep(0.05)\n")
    worker.command = lambda snapshot, runs: [sys.executable, "-c", script]
    notes, ends = [], []
    worker.note.connect(notes.append)
    worker.ended.connect(ends.append)
    worker.start(tmp_path / "none.nbproj", tmp_path)
    qtbot.waitUntil(lambda: bool(ends), timeout=20_000)
    assert notes and notes[-1] == "Downloading train-images-idx3-ubyte.gz: 9.9 of 9.9 MiB"
    assert ends[0].kind == "crash"  # it never reported a run: said so, not a hang
