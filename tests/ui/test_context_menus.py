"""The canvas's and the Problems dock's context menus: every entry does what it says, as one undo step,
and every entry is also in a main menu."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QAction, QContextMenuEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog, QMenu

from netbuilder.model.edits import Compound, Connect, RemoveNode
from ui.canvas.items import HEADER, NODE_WIDTH, snap
from ui.edit_menu import copy_to_clipboard

NONE = Qt.KeyboardModifier.NoModifier


def snapshot(win) -> str:
    return json.dumps(win.document.project.to_dict(), sort_keys=True)


def node(win, name: str):
    return win.document.project.graph.by_name(name)


def entries(menu: QMenu) -> list[QAction]:
    return [a for a in menu.actions() if not a.isSeparator()]


def entry(menu: QMenu, text: str) -> QAction:
    found = [a for a in entries(menu) if a.text().replace("&", "").split("\t")[0] == text]
    assert len(found) == 1, [a.text() for a in entries(menu)]
    return found[0]


def menu_bar_actions(win) -> list[QAction]:
    """Every action of the menu bar, its menus opened (as a user would) so the ones filled on opening are there."""
    found: list[QAction] = []

    def walk(menu: QMenu) -> None:
        menu.aboutToShow.emit()
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu())
            elif not action.isSeparator():
                found.append(action)

    for top in win.menuBar().actions():
        walk(top.menu())
    return found


def in_menu_bar(win, action: QAction) -> bool:
    """The same action, or one with the same text and keys, is in a main menu."""
    bar = menu_bar_actions(win)
    return action in bar or any(a.text() == action.text() and a.shortcuts() == action.shortcuts() for a in bar)


def broken_cnn(window):
    """The digits CNN with its Flatten taken out: fc1 is fed an image, and offers the fix."""
    win = window("mnist_cnn")
    graph = win.document.project.graph
    flatten, fc1 = graph.by_name("flatten"), graph.by_name("fc1")
    src = graph.in_edges(flatten.id)["in"].src
    win.document.push(Compound("break", [RemoveNode(flatten.id), Connect(src, "out", fc1.id, "in")]))
    return win


def test_every_context_menu_entry_is_in_a_main_menu(window) -> None:
    win = broken_cnn(window)
    graph = win.document.project.graph
    menus = {
        "canvas": win.context_menus.canvas_menu(QPointF(-500, -500)),
        "layer": win.context_menus.node_menu(node(win, "fc1").id),
        "wire": win.context_menus.wire_menu(graph.edges[0]),
        "problem": win.problems.problem_menu(0),
    }
    assert [a.text() for a in entries(menus["layer"])][-1].startswith("Apply Fix: Insert Flatten before Linear 'fc1'")
    assert entries(menus["problem"])[0].text().startswith("Apply Fix: Insert Flatten")
    for where, menu in menus.items():
        assert len(entries(menu)) >= 2
        for action in entries(menu):
            assert in_menu_bar(win, action), f"{where} menu: {action.text()!r} is in no main menu"


def test_the_layer_menu_holds_the_layer_actions_with_f2_for_rename(window) -> None:
    win = window()
    texts = [a.text() for a in win.layer_menu.actions()]
    assert texts[:2] == ["&Rename Layer…", "Dis&connect All"]
    assert win.layer_actions.rename.shortcut().toString() == "F2"
    assert "Quick &Fixes" in texts and "Select the Problem's &Layer" in texts


# ---- the canvas ----------------------------------------------------------------------------------
def choose_in_picker(win, kind: str) -> None:
    popup = win.layer_actions.picker.popup
    assert popup is not None and popup.isVisible()
    popup.search.setText(kind)
    QTest.keyClick(popup.search, Qt.Key.Key_Return)


def test_add_layer_here_opens_the_list_at_the_click_and_adds_it_there(window) -> None:
    win = window("linear_regression")
    win.scene.clearSelection()
    corner = win.view.mapToScene(win.view.viewport().rect().topLeft())  # a popup there fits on any screen
    at = QPointF(round(corner.x() / 10) * 10 + 40, round(corner.y() / 10) * 10 + 41)
    menu = win.context_menus.canvas_menu(at)
    add = entry(menu, "Quick Add Layer…")
    assert add.text() == win.edit_actions.add_layer.text()
    add.trigger()
    popup = win.layer_actions.picker.popup
    corner = win.view.viewport().mapToGlobal(win.view.mapFromScene(at))
    assert (popup.pos() - corner).manhattanLength() <= 6  # where the click was, to the pixel rounding
    choose_in_picker(win, "ReLU")
    [added] = [n for n in win.document.project.graph if n.kind == "ReLU"]
    assert added.position == snap(at.x() - NODE_WIDTH / 2, at.y() - HEADER / 2)  # header centred, on the grid
    assert win.document.undo_stack.count() == 1


def test_paste_arrange_select_all_and_frame_all_from_the_canvas_menu(window) -> None:
    win = window("linear_regression")
    graph = win.document.project.graph
    win.scene.select_nodes([node(win, "linear").id])
    copy_to_clipboard(win.scene)
    menu = win.context_menus.canvas_menu(QPointF(0, 0))
    entry(menu, "Paste").trigger()
    assert len(graph) == 4 and win.document.undo_stack.count() == 1
    entry(menu, "Arrange Layers").trigger()
    assert win.document.undo_stack.count() == 2
    assert len({n.position for n in graph}) == 4  # no two layers in one place
    entry(menu, "Select All").trigger()
    assert len(win.scene.selected_node_ids()) == 4
    win.view.resetTransform()
    win.view.scale(3, 3)
    entry(menu, "Frame All").trigger()
    assert win.view.transform().m11() < 3
    visible = win.view.mapToScene(win.view.viewport().rect()).boundingRect()
    assert all(visible.contains(i.sceneBoundingRect()) for i in win.scene.node_items.values())


# ---- a layer -------------------------------------------------------------------------------------
def test_rename_from_the_layer_menu(window, monkeypatch) -> None:
    win = window()
    fc1 = node(win, "fc1")
    asked = []
    monkeypatch.setattr(QInputDialog, "getText",
                        lambda parent, title, label, text="": asked.append(text) or ("dense", True))
    entry(win.context_menus.node_menu(fc1.id), "Rename Layer…").trigger()
    assert asked == ["fc1"] and win.document.project.graph.node(fc1.id).name == "dense"
    win.undo_action.trigger()
    assert win.document.project.graph.node(fc1.id).name == "fc1"


def test_duplicate_and_delete_from_the_layer_menu_act_on_the_clicked_layer(window) -> None:
    win = window()
    graph = win.document.project.graph
    relu4 = node(win, "relu4")
    win.scene.select_nodes([relu4.id])
    entry(win.context_menus.node_menu(relu4.id), "Duplicate").trigger()
    assert len(graph) == 15 and [n.kind for n in graph][-1] == "ReLU"
    win.undo_action.trigger()
    win.scene.select_nodes([relu4.id])
    entry(win.context_menus.node_menu(relu4.id), "Delete").trigger()
    assert graph.by_name("relu4") is None and len(graph) == 13
    assert win.document.undo_stack.count() == 1  # the undone duplicate, then the delete


def test_disconnect_all_cuts_every_wire_of_the_layer_in_one_step(window) -> None:
    win = window()
    graph = win.document.project.graph
    before = snapshot(win)
    relu4 = node(win, "relu4")
    entry(win.context_menus.node_menu(relu4.id), "Disconnect All").trigger()
    assert not graph.in_edges(relu4.id) and not graph.out_edges(relu4.id)
    assert len(graph.edges) == 11 and win.document.undo_stack.count() == 1
    win.undo_action.trigger()
    assert snapshot(win) == before


@pytest.mark.parametrize("side", ["Before", "After"])
def test_insert_a_layer_before_or_after_goes_in_wired(window, side: str) -> None:
    win = window()
    graph = win.document.project.graph
    fc1, relu4 = node(win, "fc1"), node(win, "relu4")
    target = relu4 if side == "Before" else fc1
    entry(win.context_menus.node_menu(target.id), f"Insert Layer {side}…").trigger()
    choose_in_picker(win, "Dropout")
    [dropout] = [n for n in graph if n.kind == "Dropout"]
    assert graph.in_edges(dropout.id)["in"].src == fc1.id
    assert graph.in_edges(relu4.id)["in"].src == dropout.id
    assert win.scene.selected_node_ids() == [dropout.id]
    assert win.document.problems() == [] and win.document.undo_stack.count() == 1
    box = win.scene.node_items[dropout.id].sceneBoundingRect()
    assert not any(box.intersects(i.sceneBoundingRect()) for n, i in win.scene.node_items.items() if n != dropout.id)


@pytest.mark.parametrize(("side", "name", "takes"), [("Before", "conv2", "[N, 32, 13, 13]"),
                                                      ("After", "fc1", "[N, 64]"),
                                                      ("Before", "fc1", "[N, 576]")])
def test_insert_before_or_after_lists_only_the_layers_that_fit_and_enter_inserts_the_first(
        window, side, name, takes) -> None:
    """Insert Before / After lists, as Insert on Wire does, only the layers that take the shape flowing in and
    give what comes next takes (it listed every layer with Input first, and Enter said "Cannot insert")."""
    win = window()
    graph = win.document.project.graph
    target = node(win, name)
    entry(win.context_menus.node_menu(target.id), f"Insert Layer {side}…").trigger()
    popup = win.layer_actions.picker.popup
    assert popup.isVisible()
    listed = popup.kinds()
    assert popup.context.isVisible() and popup.context.text() == f"Layers that take {takes}, {side.lower()} '{name}'"
    assert not {"Input", "Output", "Add", "Concat", "Split"} & set(listed)
    assert "ReLU" in listed and "Dropout" in listed
    if (side, name) == ("Before", "conv2"):  # a Flatten or a Linear gives the convolution [N, F]: no
        assert not {"Flatten", "Linear"} & set(listed) and "Conv2d" in listed
    else:  # a convolution cannot take [N, 576] or [N, 64]
        assert "Linear" in listed and "Conv2d" not in listed
    assert popup.list.currentItem().data(Qt.ItemDataRole.UserRole) == listed[0]  # the first fitting one
    edges = len(graph.edges)
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    [new] = win.scene.selected_node_ids()
    assert graph.node(new).kind == listed[0]
    inner, outer = (new, target.id) if side == "Before" else (target.id, new)
    assert graph.in_edges(outer)["in"].src == inner  # in the chain, wired both ways
    assert len(graph.edges) == edges + 1
    assert win.document.problems() == [] and win.document.undo_stack.count() == 1
    box = win.scene.node_items[new].sceneBoundingRect()
    assert not any(box.intersects(i.sceneBoundingRect()) for n, i in win.scene.node_items.items() if n != new)


def test_set_as_output_moves_the_output_wire_to_the_layer(window) -> None:
    win = window()
    graph = win.document.project.graph
    relu4, logits = node(win, "relu4"), node(win, "logits")
    entry(win.context_menus.node_menu(relu4.id), "Set as Output").trigger()
    assert graph.in_edges(logits.id)["in"].src == relu4.id
    assert win.document.undo_stack.count() == 1


def test_show_code_opens_the_forward_at_the_layers_line(window) -> None:
    win = window()
    entry(win.context_menus.node_menu(node(win, "fc1").id), "Show in Generated Code…").trigger()
    dialog = win.layer_actions.code_dialog
    assert dialog.isVisible()
    line = dialog.highlighted_text()
    assert line.strip().startswith("fc1 = self.fc1(") and line.endswith("# Linear 'fc1' -> [N, 64]")
    assert dialog.code.textCursor().block().text() == line  # the cursor (and the view) is on it
    assert dialog.code.extraSelections()
    dialog.close()


# ---- a wire --------------------------------------------------------------------------------------
def test_a_wires_menu_deletes_it_or_inserts_a_layer_on_it(window) -> None:
    win = window("linear_regression")
    graph = win.document.project.graph
    edge = graph.in_edges(node(win, "linear").id)["in"]
    win.scene.clearSelection()
    win.scene.wire_items[edge].setSelected(True)
    menu = win.context_menus.wire_menu(edge)
    entry(menu, "Insert Layer on Wire…").trigger()
    choose_in_picker(win, "ReLU")
    [relu] = [n for n in graph if n.kind == "ReLU"]
    assert graph.in_edges(relu.id)["in"].src == edge.src and graph.in_edges(edge.dst)["in"].src == relu.id
    win.undo_action.trigger()
    assert edge in graph.edges
    win.scene.clearSelection()
    win.scene.wire_items[edge].setSelected(True)
    entry(win.context_menus.wire_menu(edge), "Delete").trigger()
    assert edge not in graph.edges and len(graph) == 3


# ---- a real right-click --------------------------------------------------------------------------
def test_a_right_click_on_a_layer_selects_it_and_opens_its_menu_at_the_pointer(window, qtbot) -> None:
    win = window()
    fc1 = node(win, "pool1")  # in the left column: a menu at it fits the 800 x 800 offscreen screen, unmoved
    item = win.scene.node_items[fc1.id]
    pos = win.view.mapFromScene(item.sceneBoundingRect().center())
    seen: dict = {}

    def look() -> None:
        menu = QApplication.activePopupWidget()
        seen["texts"] = [a.text() for a in menu.actions() if a.text()]
        seen["at"] = menu.pos()
        menu.close()

    QTimer.singleShot(200, look)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, win.view.viewport().mapToGlobal(pos), NONE)
    QApplication.sendEvent(win.view.viewport(), event)
    assert seen["texts"][:2] == ["&Rename Layer…", "Dupl&icate"]
    assert (seen["at"] - win.view.viewport().mapToGlobal(pos)).manhattanLength() <= 2
    assert win.scene.selected_node_ids() == [fc1.id]
    assert win.layer_actions.context_node is None  # only while the menu is open


def test_a_right_click_on_the_background_opens_the_canvas_menu(window) -> None:
    win = window()
    seen: list[str] = []

    def look() -> None:
        menu = QApplication.activePopupWidget()
        seen.extend(a.text() for a in menu.actions() if a.text())
        menu.close()

    QTimer.singleShot(200, look)
    pos = win.view.mapFromScene(QPointF(-400, -400))
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, win.view.viewport().mapToGlobal(pos), NONE)
    QApplication.sendEvent(win.view.viewport(), event)
    assert seen[0] == "Quick Add &Layer…\tTab" and "&Paste" in seen


def test_a_right_press_on_a_layer_starts_no_drag_so_what_its_menu_adds_lands_where_the_graph_says(window) -> None:
    win = broken_cnn(window)
    fc1 = node(win, "fc1")
    pos = win.view.mapFromScene(win.scene.node_items[fc1.id].sceneBoundingRect().center())
    # The press a context menu follows; the menu then takes the release, so the scene never sees it.
    QTest.mousePress(win.view.viewport(), Qt.MouseButton.RightButton, NONE, pos)
    assert not win.scene.dragging_nodes
    [fix] = [a for a in entries(win.context_menus.node_menu(fc1.id)) if a.text().startswith("Apply Fix")]
    fix.trigger()
    graph = win.document.project.graph
    flatten = graph.node(graph.in_edges(fc1.id)["in"].src)
    assert win.scene.node_items[flatten.id].pos().toTuple() == flatten.position != (0.0, 0.0)
    # The release the menu would have taken: QTest keeps the button held otherwise, and the next test's clicks
    # would arrive with the right button still down.
    QTest.mouseRelease(win.view.viewport(), Qt.MouseButton.RightButton, NONE, pos)


def test_f2_renames_the_selected_layer_even_after_the_layer_menu_opened_with_none_selected(window, monkeypatch) -> None:
    win = window()
    win.scene.clearSelection()
    win.layer_menu.aboutToShow.emit()
    assert not win.layer_actions.rename.isEnabled()  # greyed while the menu shows: nothing to rename
    win.layer_menu.aboutToHide.emit()
    fc2 = node(win, "fc2")
    win.scene.select_nodes([fc2.id])
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("scores", True))
    win.activateWindow()
    win.view.setFocus()
    QTest.keyClick(win.view, Qt.Key.Key_F2)
    assert win.document.project.graph.node(fc2.id).name == "scores"


def test_the_menu_key_opens_the_selected_layers_menu(window) -> None:
    win = window()
    relu4 = node(win, "relu4")
    win.scene.select_nodes([relu4.id])
    seen: list[str] = []

    def look() -> None:
        menu = QApplication.activePopupWidget()
        seen.extend(a.text() for a in menu.actions() if a.text())
        seen.append(str(win.layer_actions.context_node))
        menu.close()

    QTimer.singleShot(200, look)
    corner = win.view.viewport().rect().topLeft()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, corner, win.view.viewport().mapToGlobal(corner), NONE)
    QApplication.sendEvent(win.view.viewport(), event)
    assert seen[0] == "&Rename Layer…" and seen[-1] == relu4.id


def test_show_code_of_an_input_marks_the_forward_signature(window) -> None:
    win = window()
    entry(win.context_menus.node_menu(node(win, "image").id), "Show in Generated Code…").trigger()
    dialog = win.layer_actions.code_dialog
    assert dialog.highlighted_text().strip() == "def forward(self, image):"
    dialog.close()


def test_a_refused_rename_asks_again_saying_why(window, monkeypatch) -> None:
    # Seen on Xvfb: F2, a name already used, and the only answer was a small note in the status bar.
    from PySide6.QtWidgets import QInputDialog

    win = window("mnist_cnn")
    graph = win.document.project.graph
    conv1 = graph.by_name("conv1")
    win.scene.select_nodes([conv1.id])
    asked: list[tuple[str, str]] = []
    answers = iter([("conv2", True), ("stem", True)])

    def get_text(parent, title, label, text=""):
        asked.append((label, text))
        return next(answers)

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(get_text))
    win.layer_actions.rename.trigger()
    assert len(asked) == 2
    assert "a node named 'conv2' already exists" in asked[1][0] and asked[1][1] == "conv2"
    assert graph.node(conv1.id).name == "stem"
    assert win.document.undo_stack.count() == 1
