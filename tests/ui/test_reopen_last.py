"""File ▸ Close, the last project reopening at the next start, and File ▸ Open Recent with the examples apart.

Every test has its own settings (the autouse ``private_settings`` fixture): a first start unless it quits first.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from netbuilder import load_project
from netbuilder.examples import example_path
from ui import settings
from ui.document import Document
from ui.files.last_project import start_document
from ui.main_window import MainWindow

Button = QMessageBox.StandardButton


def show(qtbot, document: Document) -> MainWindow:
    win = MainWindow(document)
    win.show()
    qtbot.waitExposed(win)
    qtbot.wait(20)  # the first frame is drawn (and framed) before anything closes it
    return win


def quit_on(qtbot, document: Document) -> None:
    """Show ``document`` in a window and quit, as a user closes the app."""
    win = show(qtbot, document)
    win.document.undo_stack.setClean()
    win.close()
    win.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def saved_copy(tmp_path: Path, name: str = "mine") -> Path:
    project = load_project(example_path("linear_regression"))
    project.name = name
    path = tmp_path / f"{name}.nbproj"
    project.save(path)
    return path


def test_a_first_start_opens_the_digits_example() -> None:
    document, note = start_document()
    assert document.project.name == "Digits CNN" and document.project.path is None and note is None


def test_the_project_open_at_quit_opens_at_the_next_start(qtbot, tmp_path) -> None:
    path = saved_copy(tmp_path)
    quit_on(qtbot, Document.open(path))
    document, note = start_document()
    assert document.project.path.resolve() == path.resolve() and document.project.name == "mine"
    assert note is not None and "mine.nbproj" in note
    assert settings.recent_files()[0] == path.resolve()


def test_a_last_project_that_is_gone_opens_the_example_and_says_so(qtbot, tmp_path) -> None:
    path = saved_copy(tmp_path)
    quit_on(qtbot, Document.open(path))
    path.unlink()
    document, note = start_document()
    assert document.project.name == "Digits CNN" and document.project.path is None
    assert note is not None and str(path.resolve()) in note and "gone" in note


def test_after_close_and_quit_the_next_start_is_an_empty_project_not_the_example(qtbot, tmp_path) -> None:
    quit_on(qtbot, Document.open(saved_copy(tmp_path)))
    win = show(qtbot, start_document()[0])
    win.close_project()
    assert len(win.document.project.graph) == 0 and win.document.project.path is None
    win.close()
    win.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    document, note = start_document()
    assert len(document.project.graph) == 0 and document.project.path is None and note is None


CHILD = """
import os
from ui.app import open_window
app, window, startup = open_window()
def painted():
    print("title:", window.windowTitle(), flush=True)
    print("status:", window.statusBar().currentMessage(), flush=True)
    os._exit(0)
startup.painted.connect(painted)
app.exec()
"""


def start_app(env: dict[str, str]) -> list[str]:
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_the_app_reopens_the_last_project_and_names_a_gone_one_in_the_status_bar(tmp_path) -> None:
    """The app as ``netbuilder`` starts it, twice: once on the saved project, once after it was deleted."""
    from PySide6.QtCore import QSettings

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "NETBUILDER_DATA_DIR": str(tmp_path / "data")}
    path = saved_copy(tmp_path)
    ini = tmp_path / "config" / "netbuilder" / "netbuilder.ini"  # where the app's QSettings live on Linux
    ini.parent.mkdir(parents=True)
    store = QSettings(str(ini), QSettings.Format.IniFormat)
    store.setValue("session/lastProject", str(path))
    store.sync()
    title, status = start_app(env)
    assert title == "title: mine.nbproj[*] — netbuilder" and "Reopened mine.nbproj" in status
    path.unlink()
    title, status = start_app(env)
    assert title == "title: Digits CNN[*] — netbuilder"
    assert status == f"status: The last project, {path}, is gone: opened the digits CNN example instead"


@pytest.fixture
def answer(monkeypatch):
    """Unsaved-changes questions get the queued answers; save dialogs the queued paths."""
    answers: list[Button] = []
    paths: list[Path] = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: answers.pop(0)))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(paths.pop(0)), "")))
    return answers, paths


def test_close_asks_to_save_changes_then_shows_an_empty_untitled_project(window, answer, tmp_path) -> None:
    answers, paths = answer
    win = window()
    close = next(a for a in win.menuBar().actions()[0].menu().actions() if a.text() == "&Close")
    assert close is win.close_action and close.shortcuts()[0].toString() in ("Ctrl+W", "Ctrl+F4")
    win.add_at_centre("Dropout")
    answers.append(Button.Cancel)
    close.trigger()
    assert win.document.project.name == "Digits CNN" and win.isWindowModified()  # kept, as it was
    answers.append(Button.Save)
    paths.append(tmp_path / "kept.nbproj")
    close.trigger()
    assert (tmp_path / "kept.nbproj").is_file() and load_project(tmp_path / "kept.nbproj").name == "Digits CNN"
    assert len(win.document.project.graph) == 0 and win.document.project.path is None
    assert win.windowTitle() == "Untitled[*] — netbuilder" and not win.isWindowModified()
    assert win.statusBar().currentMessage() == "Project closed"
    win.add_at_centre("Linear")
    answers.append(Button.Discard)
    close.trigger()
    assert len(win.document.project.graph) == 0 and not answers


def test_recent_lists_files_then_the_examples_apart_and_opens_either(window, answer, tmp_path) -> None:
    _, paths = answer
    win = window()
    for name in ("a.nbproj", "b.nbproj"):
        paths.append(tmp_path / name)
        assert win.save_as()
    menu = win.recent_menu
    menu.aboutToShow.emit()
    texts = [a.text() if not a.isSeparator() else "---" for a in menu.actions()]
    assert texts == ["&1 b.nbproj", "&2 a.nbproj", "---", "&Clear Recent", "---", "Examples", "Linear regression",
                     "Logistic regression", "Softmax regression", "Digits CNN", "LSTM sequence classifier"]
    header = menu.actions()[5]
    assert not header.isEnabled() and header.font().bold()  # a header, not an entry
    next(a for a in menu.example_actions if a.text() == "Linear regression").trigger()
    assert win.document.project.name == "Linear regression" and win.document.project.path is None
    menu.aboutToShow.emit()
    assert [a.text() for a in menu.recent_actions] == ["&1 b.nbproj", "&2 a.nbproj"]  # examples stay apart
    menu.recent_actions[1].trigger()
    assert win.document.project.path.resolve() == (tmp_path / "a.nbproj").resolve()
    assert [a.text() for a in win.menuBar().actions()[0].menu().actions()].count("&Examples") == 0  # one place
