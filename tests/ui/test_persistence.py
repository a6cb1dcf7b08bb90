"""Saving and reopening, recent files, autosave and crash recovery, themes, ONNX import and export.

Every test has its own settings and data folders (the autouse ``private_settings`` fixture).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from netbuilder import Project, load_project
from netbuilder.examples import example_path
from ui import settings, theme
from ui.document import Document
from ui.files import autosave, file_exchange
from ui.main_window import MainWindow


def snapshot(win) -> str:
    return json.dumps(Project(win.document.project.graph).to_dict(), sort_keys=True)


def add_layer(win, kind: str = "Dropout") -> None:
    """Double-click a layer in the palette, as a user adds one."""
    item = win.palette.tree.findItems(kind, Qt.MatchFlag.MatchRecursive)[0]
    win.palette.tree.itemDoubleClicked.emit(item, 0)


@pytest.fixture
def answer_dialogs(monkeypatch):
    """Save dialogs answer the next queued path; message boxes are recorded instead of shown."""
    paths: list[Path] = []
    shown: list[str] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(paths.pop(0)), "")))
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda parent, title, text, *a: shown.append(text)))
    return paths, shown


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def autosaves() -> list[Path]:
    folder = autosave.autosave_dir()
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_save_then_reopen_gives_the_same_project(window, tmp_path, answer_dialogs) -> None:
    paths, _ = answer_dialogs
    win = window()
    add_layer(win)
    assert win.isWindowModified()
    before = win.document.project.to_dict()
    paths.append(tmp_path / "digits.nbproj")
    assert win.save()  # no file yet: asks where
    assert not win.isWindowModified() and win.windowTitle().startswith("digits.nbproj")
    win.open_path(tmp_path / "digits.nbproj")
    assert win.document.project.to_dict() == before
    assert not win.isWindowModified() and win.windowTitle().startswith("digits.nbproj")


def test_recent_files_menu_lists_saved_files_and_opens_them(window, tmp_path, answer_dialogs) -> None:
    paths, _ = answer_dialogs
    win = window("linear_regression")
    for name in ("a.nbproj", "b.nbproj", "gone.nbproj"):
        paths.append(tmp_path / name)
        assert win.save_as()
    (tmp_path / "gone.nbproj").unlink()
    win.recent_menu.aboutToShow.emit()
    texts = [a.text() for a in win.recent_menu.recent_actions]
    assert texts == ["&1 b.nbproj", "&2 a.nbproj"]  # newest first, the missing file left out
    win.recent_menu.recent_actions[1].trigger()
    assert win.document.project.path.resolve() == (tmp_path / "a.nbproj").resolve()
    assert [p.name for p in settings.recent_files()] == ["a.nbproj", "b.nbproj"]
    clear = next(a for a in win.recent_menu.actions() if a.text() == "&Clear Recent")
    clear.trigger()
    texts = [a.text() for a in win.recent_menu.actions() if a.text()]
    assert texts[:2] == ["No recent files", "&Clear Recent"] and win.recent_menu.recent_actions == []
    assert settings.recent_files() == []


def test_recent_files_keep_ten(tmp_path) -> None:
    for k in range(12):
        (tmp_path / f"{k}.nbproj").write_text("{}")
        settings.add_recent_file(tmp_path / f"{k}.nbproj")
    assert [p.name for p in settings.recent_files()] == [f"{k}.nbproj" for k in range(11, 1, -1)]


def test_autosave_writes_only_unsaved_work_and_a_save_removes_it(window, qtbot, tmp_path, answer_dialogs) -> None:
    paths, _ = answer_dialogs
    win = window()
    win.autosave.timer.start(20)
    qtbot.wait(120)
    assert autosaves() == []  # nothing unsaved, nothing written
    add_layer(win)
    qtbot.waitUntil(lambda: win.autosave.info_file.is_file())
    info = json.loads(win.autosave.info_file.read_text())
    assert info["pid"] == os.getpid() and info["original"] is None
    assert json.loads(win.autosave.project_file.read_text()) == win.document.project.to_dict()
    paths.append(tmp_path / "saved.nbproj")
    win.save()
    assert autosaves() == []
    add_layer(win, "ReLU")
    qtbot.waitUntil(lambda: win.autosave.project_file.is_file())
    win.document.undo_stack.setClean()  # as if "Discard" was answered on closing
    win.close()
    assert autosaves() == []


def recover(win, ask) -> bool:
    """Offer the crash leftovers in ``win``, answering each with ``ask(parent, leftover)``."""
    return autosave.offer_recovery(win, win.autosave, win.open_document, ask=ask)


def leave_crash(win, original: Path | None) -> str:
    """Edit ``win`` and leave its autosave as a crashed process would. Returns the unsaved graph."""
    add_layer(win)
    win.document.project.path = original
    crashed = autosave.Autosaver(win.document, win, pid=dead_pid())
    crashed.timer.stop()
    assert crashed.autosave()
    return snapshot(win)


def test_a_crash_is_offered_and_recovered(window, tmp_path) -> None:
    unsaved = leave_crash(window(), tmp_path / "mine.nbproj")
    asked = []
    win = window("linear_regression")
    assert recover(win, lambda w, leftover: asked.append(leftover.label) or True)
    assert len(asked) == 1 and asked[0].startswith("mine.nbproj, ")
    assert snapshot(win) == unsaved
    assert win.document.project.path == tmp_path / "mine.nbproj"
    assert win.isWindowModified()  # the user has to save it
    assert autosaves() == [win.autosave.info_file, win.autosave.project_file]  # only the live window's copy
    assert autosave.leftovers() == []


def test_recovered_work_whose_folder_is_gone_asks_where_to_save(window, tmp_path, answer_dialogs) -> None:
    paths, _ = answer_dialogs
    unsaved = leave_crash(window(), tmp_path / "gone" / "mine.nbproj")
    win = window("linear_regression")
    assert recover(win, lambda w, leftover: True)
    assert snapshot(win) == unsaved and win.document.project.path is None
    paths.append(tmp_path / "kept.nbproj")
    assert win.save()  # Save becomes Save As, instead of failing on the vanished folder
    assert load_project(tmp_path / "kept.nbproj").to_dict()["graph"] == win.document.project.to_dict()["graph"]


def test_work_left_before_a_reboot_is_offered_even_if_its_process_id_is_in_use_again(window, monkeypatch) -> None:
    win = window()
    add_layer(win)
    monkeypatch.setattr(autosave, "boot_id", lambda: "boot-before")
    left = autosave.Autosaver(win.document, win, pid=os.getpid())  # a live pid: this very process
    left.timer.stop()
    assert left.autosave()
    assert autosave.leftovers() == []  # same boot, live process: not a crash
    monkeypatch.setattr(autosave, "boot_id", lambda: "boot-after")
    assert [x.project_file for x in autosave.leftovers()] == [left.project_file]


def test_discarding_a_crash_deletes_it_and_later_keeps_it(window) -> None:
    leave_crash(window(), None)
    win = window("linear_regression")
    before = snapshot(win)
    assert not recover(win, lambda w, leftover: None)  # Escape: ask again next time
    assert len(autosave.leftovers()) == 1
    assert not recover(win, lambda w, leftover: False)
    assert autosave.leftovers() == [] and snapshot(win) == before and not win.isWindowModified()


def test_recovery_question_names_the_file(window) -> None:
    leave_crash(window(), None)
    win = window("linear_regression")
    leftover = autosave.leftovers()[0]

    def answer() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        assert box.text().startswith("Recover unsaved work from Digits CNN")
        next(b for b in box.buttons() if b.text() == "Discard").click()

    QTimer.singleShot(50, answer)
    assert autosave.ask_user(win, leftover) is False


def test_theme_switch_changes_the_palette_and_is_remembered(window) -> None:
    win = window()
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() > 128  # offscreen: light
    view = next(a.menu() for a in win.menuBar().actions() if a.text() == "&View")
    theme_menu = next(a.menu() for a in view.actions() if a.text() == "&Theme")
    dark = next(a for a in theme_menu.actions() if a.text() == "&Dark")
    dark.trigger()
    QApplication.processEvents()  # widgets hear of the new palette through posted events
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 100
    assert win.view.palette().color(QPalette.ColorRole.Window).lightness() < 100
    assert win.scene.backgroundBrush().color() == theme.DARK_CANVAS
    assert {w.label.brush().color().name() for w in win.scene.wire_items.values()} == {"#b0bec5"}  # readable
    assert settings.theme() == "dark" and dark.isChecked()
    win2 = window("linear_regression")  # a new start: the theme comes back
    assert win2.scene.backgroundBrush().color() == theme.DARK_CANVAS
    next(a for a in theme_menu.actions() if a.text() == "&Light").trigger()
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() > 128
    assert win.scene.backgroundBrush().color() == theme.LIGHT_CANVAS and settings.theme() == "light"


def test_window_layout_is_restored(qtbot) -> None:
    def make() -> MainWindow:
        win = MainWindow(Document(Project()))
        win.show()
        qtbot.waitExposed(win)
        qtbot.wait(50)
        return win

    win = make()
    win.resize(700, 500)  # inside the offscreen screen (800 x 600): a restore keeps a window on its screen
    win.inspector.hide()
    win.close()
    win.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    win = make()
    try:
        assert win.inspector.isHidden() and not win.palette.isHidden()
        assert (win.width(), win.height()) == (700, 500)
    finally:
        win.close()
        win.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_import_onnx_writes_the_project_and_its_weights_and_exports_keep_them(window, tmp_path, answer_dialogs) -> None:
    import torch

    from netbuilder.files.weights import read_weights
    from netbuilder.model.edits import SetParams
    from netbuilder.onnx.exporter import export_onnx

    _, shown = answer_dialogs
    example = load_project(example_path("mnist_cnn"))
    export_onnx(example, tmp_path / "digits.onnx")
    win = window("linear_regression")
    assert win.import_onnx_file(tmp_path / "digits.onnx", tmp_path / "digits.nbproj")
    layers = [n for n in win.document.project.graph if n.kind not in ("Input", "Output")]
    assert len(layers) == len([n for n in example.graph if n.kind not in ("Input", "Output")])
    assert win.document.project.path == tmp_path / "digits.nbproj" and not win.isWindowModified() and shown == []
    imported = read_weights(tmp_path / "digits.safetensors")
    message = file_exchange.export_to(win.document, win, "weights", tmp_path / "out.safetensors")
    exported = read_weights(tmp_path / "out.safetensors")
    assert exported.keys() == imported.keys() and all(torch.equal(exported[k], imported[k]) for k in imported)
    assert message is not None and "digits.safetensors" in message
    # Reshape the last layer: the others keep the imported weights, and the message names the fresh ones.
    last = [n for n in win.document.project.graph if n.kind == "Linear"][-1]
    win.document.push(SetParams(last.id, {"out_features": 7}))
    message = file_exchange.export_to(win.document, win, "weights", tmp_path / "edited.safetensors")
    edited = read_weights(tmp_path / "edited.safetensors")
    kept = [k for k in imported if not k.startswith(last.name + ".")]
    assert kept and all(torch.equal(edited[k], imported[k]) for k in kept)
    assert message is not None and f"fresh for {last.name}.weight, {last.name}.bias" in message


def test_a_broken_onnx_file_is_refused_and_the_document_kept(window, tmp_path, answer_dialogs) -> None:
    _, shown = answer_dialogs
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    win = window("linear_regression")
    before = snapshot(win)
    assert not win.import_onnx_file(tmp_path / "broken.onnx", tmp_path / "broken.nbproj")
    assert len(shown) == 1 and shown[0].startswith("broken.onnx: ")
    assert snapshot(win) == before and not win.isWindowModified()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.onnx"]  # nothing half-written


def test_exports_write_files_and_a_broken_graph_says_why(window, tmp_path, answer_dialogs) -> None:
    _, shown = answer_dialogs
    win = window("linear_regression")
    assert file_exchange.export_to(win.document, win, "code", tmp_path / "net.py")
    assert "class Net" in (tmp_path / "net.py").read_text()
    assert file_exchange.export_to(win.document, win, "weights", tmp_path / "net.safetensors")
    assert file_exchange.export_to(win.document, win, "onnx", tmp_path / "net.onnx")
    assert (tmp_path / "net.safetensors").stat().st_size > 0 and (tmp_path / "net.onnx").stat().st_size > 0
    graph = win.document.project.graph
    win.scene.clearSelection()
    win.scene.wire_items[next(e for e in graph.edges if e.dst == graph.by_name("linear").id)].setSelected(True)
    win.scene.delete_selection()  # the Linear layer loses its input
    assert not file_exchange.export_to(win.document, win, "onnx", tmp_path / "broken.onnx")
    assert shown and shown[-1].startswith("The graph has problems to fix") and "Traceback" not in shown[-1]
    assert not (tmp_path / "broken.onnx").exists()
