"""Starting the desktop app: the window paints before torch loads (see ui/startup.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from ui.main_window import MainWindow
from ui.startup import Startup


def open_window(path: str | None = None) -> tuple[QApplication, MainWindow, Startup]:
    """The application, its main window (shown) on ``path`` or on the digits CNN, and its start-up watcher."""
    from netbuilder.examples import example_path
    from netbuilder.project import load_project
    from ui.document import Document

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("netbuilder")
    app.setOrganizationName("netbuilder")
    if path:
        document = Document.open(Path(path))
    else:  # the first screen is a working graph: the digits CNN
        project = load_project(example_path("mnist_cnn"))
        project.path = None
        document = Document(project)
    window = MainWindow(document)
    startup = Startup(window.view.viewport(), window)
    startup.ready.connect(lambda error: window.statusBar().showMessage(error or "Ready", 0 if error else 3000))
    window.show()
    window.view.frame_all()
    return app, window, startup


def run_app(path: str | None = None) -> int:
    app, _window, _startup = open_window(path)
    return app.exec()
