"""A first-time user builds the teaching text's digits CNN from an empty canvas, keyboard and inspector only."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QCursor
from PySide6.QtTest import QTest

from netbuilder import load_project, summarize
from netbuilder.examples import example_path

# (kind typed into quick add, parameters typed into the inspector), in the seed's order.
CNN = [("Input", {"shape": "[1, 28, 28]"}), ("Conv2d", {"out_channels": "32"}), ("ReLU", {}),
       ("MaxPool2d", {"kernel_size": "2"}), ("Conv2d", {"out_channels": "64"}), ("ReLU", {}),
       ("MaxPool2d", {"kernel_size": "2"}), ("Conv2d", {"out_channels": "64"}), ("ReLU", {}), ("Flatten", {}),
       ("Linear", {"out_features": "64"}), ("ReLU", {}), ("Linear", {"out_features": "10"}), ("Output", {})]


def type_into(editor, text: str) -> None:
    """Select what the editor holds, type ``text``, press Enter: as a user edits a field."""
    line = editor.lineEdit() if hasattr(editor, "lineEdit") else editor
    line.setFocus()
    line.selectAll()
    QTest.keyClicks(line, text)
    QTest.keyClick(line, Qt.Key.Key_Return)


def test_the_seed_cnn_built_with_tab_and_the_inspector_matches_the_example(window) -> None:
    win = window()
    win.new()
    graph = win.document.project.graph
    assert len(graph) == 0
    QCursor.setPos(win.menuBar().mapToGlobal(QPoint(5, 5)))  # off the canvas: each layer goes right of the last
    for kind, params in CNN:
        win.activateWindow()
        win.view.setFocus()
        QTest.keyClick(win.view, Qt.Key.Key_Tab)
        popup = win.edit_actions.quick_add.popup
        QTest.keyClicks(popup.search, kind.lower())
        QTest.keyClick(popup.search, Qt.Key.Key_Return)
        new = graph.node(win.scene.selected_node_ids()[0])
        assert new.kind == kind
        for name, text in params.items():
            type_into(win.inspector.editors[name], text)
    example = load_project(example_path("mnist_cnn")).graph
    assert [n.kind for n in graph] == [n.kind for n in example]
    assert all(len(graph.in_edges(n.id)) == 1 for n in graph if n.kind != "Input")  # wired as a chain
    assert win.document.problems() == [] and win.problems.list.count() == 0
    built, seed = summarize(graph), summarize(example)
    assert (built.total_params, built.total_macs) == (seed.total_params, seed.total_macs)
    assert built.rows[-1].output == seed.rows[-1].output
    stack = win.document.undo_stack
    assert stack.count() >= len(CNN)  # a step per layer, and one per parameter that changed
    stack.setIndex(0)
    assert len(graph) == 0
    stack.setIndex(stack.count())
    assert summarize(graph).total_params == seed.total_params and win.document.problems() == []
