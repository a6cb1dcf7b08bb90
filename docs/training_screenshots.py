"""Writes docs/images/trained_<example>.png: the main window after each built-in example has trained with
one press of Train (the Results dock showing the teaching text's picture), and training_live.png: the
digits CNN mid-run, its curves growing. Settings, runs and autosaves go to a temporary folder.

    QT_QPA_PLATFORM=offscreen python docs/training_screenshots.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from netbuilder import load_project
from netbuilder.examples import EXAMPLE_NAMES, example_path
from netbuilder.training.events import Epoch
from ui.document import Document
from ui.main_window import MainWindow


def wait(window: MainWindow, signal, timeout_ms: int = 300_000) -> None:
    loop = QEventLoop()
    signal.connect(lambda *_: QTimer.singleShot(400, loop.quit))
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def open_on(name: str) -> MainWindow:
    project = load_project(example_path(name))
    project.path = None
    window = MainWindow(Document(project))
    window.resize(1400, 900)
    window.show()
    QApplication.processEvents()
    return window


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    private = tempfile.mkdtemp(prefix="netbuilder-screenshots-")
    os.environ["XDG_CONFIG_HOME"] = os.path.join(private, "config")
    os.environ["NETBUILDER_DATA_DIR"] = os.path.join(private, "data")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    import torch  # noqa: F401  (as after the app's start-up: the data docks preview and check at once)

    out = Path(__file__).with_name("images")
    out.mkdir(exist_ok=True)
    for name in EXAMPLE_NAMES:
        window = open_on(name)
        window.engine_ready()
        window.run_actions.start()
        wait(window, window.runs.ended)
        QApplication.processEvents()
        window.grab().save(str(out / f"trained_{name}.png"))
        print("wrote", out / f"trained_{name}.png", flush=True)
        window.document.undo_stack.setClean()
        window.close()
    # Mid-run: the digits CNN a few epochs in, the Run dock in front.
    window = open_on("mnist_cnn")
    window.engine_ready()
    window.document.project.training["epochs"] = 12
    seen = []
    loop = QEventLoop()
    window.runs.event.connect(lambda e: isinstance(e, Epoch) and (seen.append(e), len(seen) == 4 and loop.quit()))
    window.run_actions.start()
    loop.exec()
    QTimer.singleShot(700, loop.quit)  # a few more reports, drawn
    loop.exec()
    window.grab().save(str(out / "training_live.png"))
    print("wrote", out / "training_live.png", flush=True)
    window.runs.stop_and_wait()
    window.document.undo_stack.setClean()
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
