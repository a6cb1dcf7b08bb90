"""Writes docs/images/<example>.png and <example>_dark.png: the main window with each built-in example,
in the light theme and in the dark one. Settings and autosaves go to a temporary
folder, so the pictures do not depend on this machine's saved window layout.

    QT_QPA_PLATFORM=offscreen python docs/screenshots.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from netbuilder import load_project
from netbuilder.examples import EXAMPLE_NAMES, example_path
from ui import settings
from ui.document import Document
from ui.main_window import MainWindow


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    private = tempfile.mkdtemp(prefix="netbuilder-screenshots-")  # read by Qt once the app exists
    os.environ["XDG_CONFIG_HOME"] = os.path.join(private, "config")
    os.environ["NETBUILDER_DATA_DIR"] = os.path.join(private, "data")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    out = Path(__file__).with_name("images")
    out.mkdir(exist_ok=True)
    shots = [(name, theme) for theme in ("light", "dark") for name in EXAMPLE_NAMES]
    for name, theme in shots:
        settings.set_theme(theme)
        file = out / (f"{name}.png" if theme == "light" else f"{name}_{theme}.png")
        project = load_project(example_path(name))
        project.path = None
        window = MainWindow(Document(project))
        window.resize(1400, 860)  # not the last window's size, which fits the 800 x 800 offscreen screen
        window.show()
        QTest.qWait(150)
        first = next(iter(window.scene.node_items.values()), None)
        if name == "mnist_cnn" and first is not None:  # show the inspector at work on one layer
            window.focus_node(window.document.project.graph.by_name("conv2").id)
            window.view.frame_readable()
            QTest.qWait(50)
        window.grab().save(str(file))
        window.document.undo_stack.setClean()
        window.close()
        print("wrote", file)
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
