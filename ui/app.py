"""Starting the desktop app."""

from __future__ import annotations

import sys
from pathlib import Path


def run_app(path: str | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from netbuilder.examples import example_path
    from netbuilder.project import load_project
    from ui.document import Document
    from ui.main_window import MainWindow

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
    window.show()
    window.view.frame_all()
    return app.exec()
