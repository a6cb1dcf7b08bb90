"""Opening a large graph in the window runs no garbage collection while the window builds its items and docks
(each collection walks every object alive; at 10,000 nodes they cost 170-430 ms of a 2 s open), and the
collector is on again afterwards."""

from __future__ import annotations

import gc

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from netbuilder.files.project import loads_project
from tests.engine.test_gc_pause import big_project_text, collections_during
from ui.document import Document
from ui.main_window import MainWindow


def test_building_the_window_on_a_large_graph_runs_one_collection_at_most(qtbot) -> None:
    project = loads_project(big_project_text(3000))
    made: list[MainWindow] = []
    gc.collect()
    assert collections_during(lambda: made.append(MainWindow(Document(project)))) <= 1
    window = made[0]
    assert gc.isenabled()
    assert len(window.scene.node_items) == 3000
    other = Document(loads_project(big_project_text(3000)))
    gc.collect()
    assert collections_during(lambda: window.set_document(other)) <= 1
    assert gc.isenabled() and len(window.scene.node_items) == 3000
    window.document.undo_stack.setClean()
    window.close()
    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
