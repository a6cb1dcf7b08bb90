"""Writes docs/images/summary_dock.png: the Summary dock on the digits CNN in the light theme, floated
and sized to show every row, with one layer selected on the canvas. Settings and autosaves go to a
temporary folder.

    QT_QPA_PLATFORM=offscreen python docs/summary_screenshot.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import torch  # noqa: F401  (the app loads it after the first paint; the summary waits for it)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from netbuilder import load_project
from netbuilder.examples import example_path
from ui import settings
from ui.document import Document
from ui.main_window import MainWindow


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    private = tempfile.mkdtemp(prefix="netbuilder-screenshots-")
    os.environ["XDG_CONFIG_HOME"] = os.path.join(private, "config")
    os.environ["NETBUILDER_DATA_DIR"] = os.path.join(private, "data")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings.set_theme("light")
    project = load_project(example_path("mnist_cnn"))
    project.path = None
    window = MainWindow(Document(project))
    window.resize(1400, 860)
    window.show()
    QTest.qWait(150)
    dock = window.summary_dock
    dock.setFloating(True)
    dock.show()
    QTest.qWait(50)
    table = dock.table
    width = sum(table.columnWidth(c) for c in range(table.columnCount())) + 40
    rows = sum(table.rowHeight(r) for r in range(table.rowCount())) + table.horizontalHeader().height()
    dock.resize(width, rows + 150)
    QTest.qWait(50)
    spare = table.viewport().height() - (rows - table.horizontalHeader().height()) - 4
    dock.resize(width, dock.height() - spare)  # no empty table below the last row
    window.focus_node(window.document.project.graph.by_name("conv2").id)
    QTest.qWait(100)
    out = Path(__file__).with_name("images") / "summary_dock.png"
    dock.grab().save(str(out))
    window.document.undo_stack.setClean()
    window.close()
    print("wrote", out)
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
