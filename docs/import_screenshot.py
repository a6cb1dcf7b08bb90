"""Writes docs/images/import_shufflenet.png: ShuffleNet from the ONNX model zoo (onnx ships it as test
data), imported as File ▸ Import ONNX imports it, in the window's first frame, and
docs/images/import_shufflenet_all.png: the same after Frame All. Settings, autosaves and the imported
project go to a temporary folder.

    QT_QPA_PLATFORM=offscreen python docs/import_screenshot.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import onnx
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

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
    model = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light" / "light_shufflenet.onnx"
    window = MainWindow(Document())
    window.resize(1400, 860)
    window.show()
    QTest.qWait(150)
    if not window.import_onnx_file(model, Path(private) / "shufflenet.nbproj"):
        print("the import failed", file=sys.stderr)
        return 1
    QTest.qWait(300)
    images = Path(__file__).with_name("images")
    print(f"{len(window.document.project.graph)} layers; first frame at {window.view.zoom_percent():.0f} %")
    window.grab().save(str(images / "import_shufflenet.png"))
    window.view.frame_all()
    QTest.qWait(200)
    window.grab().save(str(images / "import_shufflenet_all.png"))
    window.document.undo_stack.setClean()
    window.close()
    print("wrote", images / "import_shufflenet.png", "and", images / "import_shufflenet_all.png")
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
