"""Starting the desktop app: the window paints before torch loads (see ui/startup.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from ui import settings
from ui.icons import app_icon
from ui.main_window import MainWindow
from ui.startup import Startup


def open_window(path: str | None = None) -> tuple[QApplication, MainWindow, Startup]:
    """The application, its main window (shown) on ``path`` or on the digits CNN, and its start-up watcher."""
    from netbuilder.errors import NetbuilderError
    from ui.document import Document
    from ui.files.last_project import example_document, start_document

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("netbuilder")
    app.setOrganizationName("netbuilder")
    app.setWindowIcon(app_icon())
    problem = note = None
    document = None
    if path:
        try:
            document = Document.open(Path(path))
            settings.add_recent_file(path)
        except (NetbuilderError, OSError) as exc:  # say why once the window is up, and start on the example
            problem = f"Could not open {path}:\n{exc}"
    if document is None:  # the project open at the last quit; the digits CNN on a first start (or in its place)
        document, note = (example_document(), None) if problem else start_document()
    window = MainWindow(document)
    if problem:
        QTimer.singleShot(0, window, lambda: QMessageBox.warning(window, "Cannot open", problem))
    if note:
        window.statusBar().showMessage(note, 10000)
    startup = Startup(window.view.viewport(), window)
    startup.ready.connect(lambda error: window.statusBar().showMessage(error or note or "Ready",
                                                                       0 if error else 10000 if note else 3000))
    startup.ready.connect(lambda _error: window.engine_ready())
    window.show()
    window.view.frame_readable()
    return app, window, startup


def run_app(path: str | None = None) -> NoReturn:
    from ui.files.autosave import offer_recovery

    app, window, _startup = open_window(path)
    offer_recovery(window, window.autosave, window.open_document)  # a crash's unsaved work: ask once the window is up
    code = app.exec()
    # Everything is saved by now (the window's close saved the layout, the project or its autosave, the runs'
    # history). Python's own teardown with Qt, torch and ONNX Runtime loaded sometimes aborts after that
    # ("terminate called without an active exception", exit -6; seen once in 8 quits), so the app leaves
    # without it, once the settings are on disk.
    settings.store().sync()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
