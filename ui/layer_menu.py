"""The Layer menu: what can be done to one layer or one wire, and the quick fixes of every problem.

Rename, disconnect all, insert a layer before or after a layer or on a wire (the quick-add list,
then the layer goes in wired), set as output, show the layer's line in the generated code. The
same actions make the canvas's context menus (:mod:`ui.canvas.context_menus`), which first point
them at the layer or wire under the mouse (:attr:`LayerActions.context_node` / ``context_edge``);
from the menu bar they act on the selection. Every change is one engine edit
(:mod:`netbuilder.model.rewiring`) pushed on the document's undo stack.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QPoint, QPointF
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QGraphicsView, QInputDialog, QMenu, QWidget

from netbuilder.analysis.quick_fixes import QuickFix
from netbuilder.analysis.wiring import kinds_after, kinds_before
from netbuilder.errors import EditRefused
from netbuilder.layers import TensorType
from netbuilder.model.edits import Rename, SetFrozen
from netbuilder.model.graph import Edge
from netbuilder.model.rewiring import disconnect_all, insert_after, insert_before, set_as_output
from ui.canvas.items import HEADER, NODE_WIDTH
from ui.canvas.quick_add import QuickAddPopup, kinds_for_wire
from ui.canvas.scene import CanvasScene
from ui.canvas.wire_gestures import insert_into_wire, reveal
from ui.canvas.wire_items import WireItem
from ui.code_dialog import CodeDialog
from ui.document import Document
from ui.quick_fixes import all_fixes, apply_fix, fix_text
from ui.shortcuts import CanvasAction


class LayerPicker(QObject):
    """The quick-add list opened at a point of the canvas; the chosen kind goes to a callback."""

    def __init__(self, view: QGraphicsView) -> None:
        super().__init__(view)
        self.view = view
        self.popup: QuickAddPopup | None = None
        self._then: Callable[[str], object] | None = None

    def open(self, at: QPointF, then: Callable[[str], object], title: str = "",
             only: tuple[frozenset[str], str, TensorType | None] | None = None) -> QuickAddPopup:
        """Show the list with its corner at scene point ``at``; ``then(kind)`` once one is chosen.

        ``only``: the kinds listed, the line above the list saying why, and the shape they take
        (:func:`ui.canvas.quick_add.kinds_for_wire`); None lists every kind."""
        if self.popup is None:
            self.popup = QuickAddPopup(self.view)
            self.popup.chosen.connect(self._chosen)
        self._then = then
        popup = self.popup
        popup.search.clear()
        popup.search.setPlaceholderText(title or "Add layer: type to search")
        popup.restrict(*(only or (None, "", None)))
        corner = global_point(self.view, at)
        screen = (self.view.screen() or QGuiApplication.primaryScreen()).availableGeometry()
        popup.move(QPoint(max(screen.left(), min(corner.x(), screen.right() - popup.width())),
                          max(screen.top(), min(corner.y(), screen.bottom() - popup.height()))))
        popup.show()
        popup.search.setFocus()
        return popup

    def _chosen(self, kind: str) -> None:
        then, self._then = self._then, None
        if then is not None:
            then(kind)
        self.view.setFocus()


class LayerActions(QObject):
    """The Layer menu's actions on the canvas ``view`` (whose scene names the document).

    ``parent`` is the window: the actions are window-wide like the canvas's other keys.
    """

    def __init__(self, view: QGraphicsView, parent: QWidget) -> None:
        super().__init__(parent)
        self.view = view
        self._parent = parent
        self.context_node: str | None = None  # set while a layer's context menu is open
        self.context_edge: Edge | None = None  # set while a wire's context menu is open
        self.picker = LayerPicker(view)
        self.code_dialog: CodeDialog | None = None
        self.rename = self._action("&Rename Layer…", self._rename)
        self.disconnect = self._action("Dis&connect All", self._disconnect)
        self.insert_before = self._action("Insert Layer &Before…", lambda: self._insert("before"))
        self.insert_after = self._action("Insert Layer &After…", lambda: self._insert("after"))
        self.insert_on_wire = self._action("Insert Layer on &Wire…", self._insert_on_wire)
        self.set_output = self._action("Set as &Output", self._set_output)
        self.show_code = self._action("Show in Generated &Code…", self._show_code)
        self.freeze = self._action("&Freeze Weights", self._toggle_frozen)  # ticked: training keeps them
        self.freeze.setCheckable(True)
        self.freeze.setStatusTip("Keep the layer's weights as they are while training (fine-tune the others)")
        self.fixes_menu = QMenu("Quick &Fixes", parent)  # owned by the window, deleted with it
        self.fixes_menu.aboutToShow.connect(self._fill_fixes_menu)

    def _action(self, text: str, slot: Callable[[], object]) -> CanvasAction:
        action = CanvasAction(text, self)
        action.triggered.connect(lambda _checked=False: slot())
        self._parent.addAction(action)
        return action

    @property
    def scene(self) -> CanvasScene:
        return self.view.scene()

    @property
    def document(self) -> Document:
        return self.scene.document

    def fill_menu(self, menu: QMenu, also: tuple = ()) -> None:
        """The Layer menu: these actions, the quick fixes, then ``also`` (e.g. the Problems dock's action)."""
        for action in (self.rename, self.disconnect, None, self.insert_before, self.insert_after, self.insert_on_wire,
                       None, self.set_output, self.show_code, self.freeze, None):
            menu.addSeparator() if action is None else menu.addAction(action)
        menu.addMenu(self.fixes_menu)
        for action in also:
            menu.addAction(action)
        menu.aboutToShow.connect(self.update_enabled)
        menu.aboutToHide.connect(self.enable_all)

    # ---- what the actions act on -----------------------------------------------------------
    def target_node(self) -> str | None:
        """The layer under the context menu, else the one selected layer."""
        if self.context_node is not None and self.context_node in self.scene.graph.nodes:
            return self.context_node
        selected = self.scene.selected_node_ids()
        return selected[0] if len(selected) == 1 else None

    def target_nodes(self) -> list[str]:
        selected = self.scene.selected_node_ids()
        if self.context_node is not None and self.context_node not in selected:
            return [self.context_node]
        return selected

    def target_edge(self) -> Edge | None:
        if self.context_edge is not None:
            return self.context_edge
        wires = [i.edge for i in self.scene.selectedItems() if isinstance(i, WireItem)]
        return wires[0] if len(wires) == 1 and not self.scene.selected_node_ids() else None

    def update_enabled(self) -> None:
        """Grey out what cannot apply to the target now (called as a menu opens)."""
        node_id = self.target_node()
        node = self.scene.graph.node(node_id) if node_id else None
        self.rename.setEnabled(node is not None)
        self.show_code.setEnabled(node is not None)
        self.insert_before.setEnabled(node is not None and bool(node.input_ports()))
        self.insert_after.setEnabled(node is not None and bool(node.output_ports()))
        self.set_output.setEnabled(node is not None and bool(node.output_ports()))
        graph = self.scene.graph
        self.disconnect.setEnabled(any(graph.in_edges(n) or graph.out_edges(n) for n in self.target_nodes()))
        self.insert_on_wire.setEnabled(self.target_edge() is not None)
        targets = self.target_nodes()
        self.freeze.setEnabled(bool(targets))
        self.freeze.setChecked(bool(targets) and all(graph.node(n).frozen for n in targets))

    def enable_all(self) -> None:
        """Once a menu closes, every key works again: the selection may change before the next one,
        and each action says itself when it has nothing to act on."""
        for action in (self.rename, self.show_code, self.insert_before, self.insert_after, self.set_output,
                       self.disconnect, self.insert_on_wire, self.freeze):
            action.setEnabled(True)

    def _say(self, text: str) -> None:
        self.scene.message.emit(text)

    def _need_node(self, verb: str) -> str | None:
        node_id = self.target_node()
        if node_id is None:
            self._say(f"Select one layer to {verb} first")
        return node_id

    # ---- the actions -----------------------------------------------------------------------
    def _rename(self) -> None:
        node_id = self._need_node("rename")
        if node_id is None:
            return
        node = self.scene.graph.node(node_id)
        label, text = f"New name of {node.kind} '{node.name}':", node.name
        while True:  # a refused name asks again, saying why, with what was typed (not a status-bar line)
            name, ok = QInputDialog.getText(self._parent, "Rename Layer", label, text=text)
            name = name.strip()
            if not ok or not name or name == node.name:
                return
            problem = self.scene.graph.rename_problem(node_id, name)
            if problem is None:
                self.document.push(Rename(node_id, name))
                return
            label, text = f"'{name}' cannot be used: {problem}.\nNew name of {node.kind} '{node.name}':", name

    def _disconnect(self) -> None:
        ids = self.target_nodes()
        edit = disconnect_all(self.scene.graph, ids) if ids else None
        if edit is None:
            self._say("Nothing to disconnect: the layer has no wires" if ids else "Select some layers first")
            return
        self.document.push(edit)

    def _toggle_frozen(self) -> None:
        """Freeze the target layers' weights, or unfreeze them when every one is frozen already."""
        ids = self.target_nodes()
        if not ids:
            self._say("Select the layers to freeze first")
            return
        graph = self.scene.graph
        freeze = not all(graph.node(n).frozen for n in ids)
        self.document.push(SetFrozen(ids, freeze))
        self.freeze.setChecked(freeze)

    def _picker_at(self, node_id: str, side: str) -> QPointF:
        item = self.scene.node_items[node_id]
        pos = item.scenePos()
        return QPointF(pos.x() + (NODE_WIDTH + 10 if side == "after" else -10), pos.y() + HEADER / 2)

    def _insert(self, side: str) -> None:
        node_id = self._need_node(f"insert a layer {side}")
        if node_id is None:
            return
        node = self.scene.graph.node(node_id)
        if not (node.input_ports() if side == "before" else node.output_ports()):
            self._say(f"{node.kind} '{node.name}' has no {'input' if side == 'before' else 'output'}")
            return

        def then(kind: str) -> None:
            build = insert_before if side == "before" else insert_after
            self._push_new(lambda: build(self.scene.graph, node_id, kind))

        self.picker.open(self._picker_at(node_id, side), then, f"Insert {side} '{node.name}': type to search",
                         self._fitting(node_id, side))

    def _fitting(self, node_id: str, side: str) -> tuple[frozenset[str], str, TensorType | None]:
        """The kinds that fit before or after the layer (as Insert Layer on Wire lists), the line saying so,
        and the shape they take."""
        graph = self.scene.graph
        node = graph.node(node_id)
        allowed, carried = (kinds_before if side == "before" else kinds_after)(graph, self.document.inference,
                                                                                 node_id)
        if carried is not None:
            return allowed, f"Layers that take {carried}, {side} '{node.name}'", carried
        if side == "before" and not graph.in_edges(node_id):
            return allowed, f"Layers to feed '{node.name}'", None
        return allowed, f"Layers {side} '{node.name}'", None

    def _insert_on_wire(self) -> None:
        edge = self.target_edge()
        if edge is None:
            self._say("Select one wire to insert a layer on first")
            return
        wire = self.scene.wire_items.get(edge)
        at = wire.path().pointAtPercent(0.5) if wire is not None else QPointF()

        def then(kind: str) -> None:  # as a layer dropped on the wire: room made for it, and scrolled to
            if edge in self.scene.wire_items:
                insert_into_wire(self.scene, kind, edge, at)
            else:
                self._say("Cannot insert: the wire is gone")

        self.picker.open(at, then, "Insert on the wire: type to search", kinds_for_wire(self.scene, edge))

    def _push_new(self, build) -> None:
        try:
            edit, node = build()
        except (EditRefused, KeyError) as exc:  # the graph changed while the list was open
            self._say(f"Cannot insert: {exc}")
            return
        if self.document.push(edit):
            self.scene.select_nodes([node.id])
            reveal(self.scene, node.id)  # it may have found room off screen

    def _set_output(self) -> None:
        node_id = self._need_node("set as the output")
        if node_id is None:
            return
        try:
            edit, output = set_as_output(self.scene.graph, node_id)
        except EditRefused as exc:
            self._say(str(exc))
            return
        if self.document.push(edit):
            reveal(self.scene, output)  # it moved beside the layer, maybe off screen

    def _show_code(self) -> None:
        node_id = self._need_node("show in the code")
        if node_id is None:
            return
        if self.code_dialog is None:
            self.code_dialog = CodeDialog(self._parent)
        self.code_dialog.show_node(self.document.project, node_id)

    # ---- quick fixes -------------------------------------------------------------------------
    def _fill_fixes_menu(self) -> None:
        """Every fix the project's problems offer, each as in the Problems dock and the context menus."""
        self.fixes_menu.clear()
        for _problem, fixes in all_fixes(self.document):
            for fix in fixes:
                self.fixes_menu.addAction(fix_text(fix), lambda f=fix: self.apply(f))
        if self.fixes_menu.isEmpty():
            self.fixes_menu.addAction("No problem has a quick fix").setEnabled(False)

    def apply(self, fix: QuickFix) -> bool:
        """Apply ``fix`` (one undo step) and select the layer it added or changed."""
        if not apply_fix(self.document, fix):
            return False
        self.show_fixed(fix)
        return True

    def show_fixed(self, fix: QuickFix) -> None:
        """Select the layer ``fix`` added or changed, and scroll to it (an added Output may land off screen)."""
        if fix.node is not None and fix.node in self.scene.node_items:
            self.scene.select_nodes([fix.node])
            reveal(self.scene, fix.node)

    def fix_actions(self, fixes: list[QuickFix], menu: QMenu) -> None:
        """Add ``fixes`` to ``menu`` as the Quick Fixes submenu shows them."""
        for fix in fixes:
            menu.addAction(fix_text(fix), lambda f=fix: self.apply(f))


def global_point(view: QGraphicsView, at: QPointF) -> QPoint:
    return view.viewport().mapToGlobal(view.mapFromScene(at))


__all__ = ["LayerActions", "LayerPicker", "global_point"]
