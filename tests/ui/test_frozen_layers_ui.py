"""Freezing a layer's weights from the app: the Inspector's Frozen box and Layer ▸ Freeze Weights, each one
undo step; the node says it is frozen and the Summary dock counts its weights as frozen."""

from __future__ import annotations

from tests.ui.test_context_menus import entries
from tests.ui.test_summary_dock import shown_summary


def test_the_inspectors_frozen_box_freezes_the_layer_in_one_undo_step(window, qtbot) -> None:
    win = window("mnist_cnn")
    graph = win.document.project.graph
    conv1 = graph.by_name("conv1")
    dock = shown_summary(win)  # shown before: it must see that the edit changes its figures
    qtbot.waitUntil(lambda: dock.summary is not None, timeout=20000)
    win.focus_node(conv1.id)
    box = win.inspector.editors["frozen"]
    assert not box.isChecked()
    steps = win.document.undo_stack.count()
    box.setChecked(True)
    assert conv1.frozen and win.document.undo_stack.count() == steps + 1
    item = win.scene.node_items[conv1.id]
    assert "Frozen" in item.toolTip()
    qtbot.waitUntil(lambda: {r.name: r for r in dock.summary.rows}["conv1"].frozen == 320, timeout=20000)
    win.undo_action.trigger()
    assert not conv1.frozen
    # A layer without weights offers nothing to freeze.
    win.focus_node(graph.by_name("relu1").id)
    assert "frozen" not in win.inspector.editors


def test_layer_freeze_weights_freezes_the_selection_and_again_unfreezes_it(window) -> None:
    win = window("mnist_cnn")
    graph = win.document.project.graph
    ids = [graph.by_name(n).id for n in ("conv1", "conv2")]
    win.scene.select_nodes(ids)
    action = win.layer_actions.freeze
    assert action in entries(win.layer_menu)
    win.layer_menu.aboutToShow.emit()
    assert action.isEnabled() and not action.isChecked()
    steps = win.document.undo_stack.count()
    action.trigger()
    assert all(graph.node(n).frozen for n in ids) and win.document.undo_stack.count() == steps + 1
    win.layer_menu.aboutToShow.emit()
    assert action.isChecked()
    action.trigger()
    assert not any(graph.node(n).frozen for n in ids)
    win.layer_menu.aboutToHide.emit()
    # The layer's own right-click menu has it too.
    menu = win.context_menus.node_menu(ids[0])
    assert action in entries(menu)
