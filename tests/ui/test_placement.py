"""Where a new layer lands: never on another layer, and on screen. What the user sees is checked: no two
node boxes (their items' scene rects) overlap, and the new node is inside the view's visible scene rect."""

from __future__ import annotations

import os
from itertools import combinations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QCursor
from PySide6.QtTest import QTest

from netbuilder import Project
from tests.ui.test_canvas_gestures import drop, example, on_screen, open_window  # noqa: F401
from ui.canvas.items import DETAIL_ZOOM, TEXT_PX
from ui.canvas.view import FIRST_FRAME_LEAST, LEAST_TEXT_PX

SHOTS = os.environ.get("NETBUILDER_SHOTS")  # a folder: each test saves what the window shows there


def shot(win, name: str) -> None:
    if SHOTS:
        win.grab().save(os.path.join(SHOTS, f"{name}.png"))


def overlapping(win) -> list[tuple[str, str]]:
    """The pairs of layers whose boxes on the canvas overlap, by name."""
    graph = win.document.project.graph
    items = list(win.scene.node_items.items())
    return [(graph.node(a).name, graph.node(b).name) for (a, ia), (b, ib) in combinations(items, 2)
            if ia.sceneBoundingRect().intersects(ib.sceneBoundingRect())]


def visible(win, node_id: str) -> bool:
    seen = win.view.mapToScene(win.view.viewport().rect()).boundingRect()
    return seen.contains(win.scene.node_items[node_id].sceneBoundingRect())


def quick_add(win, kind: str) -> str:
    """Tab, type ``kind``, Enter; the id of the layer added (the selection after)."""
    win.activateWindow()
    win.view.setFocus()
    QTest.keyClick(win.view, Qt.Key.Key_Tab)
    popup = win.edit_actions.quick_add.popup
    QTest.keyClicks(popup.search, kind)
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    selected = win.scene.selected_node_ids()
    assert len(selected) == 1
    return selected[0]


def wire_point(win, src: str, dst: str) -> QPoint:
    graph = win.document.project.graph
    edge = next(e for e in graph.edges if graph.node(e.src).name == src and graph.node(e.dst).name == dst)
    return on_screen(win, win.scene.wire_items[edge].path().pointAtPercent(0.5))


def test_quick_add_with_the_mouse_kept_still_builds_a_chain_not_a_stack(open_window) -> None:  # noqa: F811
    win = open_window(Project())
    graph = win.document.project.graph
    QCursor.setPos(win.view.viewport().mapToGlobal(win.view.viewport().rect().center()))
    ids = []
    for kind in ("input", "conv2d", "relu"):
        ids.append(quick_add(win, kind))
        assert overlapping(win) == [] and visible(win, ids[-1]), kind
    shot(win, "placement_chain")
    assert [graph.node(i).kind for i in ids] == ["Input", "Conv2d", "ReLU"]
    # each goes right of the one it is wired after, on the same row, as a chain builds
    xs, ys = zip(*(graph.node(i).position for i in ids), strict=True)
    assert xs[0] < xs[1] < xs[2] and ys[0] == ys[1] == ys[2]
    assert win.document.undo_stack.count() == 3


def test_quick_add_beyond_the_edge_of_the_view_scrolls_to_the_new_layer(open_window) -> None:  # noqa: F811
    win = open_window(Project())
    QCursor.setPos(win.view.viewport().mapToGlobal(QPoint(win.view.viewport().width() - 30, 40)))
    ids = [quick_add(win, kind) for kind in ("input", "conv2d", "relu", "maxpool2d")]
    shot(win, "placement_scrolled")
    assert overlapping(win) == []
    assert visible(win, ids[-1])


@pytest.mark.parametrize(("src", "dst"), [("conv2", "relu2"), ("relu2", "pool2")],
                         ids=["side by side", "to the next band"])
def test_a_layer_dropped_on_the_wire_between_two_neighbours_gets_room_in_one_undo_step(
        open_window, src, dst) -> None:  # noqa: F811
    win = open_window(example("mnist_cnn"))
    win.view.resetTransform()
    graph = win.document.project.graph
    source, end = graph.by_name(src), graph.by_name(dst)
    win.view.centerOn(win.scene.node_items[end.id])
    before = {n.id: n.position for n in graph}
    assert overlapping(win) == []
    drop(win, "Dropout", wire_point(win, src, dst))
    shot(win, f"placement_dropped_{src}_{dst}")
    new = graph.node(win.scene.selected_node_ids()[0])
    assert new.kind == "Dropout"
    assert overlapping(win) == [] and visible(win, new.id)
    # it sits on the wire's row just before its end, which moved right: the wire reads left to right
    assert new.position[1] == end.position[1] and new.position[0] < end.position[0]
    assert source.position[1] != end.position[1] or source.position[0] < new.position[0]
    assert win.document.undo_stack.count() == 1
    win.undo_action.trigger()
    assert {n.id: n.position for n in graph} == before  # the neighbours go back too


def entry(menu, text: str):
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def test_insert_layer_on_wire_lists_only_layers_for_a_wire_and_places_it_on_the_wire_in_view(
        open_window) -> None:  # noqa: F811
    win = open_window(example("mnist_cnn"))
    win.view.resetTransform()
    graph = win.document.project.graph
    conv2, relu2 = graph.by_name("conv2"), graph.by_name("relu2")
    win.view.centerOn(win.scene.node_items[conv2.id])
    edge = graph.in_edges(relu2.id)["in"]
    before = {n.id: n.position for n in graph}
    entry(win.context_menus.wire_menu(edge), "Insert Layer on Wire…").trigger()
    popup = win.layer_actions.picker.popup
    assert popup.isVisible()
    listed = popup.kinds()
    assert "ReLU" in listed and "Dropout" in listed
    assert not {"Input", "Output", "Add", "Concat", "Split", "Linear"} & set(listed)  # Linear needs [N, F]
    assert "into this wire" in popup.context.text()
    shot(popup, "placement_insert_on_wire_list")
    popup.search.setText("relu")
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    shot(win, "placement_inserted_on_wire")
    new = graph.node(win.scene.selected_node_ids()[0])
    assert new.kind == "ReLU" and graph.in_edges(relu2.id)["in"].src == new.id
    assert overlapping(win) == [] and visible(win, new.id)
    assert new.position[1] == conv2.position[1] and conv2.position[0] < new.position[0] < relu2.position[0]
    assert win.document.undo_stack.count() == 1
    win.undo_action.trigger()
    assert {n.id: n.position for n in graph} == before


def test_tab_over_a_wire_adds_a_layer_the_wire_cannot_take_after_the_selected_one(open_window) -> None:  # noqa: F811
    win = open_window(example("mnist_cnn"))
    win.view.resetTransform()
    graph = win.document.project.graph
    fc2, wires = graph.by_name("fc2"), set(graph.edges)
    win.scene.select_nodes([fc2.id])
    at = wire_point(win, "conv2", "relu2")
    win.view.centerOn(win.view.mapToScene(at))
    at = wire_point(win, "conv2", "relu2")
    QCursor.setPos(win.view.viewport().mapToGlobal(at))
    win.activateWindow()
    win.view.setFocus()
    QTest.keyClick(win.view, Qt.Key.Key_Tab)
    popup = win.edit_actions.quick_add.popup
    assert "into this wire" in popup.context.text() and "after 'fc2'" in popup.context.text()
    QTest.keyClicks(popup.search, "output")
    assert popup.kinds()[0] == "Output"
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    shot(win, "placement_output_after_selection")
    new = graph.node(win.scene.selected_node_ids()[0])
    assert new.kind == "Output" and graph.in_edges(new.id)["in"].src == fc2.id
    assert set(graph.edges) - wires == {graph.in_edges(new.id)["in"]}  # the wire under the cursor is untouched
    assert overlapping(win) == [] and visible(win, new.id)
    assert win.document.undo_stack.count() == 1
    # With nothing selected an Output is not offered for the wire at all.
    win.scene.clearSelection()
    win.view.centerOn(win.scene.wire_items[graph.in_edges(graph.by_name("relu2").id)["in"]].path().pointAtPercent(0.5))
    QCursor.setPos(win.view.viewport().mapToGlobal(wire_point(win, "conv2", "relu2")))
    QTest.keyClick(win.view, Qt.Key.Key_Tab)
    assert "into this wire" in popup.context.text()
    assert "Output" not in popup.kinds() and "Input" not in popup.kinds()
    popup.close()


@pytest.mark.parametrize("name", ["mnist_cnn", "lstm_sequence"])
def test_arrange_lays_the_graph_out_to_fit_the_view_readably(open_window, name) -> None:  # noqa: F811
    win = open_window(example(name))
    win.resize(1600, 1000)  # the new user's screen, docks as they come
    QTest.qWait(20)
    win.edit_actions.arrange.trigger()
    shot(win, f"placement_arranged_{name}")
    assert win.document.undo_stack.count() == 1
    assert overlapping(win) == []
    outside = [win.document.project.graph.node(n).name for n in win.scene.node_items if not visible(win, n)]
    assert outside == []
    assert win.view.zoom_percent() >= 100 * FIRST_FRAME_LEAST - 1e-6
    assert win.view.transform().m11() * TEXT_PX >= LEAST_TEXT_PX - 1e-6


@pytest.mark.parametrize("name", ["mnist_cnn", "lstm_sequence"])
def test_arrange_under_a_tall_bottom_dock_leaves_the_whole_graph_on_screen(open_window, name) -> None:  # noqa: F811
    """A user following a run keeps the Runs dock half the window tall: Arrange still shows all of the graph
    (it cut the digits CNN's last band off, at 83 % for a canvas 394 px tall), laid out for that short canvas
    and zoomed out as far as that takes, its nodes still drawn in full; the minimap has nothing to add."""
    win = open_window(example(name))
    win.resize(1600, 1000)
    win.runs_dock.show()
    win.runs_dock.raise_()
    QTest.qWait(20)
    win.resizeDocks([win.runs_dock], [win.height() // 2], Qt.Orientation.Vertical)
    QTest.qWait(50)
    assert win.view.viewport().height() < 450  # the short canvas
    win.edit_actions.arrange.trigger()
    QTest.qWait(50)  # whatever settles after (docks, status bar) has settled
    shot(win, f"placement_arranged_tall_dock_{name}")
    assert win.document.undo_stack.count() == 1
    assert overlapping(win) == []
    outside = [win.document.project.graph.node(n).name for n in win.scene.node_items if not visible(win, n)]
    assert outside == []
    assert win.view.transform().m11() >= DETAIL_ZOOM
    assert not win.view.minimap.isVisible()
    win.view.reset_zoom()  # the user zooms in to work on a layer, then asks to see the layout again
    win.edit_actions.arrange.trigger()
    assert "arranged already" in win.statusBar().currentMessage() and win.document.undo_stack.count() == 1
    outside = [win.document.project.graph.node(n).name for n in win.scene.node_items if not visible(win, n)]
    assert outside == []


def imported_sequential(tmp_path) -> Project:
    """A small CNN written in torch, exported to ONNX and imported, as File > Import ONNX does: conv, relu,
    pool, flatten, linear, relu, dropout, linear, laid out in two bands."""
    import torch
    from torch import nn

    from netbuilder.onnx.importer import import_onnx

    module = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 13 * 13, 32),
                           nn.ReLU(), nn.Dropout(), nn.Linear(32, 10)).eval()
    path = tmp_path / "seq.onnx"
    torch.onnx.export(module, (torch.randn(1, 1, 28, 28),), str(path), dynamo=False, input_names=["x"],
                      output_names=["y"])
    project, _weights = import_onnx(path)
    return project


def test_set_as_output_puts_the_output_beside_its_new_source_its_wire_crossing_no_layer(
        open_window, tmp_path) -> None:  # noqa: F811
    """The wire to the Output ran straight under the next layers of the row, as if out of the next Linear."""
    win = open_window(imported_sequential(tmp_path))
    win.view.resetTransform()
    graph = win.document.project.graph
    relus = [n for n in graph if n.kind == "ReLU"]
    source = max(relus, key=lambda n: n.position[1])  # the ReLU after the first Linear, mid-row
    [output] = [n for n in graph if n.kind == "Output"]
    assert any(n.position[1] == source.position[1] and n.position[0] > source.position[0] + 300 for n in graph)
    [first] = [n for n in graph if n.kind == "Input"]
    win.view.centerOn(win.scene.node_items[first.id].sceneBoundingRect().center() - QPointF(0, 600))
    before = {n.id: n.position for n in graph}
    entry(win.context_menus.node_menu(source.id), "Set as Output").trigger()
    shot(win, "placement_set_as_output")
    wire = graph.in_edges(output.id)["in"]
    assert wire.src == source.id
    assert output.position[0] == source.position[0] + 300  # one column right of it
    assert overlapping(win) == [] and visible(win, output.id)
    path = win.scene.wire_items[wire].path()
    others = [item.body_rect() for n, item in win.scene.node_items.items() if n not in (source.id, output.id)]
    crossed = [r for r in others for k in range(101) if r.contains(path.pointAtPercent(k / 100))]
    assert crossed == []
    assert win.document.undo_stack.count() == 1
    win.undo_action.trigger()
    assert {n.id: n.position for n in graph} == before


def palette_double_click(win, kind: str) -> None:
    """Double-click ``kind``'s entry in the Layers palette, with the mouse, as a user does."""
    tree = win.palette.tree
    [item] = [tree.topLevelItem(g).child(k) for g in range(tree.topLevelItemCount())
              for k in range(tree.topLevelItem(g).childCount())
              if tree.topLevelItem(g).child(k).data(0, Qt.ItemDataRole.UserRole) == kind
              and not tree.topLevelItem(g).child(k).isHidden()]
    tree.scrollToItem(item)
    at = tree.visualItemRect(item).center()
    QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=at)
    QTest.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=at)


def test_palette_double_clicks_build_a_wired_chain_not_a_stack(window) -> None:
    """File > New, double-click Input, Linear, Linear: a chain wired left to right, none on another; then with
    the Input selected, Output double-clicked goes beside it, wired from it (and Enter in the search the same)."""
    win = window("linear_regression")
    win.new_action.trigger()
    graph = win.document.project.graph
    assert len(graph) == 0
    ids = []
    for kind in ("Input", "Linear", "Linear"):
        palette_double_click(win, kind)
        [new] = win.scene.selected_node_ids()
        ids.append(new)
        assert overlapping(win) == [] and visible(win, new), kind
    shot(win, "placement_palette_chain")
    assert [graph.node(i).kind for i in ids] == ["Input", "Linear", "Linear"]
    assert graph.in_edges(ids[1])["in"].src == ids[0] and graph.in_edges(ids[2])["in"].src == ids[1]
    xs, ys = zip(*(graph.node(i).position for i in ids), strict=True)
    assert xs[0] < xs[1] < xs[2] and ys[0] == ys[1] == ys[2]
    win.scene.select_nodes([ids[0]])
    palette_double_click(win, "Output")
    [output] = win.scene.selected_node_ids()
    assert graph.node(output).kind == "Output" and graph.in_edges(output)["in"].src == ids[0]
    assert overlapping(win) == [] and visible(win, output)
    assert graph.node(output).position[0] > graph.node(ids[0]).position[0]  # beside it, to its right
    win.scene.select_nodes([ids[2]])
    win.palette.search.setFocus()
    QTest.keyClicks(win.palette.search, "dropout")
    QTest.keyClick(win.palette.search, Qt.Key.Key_Return)
    [dropout] = win.scene.selected_node_ids()
    assert graph.node(dropout).kind == "Dropout" and graph.in_edges(dropout)["in"].src == ids[2]
    assert overlapping(win) == [] and visible(win, dropout)
    assert win.document.undo_stack.count() == 5  # one step each


def test_an_empty_canvas_says_how_to_start_and_the_hint_goes_with_the_first_layer(window, qtbot) -> None:
    # A new user's File ▸ New was a blank grid: nothing said to drag from the palette or press Tab.
    from netbuilder.model.edits import AddNode

    win = window()
    hint = win.view.empty_hint
    assert not hint.isVisible()  # an example has layers
    win.new_action.trigger()
    qtbot.waitUntil(hint.isVisible)
    assert "Tab" in hint.text() and "Layers" in hint.text()
    area = win.view.viewport().rect()
    assert area.contains(hint.geometry()) and abs(hint.geometry().center().x() - area.center().x()) <= 2
    graph = win.document.project.graph
    win.document.push(AddNode(graph.make_node("Input", position=(0, 0))))
    qtbot.waitUntil(lambda: not hint.isVisible())
    win.undo_action.trigger()
    qtbot.waitUntil(hint.isVisible)
