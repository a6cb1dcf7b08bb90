"""GUI tests run offscreen (set before Qt loads, in tests/conftest.py), and under `make test-gui-x` on Xvfb
(xcb), with real widgets."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from netbuilder import load_project
from netbuilder.examples import example_path
from ui.document import Document
from ui.main_window import MainWindow


@pytest.fixture
def window(qtbot):
    """Opens a main window on an example. Closed by this fixture (not qtbot), after marking the
    document saved: closing with unsaved changes asks the user, and no one is there to answer."""
    made: list[MainWindow] = []

    def make(example: str = "mnist_cnn") -> MainWindow:
        project = load_project(example_path(example))
        project.path = None
        win = MainWindow(Document(project))
        made.append(win)
        win.show()
        qtbot.waitExposed(win)
        # A desktop's window manager activates a window that opens; Xvfb has none, and the offscreen platform
        # activates every window. Window-wide shortcuts (Ctrl+Z, F, Home) only reach the active window.
        win.activateWindow()
        qtbot.waitActive(win)
        qtbot.wait(50)
        win.document.undo_stack.setClean()
        return win

    yield make
    for win in made:
        win.runs.stop_and_wait()  # a run still training would make closing ask the user
        win.document.undo_stack.setClean()
        win.close()
        win.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # delete now, not at interpreter exit
    made.clear()
    gc.collect()  # any trouble tearing a window down shows here, in its own test


@pytest.fixture(autouse=True)
def private_settings(tmp_path_factory, monkeypatch):
    """Settings, autosaves and the theme stay inside the test: the user's own are never read or written."""
    from PySide6.QtCore import QSettings, QStandardPaths

    from ui.theme import apply_theme

    QStandardPaths.setTestModeEnabled(True)
    root = tmp_path_factory.mktemp("user")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(root / "settings"))
    monkeypatch.setenv("NETBUILDER_DATA_DIR", str(root / "data"))
    yield root
    if QApplication.instance() is not None:
        apply_theme("system")  # the next test starts light, whatever this one chose
