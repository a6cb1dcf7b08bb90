"""The Run dock shows the open project's run: a new, closed or other project starts idle, not with the last
project's "Finished (run 1)", its "graph has changed" note and its progress bar; a new run says it is starting
at once, not the last run's final progress."""

from __future__ import annotations

from tests.ui.test_training_run import ended


def trained(qtbot, win, tmp_path):
    win.document.save(tmp_path / "lin.nbproj")
    win.document.project.training["epochs"] = 2
    win.run_actions.start()
    ended(qtbot, win)
    dock = win.run_dock
    assert dock.status.text().startswith("Finished (run 1)") and "epoch 2" in dock.progress.text()
    return dock


def idle(dock) -> bool:
    return (not dock.changed_note.isVisibleTo(dock) and dock.progress.text() == ""
            and "run 1" not in dock.status.text() and "Press Train (F5)".lower() in dock.status.text().lower())


def test_new_close_and_open_start_with_an_idle_run_panel(window, qtbot, tmp_path) -> None:
    win = window("linear_regression")
    dock = trained(qtbot, win, tmp_path)
    win.new()
    assert idle(dock), (dock.status.text(), dock.progress.text(), dock.changed_note.isVisibleTo(dock))
    assert dock.status.text().startswith("Not trained yet")
    win.open_path(tmp_path / "lin.nbproj")  # its own run is in the Runs dock, the Run dock is idle
    assert idle(dock) and "Runs dock" in dock.status.text()
    assert win.runs_dock.tree.topLevelItemCount() == 1
    win.document.project.training["epochs"] = 1
    win.close_project()
    assert idle(dock) and dock.status.text().startswith("Not trained yet")


def test_a_second_run_says_it_is_starting_instead_of_the_first_runs_end(window, qtbot, tmp_path) -> None:
    win = window("linear_regression")
    dock = trained(qtbot, win, tmp_path)
    shown = []  # the bar's text once the run has started, before its first report
    win.runs.event.connect(lambda e: shown.append(dock.progress.text()) if type(e).__name__ == "Started" else None)
    win.run_actions.start()
    assert dock.status.text().startswith("Starting the run") and "epoch" not in dock.progress.text()
    assert ended(qtbot, win).reason == "completed"
    assert shown == ["Starting run 2…"]
    assert dock.status.text().startswith("Finished (run 2)")
