"""The Runs dock: every run listed from the history, overlaid on the chart, renamed, noted, compared,
deleted; a run's weights loaded into the project; a stopped run resumed; a run's settings trained again."""

from __future__ import annotations

from PySide6.QtCore import Qt

from netbuilder.files.weights import read_metadata, weights_beside
from tests.ui.test_training_run import ended, first_steps


def two_runs(qtbot, win):
    win.document.project.training["epochs"] = 4
    win.run_actions.start()
    ended(qtbot, win)
    win.document.project.training["learning_rate"] = 0.05
    win.run_actions.start()
    ended(qtbot, win)
    win.runs_dock.refresh()
    return win.runs_dock


def test_runs_are_listed_with_their_status_and_what_changed(window, qtbot) -> None:
    win = window("linear_regression")
    dock = two_runs(qtbot, win)
    assert dock.tree.topLevelItemCount() == 2
    first, second = (dock.tree.topLevelItem(i) for i in range(2))
    assert first.text(2) == "completed" and second.text(2) == "completed"
    assert "learning_rate" in second.text(5) and "0.05" in second.text(5)
    assert first.text(4).startswith("train_loss")  # the best monitored value
    # Both are on the chart; unticking one hides its curves.
    assert first.checkState(0) == Qt.CheckState.Checked and second.checkState(0) == Qt.CheckState.Checked
    first.setCheckState(0, Qt.CheckState.Unchecked)
    assert not win.run_dock.chart.is_run_visible(dock.records[0].id)
    # Compared: the settings that differ.
    first.setSelected(True)
    second.setSelected(True)
    dock.compare_selected()
    before = dock.records[0].settings["learning_rate"]
    assert dock.comparison == f"learning_rate: {before} → 0.05"


def test_an_old_run_is_drawn_from_the_history_with_every_step(window, qtbot) -> None:
    win = window("linear_regression")
    dock = two_runs(qtbot, win)
    chart = win.run_dock.chart
    run_id = dock.records[0].id
    live_steps = len(chart._runs[run_id].steps)
    chart.remove_run(run_id)  # as in a new session: the chart holds only what it was given
    dock.refresh()
    dock.set_overlay(run_id, True)
    assert run_id in chart.runs() and len(chart._runs[run_id].steps) == live_steps


def test_rename_note_and_delete(window, qtbot) -> None:
    win = window("linear_regression")
    dock = two_runs(qtbot, win)
    record = dock.records[0]
    dock.rename_to(record, "baseline")
    assert dock.tree.topLevelItem(0).text(0) == "baseline"
    dock._with_history(lambda h: h.set_note(record.id, "lr from the text"))
    assert dock.records[0].note == "lr from the text"
    run_dir = win.runs.runs_folder / f"run-{record.id:04d}"
    assert run_dir.is_dir()
    dock.delete_now(dock.records[0])
    assert dock.tree.topLevelItemCount() == 1 and not run_dir.exists()
    assert record.id not in win.run_dock.chart.runs()


def test_a_runs_weights_become_the_projects_own(window, qtbot, tmp_path) -> None:
    win = window("linear_regression")
    win.document.project.training["epochs"] = 4
    dock = win.runs_dock
    win.run_actions.start()
    ended(qtbot, win)
    dock.refresh()
    assert not dock.load_weights(dock.records[0], "best")  # an unsaved project: nowhere to keep them
    assert "Save the project first" in win.statusBar().currentMessage()
    win.document.save(tmp_path / "lin.nbproj")
    win.run_actions.start()  # a saved project's runs go beside its file
    ended(qtbot, win)
    dock.refresh()
    assert dock.load_weights(dock.records[-1], "best")
    meta = read_metadata(weights_beside(tmp_path / "lin.nbproj"))
    assert meta["from_run"] == f"run-{dock.records[-1].id:04d}"


def test_a_stopped_run_resumes_where_it_stopped(window, qtbot) -> None:
    win = window("mnist_cnn")
    win.document.project.training["epochs"] = 3
    win.run_actions.start()
    first_steps(qtbot, win)
    win.run_actions.stop.trigger()
    stopped = ended(qtbot, win, 10)
    dock = win.runs_dock
    dock.refresh()
    assert dock.records[-1].status == "stopped"
    seen = []
    win.runs.event.connect(lambda e: seen.append(e))
    assert dock.resume(dock.records[-1])
    last = ended(qtbot, win)
    assert last.reason == "completed"
    steps = [e for e in seen if type(e).__name__ == "Steps"]
    assert steps[0].first_step == stopped.steps_done  # it went on from the stop, not from step 0


def test_train_again_with_a_runs_settings(window, qtbot) -> None:
    win = window("linear_regression")
    dock = two_runs(qtbot, win)
    first = dock.records[0]
    depth = win.document.undo_stack.count()
    assert dock.train_again(first)
    assert win.document.project.training["learning_rate"] == first.settings["learning_rate"]
    assert win.document.undo_stack.count() == depth + 1  # one undo step
    assert ended(qtbot, win).reason == "completed"


def test_file_export_picks_which_runs_weights_to_export(window, qtbot, tmp_path, monkeypatch) -> None:
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    from netbuilder.files.weights import read_metadata

    win = window("linear_regression")
    dock = two_runs(qtbot, win)
    export = next(a.menu() for a in win.menuBar().actions()[0].menu().actions() if a.text() == "&Export")
    texts = [a.text() for a in export.actions()]
    assert "A Run's Model to ONNX…" in texts and "A Run's Weights (safetensors)…" in texts
    offered = []

    def pick(parent, title, label, items, current, editable):
        offered.extend(items)
        return items[0], True  # the first run, not the latest

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(pick))
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(tmp_path / "first.onnx"), "")))
    assert win.export_run("onnx")
    assert len(offered) == 2 and (tmp_path / "first.onnx").stat().st_size > 0
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(tmp_path / "first.safetensors"), "")))
    assert win.export_run("weights")
    assert read_metadata(tmp_path / "first.safetensors")["from_run"] == f"run-{dock.records[0].id:04d}"


def test_the_run_menu_is_the_main_menus_selected_run_menu_and_acts_on_the_clicked_run(window, qtbot,
                                                                                     monkeypatch) -> None:
    from PySide6.QtWidgets import QInputDialog

    from tests.ui.test_context_menus import entries, in_menu_bar

    win = window("linear_regression")
    dock = two_runs(qtbot, win)
    run_menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Run")
    selected_run = next(a.menu() for a in run_menu.actions() if a.menu() is not None and "Selected" in a.text())
    dock.tree.clearSelection()
    selected_run.aboutToShow.emit()
    assert not any(a.isEnabled() for a in entries(selected_run))  # nothing selected: nothing to act on
    assert dock.run_menu(None) is None  # off the rows: no menu
    second = dock.tree.topLevelItem(1)
    menu = dock.run_menu(second)  # a right-click on the second run selects it
    assert second.isSelected() and dock.selected_one().id == dock.records[1].id
    assert len(entries(menu)) == 11
    for action in entries(menu):
        assert in_menu_bar(win, action), f"{action.text()!r} is in no main menu"
    assert [a.text() for a in entries(menu)] == [a.text() for a in entries(selected_run)]
    # From the menu bar, Rename acts on the run selected in the list.
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("tuned", True)))
    rename = next(a for a in entries(selected_run) if a.text() == "Rename Run…")
    selected_run.aboutToShow.emit()
    assert rename.isEnabled()
    rename.trigger()
    assert dock.tree.topLevelItem(1).text(0) == "tuned" and dock.tree.topLevelItem(0).text(0) != "tuned"
