"""Writes docs/images/quick_fix.png (a quick fix offered in the Problems dock and as a badge on the layer)
and docs/images/context_menu_node.png (a layer's context menu open), in the light theme, on the digits
CNN with its Flatten taken out. Settings and autosaves go to a temporary folder.

    python docs/quick_fix_screenshots.py

Offscreen, on a screen as big as a desktop's (the offscreen platform's own is 800 x 800, where the
menu would be pushed away from the pointer to fit).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from netbuilder import load_project
from netbuilder.examples import example_path
from netbuilder.model.edits import Compound, Connect, RemoveNode
from ui import settings
from ui.document import Document
from ui.main_window import MainWindow


def broken_cnn_window() -> MainWindow:
    project = load_project(example_path("mnist_cnn"))
    project.path = None
    window = MainWindow(Document(project))
    window.resize(1400, 860)
    window.show()
    QTest.qWait(150)
    graph = window.document.project.graph
    flatten, fc1 = graph.by_name("flatten"), graph.by_name("fc1")
    src = graph.in_edges(flatten.id)["in"].src
    window.document.push(Compound("Delete flatten", [RemoveNode(flatten.id), Connect(src, "out", fc1.id, "in")]))
    window.problems.show()
    window.problems.raise_()
    window.resizeDocks([window.problems], [170], Qt.Orientation.Vertical)
    # Close on the broken layers, at 100 %, so the badge and the text read as on a user's screen.
    window.view.resetTransform()
    item = window.scene.node_items[fc1.id]
    window.view.centerOn(item.sceneBoundingRect().center() - QPoint(150, 0))
    QTest.qWait(100)
    return window


def main() -> int:
    screen = Path(tempfile.mkdtemp(prefix="netbuilder-screen-")) / "screen.json"
    screen.write_text(json.dumps({"screens": [{"name": "desktop", "x": 0, "y": 0, "width": 1600, "height": 1000,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    os.environ.setdefault("QT_QPA_PLATFORM", f"offscreen:configfile={screen}")
    private = tempfile.mkdtemp(prefix="netbuilder-screenshots-")
    os.environ["XDG_CONFIG_HOME"] = os.path.join(private, "config")
    os.environ["NETBUILDER_DATA_DIR"] = os.path.join(private, "data")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    out = Path(__file__).with_name("images")
    settings.set_theme("light")

    window = broken_cnn_window()
    window.grab().save(str(out / "quick_fix.png"))
    print("wrote", out / "quick_fix.png")

    fc1 = window.document.project.graph.by_name("fc1")
    item = window.scene.node_items[fc1.id]
    window.scene.select_nodes([fc1.id])
    at = window.view.mapFromScene(item.sceneBoundingRect().center())
    menu = window.context_menus.node_menu(fc1.id)
    menu.popup(window.view.viewport().mapToGlobal(at))
    QTest.qWait(150)
    shot = window.grab()
    composed = QPixmap(shot.size())
    painter = QPainter(composed)
    painter.drawPixmap(0, 0, shot)
    corner = window.mapFromGlobal(menu.pos())
    painter.drawPixmap(corner, menu.grab())
    painter.end()
    # The canvas and the menu, without the docks around them.
    area = QRectF(window.view.geometry()).toAlignedRect().united(menu.geometry().translated(corner - menu.pos()))
    composed.copy(area).save(str(out / "context_menu_node.png"))
    print("wrote", out / "context_menu_node.png")
    menu.close()
    window.document.undo_stack.setClean()
    window.close()
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
