"""Quitting after a copy: PySide6 crashed on exit while its own QMimeData was on the clipboard; and no
traceback on the way out."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

QUIT_FROM_THE_APP = """
import sys
from PySide6.QtCore import QTimer
from ui.app import open_window

def main():
    app, window, startup = open_window()
    graph = window.document.project.graph
    window.scene.select_nodes([graph.by_name("relu1").id])
    window.edit_actions.copy.trigger()
    QTimer.singleShot(50, app.quit)
    return app.exec()

sys.exit(main())
"""

END_OF_A_SCRIPT = """
from PySide6.QtWidgets import QApplication
from netbuilder import load_project
from netbuilder.examples import example_path
from ui.document import Document
from ui.main_window import MainWindow

app = QApplication([])
window = MainWindow(Document(load_project(example_path("mnist_cnn"))))
window.show()
app.processEvents()
window.scene.select_nodes([window.document.project.graph.by_name("relu1").id])
window.edit_actions.copy.trigger()
window.document.undo_stack.setClean()
print(QApplication.clipboard().text()[:40])
"""


@pytest.mark.parametrize("code", [QUIT_FROM_THE_APP, END_OF_A_SCRIPT], ids=["quit", "script-ends"])
def test_the_process_exits_cleanly_with_layers_on_the_clipboard(code, tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "NETBUILDER_DATA_DIR": str(tmp_path / "data")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, f"exit status {out.returncode}\n{out.stderr[-2000:]}"
    # Seen at the end of a script that left its window open: as Python tore the window down, each View menu
    # entry read Qt's deleted toggle action ("Internal C++ object already deleted", nine tracebacks).
    assert "Traceback" not in out.stderr, out.stderr[-2000:]
