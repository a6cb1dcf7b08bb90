"""Writes docs/images/<example>.png: the main window with each built-in example.

    QT_QPA_PLATFORM=offscreen python docs/screenshots.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from netbuilder import load_project
from netbuilder.examples import EXAMPLE_NAMES, example_path
from ui.document import Document
from ui.main_window import MainWindow


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    out = Path(__file__).with_name("images")
    out.mkdir(exist_ok=True)
    for name in EXAMPLE_NAMES:
        project = load_project(example_path(name))
        project.path = None
        window = MainWindow(Document(project))
        window.show()
        QTest.qWait(150)
        first = next(iter(window.scene.node_items.values()), None)
        if name == "mnist_cnn" and first is not None:  # show the inspector at work on one layer
            window.focus_node(window.document.project.graph.by_name("conv2").id)
            window.view.frame_all()
            QTest.qWait(50)
        window.grab().save(str(out / f"{name}.png"))
        window.document.undo_stack.setClean()
        window.close()
        print("wrote", out / f"{name}.png")
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
