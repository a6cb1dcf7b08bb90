"""Every file dialog starts in the project's folder once it is saved (else the last folder used for that kind of
file, else Documents), never in the process's working directory, and suggests a name that says what it holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QInputDialog

from tests.ui.test_training_run import ended


@pytest.fixture
def asked(monkeypatch, tmp_path):
    """Each file dialog records (which, start) and is cancelled; the process runs in a folder of its own."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    calls: list[tuple[str, str]] = []
    def answer(which: str, nothing: object):
        return staticmethod(lambda parent, title, start, *a, **k: calls.append((which, start)) or nothing)

    monkeypatch.setattr(QFileDialog, "getSaveFileName", answer("save", ("", "")))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", answer("open", ("", "")))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", answer("dir", ""))
    return calls


def saved(win, tmp_path) -> Path:
    folder = tmp_path / "projects"
    folder.mkdir()
    win.document.save(folder / "lin.nbproj")
    return folder


def test_a_runs_onnx_export_starts_in_the_projects_folder_named_after_the_project_and_run(window, qtbot, tmp_path,
                                                                                            asked, monkeypatch) -> None:
    win = window("linear_regression")
    folder = saved(win, tmp_path)
    win.document.project.training["epochs"] = 2
    win.run_actions.start()
    ended(qtbot, win)
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda _p, _t, _l, items, *a: (items[0], True)))
    for kind in ("onnx", "weights"):
        win.export_run(kind)
    assert [Path(start) for _, start in asked] == [folder / "lin-run1.onnx", folder / "lin-run1.safetensors"]


def test_every_dialog_of_a_saved_project_starts_in_its_folder(window, qtbot, tmp_path, asked) -> None:
    win = window("linear_regression")
    folder = saved(win, tmp_path)
    win.open_dialog()
    win.import_onnx_dialog()
    win.save_as()
    for kind in ("onnx", "code", "weights"):
        win.export_dialog(kind)
    win.summary_dock.save_csv_dialog()
    win.run_dock.chart._ask_png()
    win.results_dock._export_png_dialog()
    win.results_dock._export_csv_dialog()
    win.data_dock.pick("csv")
    for key in [k for k in win.data_dock.fields if k.endswith("_choose")]:
        win.data_dock.fields[key].click()
    starts = [Path(start) for _, start in asked]
    assert len(starts) == 11  # open, import, save as, three exports, four saves from the docks, the data file
    for start in starts:
        assert folder in (start, start.parent), f"{start} is not in the project's folder {folder}"
    assert [s.name for s in starts[2:6]] == ["lin.nbproj", "lin.onnx", "lin.py", "lin.safetensors"]


def test_an_untitled_projects_dialogs_start_in_documents_then_where_that_kind_was_last_kept(window, tmp_path, asked,
                                                                                             monkeypatch) -> None:
    from ui.files.file_dialogs import default_folder

    win = window("linear_regression")
    win.import_onnx_dialog()
    assert Path(asked[-1][1]) == default_folder() and default_folder() != Path.cwd()
    kept = tmp_path / "models"
    kept.mkdir()
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda p, t, d, *a, **k: asked.append(("open", d)) or (str(kept / "m.onnx"), "")))
    win.import_onnx_dialog()  # the model's folder is remembered (the import itself is cancelled)
    win.import_onnx_dialog()
    assert Path(asked[-2][1]) == kept  # the second import starts where the first model was
