"""The canvas's context menus: on the background, on a layer, on a wire.

A right-click (or the keyboard's menu key) on the view opens the menu of what is under the
pointer, at the pointer. Every entry is an action of a main menu (Edit, Layer, View), pointed at
the layer or wire that was clicked: a layer not yet selected becomes the selection (as in
Blender's and Qt Creator's editors), and the Layer menu's actions take it as their target while
the menu is open. The one exception reads the same as its main-menu twin: the background's
"Quick Add Layer…" opens the list where the click was rather than where the pointer is.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF
from PySide6.QtGui import QAction, QContextMenuEvent
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QMenu

from netbuilder.model.graph import Edge
from ui.canvas.items import NodeItem
from ui.canvas.quick_add import insert_layer
from ui.canvas.scene import CanvasScene
from ui.canvas.wire_items import WireItem
from ui.edit_menu import EditActions
from ui.layer_menu import LayerActions
from ui.quick_fixes import node_fixes


def item_under(scene: CanvasScene, at: QPointF) -> NodeItem | WireItem | None:
    """The layer or wire at scene point ``at`` (a port, a badge or a label counts as its owner)."""
    for item in scene.items(at):
        owner: QGraphicsItem | None = item
        while owner is not None and not isinstance(owner, (NodeItem, WireItem)):
            owner = owner.parentItem()
        if owner is not None:
            return owner
    return None


class CanvasContextMenus(QObject):
    """Opens the context menus of ``view``'s canvas; builds each with :meth:`canvas_menu`,
    :meth:`node_menu` and :meth:`wire_menu` (tests and the keyboard's menu key use them too)."""

    def __init__(self, view: QGraphicsView, edit: EditActions, layer: LayerActions, delete: QAction,
                 frame_all: QAction) -> None:
        super().__init__(view)
        self.view = view
        self.edit = edit
        self.layer = layer
        self.delete = delete
        self.frame_all = frame_all
        self.menu: QMenu | None = None  # the menu open now (for tests and screenshots)
        view.viewport().installEventFilter(self)

    @property
    def scene(self) -> CanvasScene:
        return self.view.scene()

    # ---- the three menus -------------------------------------------------------------------
    def canvas_menu(self, at: QPointF) -> QMenu:
        """The background's menu; a layer added from it goes at scene point ``at``."""
        menu = QMenu(self.view)
        add = menu.addAction(self.edit.add_layer.text())  # the Edit menu's entry, here at the click
        add.triggered.connect(lambda _checked=False: self.layer.picker.open(
            at, lambda kind: insert_layer(self.scene, kind, at)))
        menu.addAction(self.edit.paste)
        menu.addSeparator()
        for action in (self.edit.select_all, self.edit.arrange, self.frame_all):
            menu.addAction(action)
        return menu

    def node_menu(self, node_id: str) -> QMenu:
        """The menu of layer ``node_id``: what the Layer and Edit menus do to it, then its quick fixes."""
        self.layer.context_node, self.layer.context_edge = node_id, None
        self.layer.update_enabled()
        menu = QMenu(self.view)
        for action in (self.layer.rename, self.edit.duplicate, self.delete, self.layer.disconnect, None,
                       self.layer.insert_before, self.layer.insert_after, None, self.layer.set_output,
                       self.layer.show_code, self.layer.freeze):
            menu.addSeparator() if action is None else menu.addAction(action)
        fixes = node_fixes(self.scene.document, node_id)
        if fixes:
            menu.addSeparator()
            self.layer.fix_actions(fixes, menu)
        return menu

    def wire_menu(self, edge: Edge) -> QMenu:
        """The menu of the wire ``edge``: delete it, insert a layer on it."""
        self.layer.context_node, self.layer.context_edge = None, edge
        self.layer.update_enabled()
        menu = QMenu(self.view)
        menu.addAction(self.delete)
        menu.addAction(self.layer.insert_on_wire)
        return menu

    # ---- opening them ----------------------------------------------------------------------
    def menu_at(self, viewport_pos: QPoint) -> QMenu:
        """The menu for what is at ``viewport_pos``; the clicked layer or wire is selected first."""
        scene = self.scene
        at = self.view.mapToScene(viewport_pos)
        item = item_under(scene, at)
        if isinstance(item, NodeItem):
            if not item.isSelected():
                scene.select_nodes([item.node_id])
            return self.node_menu(item.node_id)
        if isinstance(item, WireItem):
            scene.clearSelection()
            item.setSelected(True)
            return self.wire_menu(item.edge)
        self.layer.context_node = self.layer.context_edge = None
        return self.canvas_menu(at)

    def open(self, viewport_pos: QPoint, global_pos: QPoint) -> None:
        self.menu = self.menu_at(viewport_pos)
        try:
            self.menu.exec(global_pos)
        finally:
            self.layer.context_node = self.layer.context_edge = None
            self.layer.enable_all()
            self.menu.deleteLater()
            self.menu = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ContextMenu and isinstance(event, QContextMenuEvent):
            pos = event.pos()
            if event.reason() == QContextMenuEvent.Reason.Keyboard:  # the menu key: at the selected layer
                selected = self.scene.selected_node_ids()
                if len(selected) == 1:
                    pos = self.view.mapFromScene(self.scene.node_items[selected[0]].sceneBoundingRect().center())
            self.open(pos, self.view.viewport().mapToGlobal(pos))
            return True
        return super().eventFilter(watched, event)


__all__ = ["CanvasContextMenus", "item_under"]
