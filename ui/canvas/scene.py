"""The canvas scene: a QGraphicsScene that mirrors the engine's graph.

The scene subscribes to the graph's events (as orange-canvas-core's scene does to its
Scheme) and turns gestures into engine edits pushed on the document's undo stack.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QLineF, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsPathItem, QGraphicsScene

from netbuilder.analysis.shape_inference import Problem
from netbuilder.gc_pause import gc_paused
from netbuilder.model.edits import AddNode, Compound, Disconnect, Move, RemoveNode
from netbuilder.model.graph import Edge, Node
from ui import theme
from ui.canvas import wire_gestures
from ui.canvas.items import (
    GRID,
    HEADER,
    NODE_WIDTH,
    NODE_Z,
    WIRE_Z,
    NodeItem,
    PortItem,
    snap,
)
from ui.canvas.overview import OverviewItem
from ui.canvas.wire_drawing import WireDrawing
from ui.canvas.wire_gestures import DuplicateDrag, RefusalNote
from ui.canvas.wire_items import WireItem
from ui.canvas.wire_labels import wire_labels_of
from ui.document import Document

LAYER_MIME = "application/x-netbuilder-layer"
# Qt skips such an item's paint, yet it still takes clicks, drags and selection.
NO_CONTENTS = QGraphicsItem.GraphicsItemFlag.ItemHasNoContents
GRID_LINE_EVERY = 5  # a grid line every 5 snap points, so the grid reads as a guide, not as noise


def _frange(start: float, stop: float, step: float) -> list[float]:
    return [start + k * step for k in range(int((stop - start) // step) + 1)]


class CanvasScene(QGraphicsScene):
    """Mirrors ``document.project.graph``; ``message`` tells the status bar why a gesture failed
    (and is emptied by the next edit that goes through, undo and redo included). ``wire_dropped``
    (a :class:`WireEnd`) fires when a new wire is let go on empty canvas: the quick-add opens there."""

    message = Signal(str)
    wire_dropped = Signal(object)

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)  # owned by the window, so Qt deletes it in order at exit
        self.document = document
        self.graph = document.project.graph
        self.node_items: dict[str, NodeItem] = {}
        self.detailed = True  # False: zoomed out to an overview (see canvas_items.DETAIL_ZOOM)
        self.wire_items: dict[Edge, WireItem] = {}
        self.lint_problems: dict[str, Problem] = {}  # errors the lint finds on a node (drawn red like a shape's)
        self._selected_wires: set[WireItem] = set()
        self._seen_generation = -1  # the inference update the items show (-1: none yet, so look at all)
        self.wire_pens: tuple[QPen, QPen] = (QPen(), QPen())  # a wire's pen, unselected and selected (restyle)
        self.overview_pens: tuple[QPen, QPen] = (QPen(), QPen())
        self.port_look: tuple[tuple[QPen, QPen], QBrush] = ((QPen(), QPen()), QBrush())
        self.label_brush = QBrush()
        self._theme_pens()
        self.overview = OverviewItem(self)  # before the nodes: each tells it when it changes
        self.addItem(self.overview)
        self.drawing = WireDrawing(self)  # a wire being drawn from a port
        self._snap_to_grid = True
        self.dragging_nodes = False  # a node drag is under way (nodes snap to the grid as they move)
        self.drag_started = False  # the pointer has left the press point by more than a click's jitter
        self._press_screen = QPoint()
        self._press_scene = QPointF()
        self._pressed_at: dict[str, QPointF] = {}  # the dragged nodes' positions at the press
        self._alt_drag: DuplicateDrag | None = None  # an Alt-drag under way
        self._hovered_wire: Edge | None = None  # the wire a dragged layer would go into
        self._stacked = 0.0  # how far above NODE_Z the last dragged nodes are drawn (see _raise)
        self.note = RefusalNote()  # a refused drop's reason, beside the cursor
        self.addItem(self.note)
        self.setBackgroundBrush(theme.canvas_background())
        self._subscriptions = [(self.graph.node_added, self._node_added), (self.graph.node_removed, self._node_removed),
                               (self.graph.edge_added, self._edge_added), (self.graph.edge_removed, self._edge_removed),
                               (self.graph.node_changed, self._node_changed)]
        for event, callback in self._subscriptions:
            event.sub(callback)
        document.changed.connect(self.refresh)
        self.selectionChanged.connect(self._selection_changed)
        document.changed.connect(self._clear_message)
        with gc_paused():  # tens of thousands of items and paths for a large graph, none of them garbage
            for node in self.graph:
                self._node_added(node)
            for edge in self.graph.edges:
                self._edge_added(edge)
        self._seen_generation = document.inference.generation  # the items were made from it
        self._refresh_lint()

    @property
    def snap_to_grid(self) -> bool:
        """Whether dragged nodes land on GRID points (on: the grid is drawn); off: on whole units."""
        return self._snap_to_grid

    @snap_to_grid.setter
    def snap_to_grid(self, on: bool) -> None:
        self._snap_to_grid = on
        self.update()

    def helpEvent(self, event) -> None:
        """A node's tooltip is written when it is about to show (see NodeItem.toolTip)."""
        for item in self.items(event.scenePos()):
            if isinstance(item, NodeItem):
                item.toolTip()
                break
        super().helpEvent(event)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawBackground(painter, rect)
        if not (self._snap_to_grid and self.detailed):
            return
        step = GRID * GRID_LINE_EVERY
        left, top = math.floor(rect.left() / step) * step, math.floor(rect.top() / step) * step
        lines = [QLineF(x, rect.top(), x, rect.bottom()) for x in _frange(left, rect.right(), step)]
        lines += [QLineF(rect.left(), y, rect.right(), y) for y in _frange(top, rect.bottom(), step)]
        painter.setPen(QPen(theme.grid_colour(), 0))  # cosmetic: one pixel at any zoom
        painter.drawLines(lines)

    def set_detailed(self, detailed: bool) -> None:
        """Show or hide what is unreadable when zoomed out: ports and shape labels."""
        if detailed == self.detailed:
            return
        self.detailed = detailed
        for item in self.node_items.values():
            if item.ports_made():
                for port in item.ports.values():
                    port.setVisible(detailed)
            item.setFlag(NO_CONTENTS, not detailed)  # see OverviewItem: the boxes are painted there
        self.overview.setVisible(not detailed)
        if not detailed:
            self.overview.shown()
        for wire in self.wire_items.values():
            wire.setVisible(detailed)  # zoomed out, the overview draws the wires as lines (see OverviewItem)
            if (label := wire.label_made()) is not None:
                label.setVisible(detailed)

    def make_ports(self, rect: QRectF) -> None:
        """Make the port items of the nodes in ``rect`` that have none yet (the view calls it before it paints)."""
        for item in self.items(rect, Qt.ItemSelectionMode.IntersectsItemBoundingRect):
            if isinstance(item, NodeItem) and not item.ports_made():
                item.ports  # noqa: B018 - made on first use

    def content_rect(self) -> QRectF:
        """What the graph covers: every node's box, and the wires that loop round them (cheaper than
        itemsBoundingRect, which asks all 50,000 items at 10,000 nodes, 30,000 of them in Python: 160 ms)."""
        _boxes, bounds = self.overview.boxes()
        if bounds.isNull():
            return self.itemsBoundingRect()
        bounds = bounds.adjusted(-2, -2, 2, 2)  # a node item's own margin
        for wire in self.wire_items.values():  # Qt's C++ bounds, kept with each path
            bounds = bounds.united(wire.boundingRect())
        return bounds

    def _theme_pens(self) -> None:
        colours = theme.canvas_colours()
        self.port_look = ((QPen(colours.port_border, 1.5), QPen(colours.port_border, 1.5, Qt.PenStyle.DashLine)),
                          QBrush(colours.port_fill))  # (pens: required, optional), fill
        self.wire_pens = (QPen(theme.wire_colour(), 2.2), QPen(QColor("#ffca28"), 2.2))
        # Zoomed out: cosmetic pens, a pixel wide at any zoom.
        self.overview_pens = (QPen(theme.wire_colour(), 0), QPen(QColor("#ffca28"), 0))
        self.label_brush = QBrush(theme.wire_label_colour())

    def restyle(self) -> None:
        """Take the colours of the theme in use (after the user or the system switched it)."""
        self.setBackgroundBrush(theme.canvas_background())
        self._theme_pens()
        for wire in self.wire_items.values():
            if (label := wire.label_made()) is not None:
                label.setBrush(self.label_brush)
            wire.restyle()
        for item in self.node_items.values():
            if item.ports_made():
                for port in item.ports.values():
                    port.restyle()
        self.overview.update()

    def _selection_changed(self) -> None:
        """Selected wires are drawn in the selection colour; the overview outlines selected nodes."""
        now = {item for item in self.selectedItems() if isinstance(item, WireItem)}
        for wire in now ^ self._selected_wires:
            if wire.scene() is self:
                wire.restyle()
        self._selected_wires = now
        self.overview.selection_changed()

    def close(self) -> None:
        for event, callback in self._subscriptions:
            event.unsub(callback)

    # ---- following the graph ---------------------------------------------------------
    def _node_added(self, node: Node) -> None:
        item = NodeItem(self, node.id)
        self.node_items[node.id] = item
        item.setFlag(NO_CONTENTS, not self.detailed)
        self.addItem(item)
        self.overview.node_changed(node.id)
        wire_labels_of(self).nodes_changed(node.id)  # the labels' free room changed

    def _node_removed(self, node: Node) -> None:
        self.removeItem(self.node_items.pop(node.id))
        self.overview.node_changed(node.id)
        wire_labels_of(self).nodes_changed(node.id)

    def _edge_added(self, edge: Edge) -> None:
        item = WireItem(self, edge)
        self.wire_items[edge] = item
        item.setVisible(self.detailed)
        self.addItem(item)
        self.overview.wire_changed(edge)

    def _edge_removed(self, edge: Edge) -> None:
        item = self.wire_items.pop(edge)
        wire_labels_of(self).forget(item)
        self._selected_wires.discard(item)
        self.removeItem(item)
        self.overview.wire_changed(edge)

    def _node_changed(self, node: Node, what: str) -> None:
        item = self.node_items[node.id]
        item.sync()
        self.node_moved(node.id)

    def _clear_message(self) -> None:
        # A refusal or hint is about the gesture that failed; once an edit goes through it is stale.
        self.message.emit("")
        self.note.dismiss()

    def refresh(self) -> None:
        """Shapes and problems after an edit: re-infer (incrementally) and repaint what changed."""
        inference = self.document.inference
        changed = inference.changed_since(self._seen_generation)
        self._seen_generation = inference.generation
        if changed is None:  # too long ago to say: look at every item (cheap: an identity check each)
            nodes, wires = self.node_items.values(), self.wire_items.values()
        else:
            nodes = [self.node_items[n] for n in changed if n in self.node_items]
            wires = [self.wire_items[e] for n in changed if n in self.graph.nodes for e in self.graph.out_edges(n)
                     if e in self.wire_items]
        for item in nodes:
            item.refresh_info()
        for wire in wires:
            wire.refresh_label()
        self._refresh_lint()

    def _refresh_lint(self) -> None:
        """Follow the errors the project's lint puts on nodes (not the shapes': each node's info has those)."""
        shapes = set(self.document.inference.problems)
        found: dict[str, Problem] = {}
        for problem in self.document.problems():
            if (problem.severity == "error" and problem.node in self.node_items and problem not in shapes
                    and problem.node not in found):
                found[problem.node] = problem
        if found == self.lint_problems:
            return
        changed = {n for n in found.keys() | self.lint_problems.keys() if found.get(n) != self.lint_problems.get(n)}
        self.lint_problems = found
        for node_id in changed:
            if (item := self.node_items.get(node_id)) is not None:  # not one just deleted
                item.restate()

    def node_moved(self, node_id: str) -> None:
        for edge in [*self.graph.in_edges(node_id).values(), *self.graph.out_edges(node_id)]:
            if edge in self.wire_items:
                self.wire_items[edge].sync()

    # ---- gestures -> edits ---------------------------------------------------------------
    def add_layer(self, kind: str, pos: QPointF) -> str | None:
        """Add a ``kind`` layer with its header centred on ``pos`` (where it was dropped)."""
        x, y = pos.x() - NODE_WIDTH / 2, pos.y() - HEADER / 2
        node = self.graph.make_node(kind, position=snap(x, y))
        return node.id if self.document.push(AddNode(node)) else None

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._gesture_press(event):
            return
        super().mousePressEvent(event)  # selects what was clicked; mouseMoveEvent then moves the selected nodes
        # Only the left button drags; a right press opens a context menu, which takes the release.
        self.dragging_nodes = event.button() == Qt.MouseButton.LeftButton and isinstance(self.mouseGrabberItem(),
                                                                                           NodeItem)
        self.drag_started = False
        self._press_screen = event.screenPos()
        self._press_scene = event.scenePos()
        # Only what Qt will drag can move, and a move is measured from here, not from the graph:
        # a node loaded off the grid stays where it is until it is dragged.
        self._pressed_at = {i.node_id: i.pos() for i in self.selectedItems() if isinstance(i, NodeItem)} \
            if self.dragging_nodes else {}

    def mouseMoveEvent(self, event) -> None:
        if self._alt_drag is not None:
            self._alt_drag.move(event)
            return
        if self.dragging_nodes and not self.drag_started:
            # A hand's jitter during a click is not a drag: the nodes stay put until the pointer has travelled.
            travel = (event.screenPos() - self._press_screen).manhattanLength()
            self.drag_started = travel >= QApplication.startDragDistance()
            if self.drag_started:
                self._raise(list(self._pressed_at))
        if self.dragging_nodes and self.drag_started:
            self._drag_nodes(event.scenePos() - self._press_scene)
        super().mouseMoveEvent(event)

    def _raise(self, node_ids: list[str]) -> None:
        """Draw these (dragged) nodes over every other: one dropped onto another hid under it. Each raise
        stacks a little higher, below a hovered wire (HOVER_Z); after 4,000 it starts again from NODE_Z."""
        self._stacked = self._stacked + 1e-4 if self._stacked < 0.4 else 1e-4
        for node_id in node_ids:
            if (item := self.node_items.get(node_id)) is not None:
                item.setZValue(NODE_Z + self._stacked)

    def _drag_nodes(self, by: QPointF) -> None:
        """Each node pressed on moves ``by`` from where it was at the press, from grid point to grid point."""
        for node_id, at in self._pressed_at.items():
            item = self.node_items.get(node_id)
            if item is None:
                continue
            to = at + by
            item.place(QPointF(*snap(to.x(), to.y())) if self.snap_to_grid else to)

    def mouseReleaseEvent(self, event) -> None:
        if self._alt_drag is not None:
            drag, self._alt_drag = self._alt_drag, None
            drag.drop(event)
            return
        self.dragging_nodes = False
        super().mouseReleaseEvent(event)
        pressed_at, self._pressed_at = self._pressed_at, {}
        step = GRID if self.snap_to_grid else 1.0
        moved = {}
        for node_id, at in pressed_at.items():
            item = self.node_items.get(node_id)
            if item is None or item.pos() == at:
                continue
            position = snap(item.pos().x(), item.pos().y(), step)
            if position != self.graph.node(node_id).position:
                moved[node_id] = position
        if moved:  # a whole drag is one undo step
            self.document.push(Move(moved))

    @property
    def dangling_wire(self) -> QGraphicsPathItem | None:
        """The wire drawn to where it was let go on empty canvas, while the quick-add there is open."""
        return self.drawing.dangling

    def drop_dangling(self) -> None:
        """Remove the wire left dangling where it was let go (the quick-add has closed)."""
        self.drawing.drop_dangling()

    def _gesture_press(self, event) -> bool:
        """A left press that starts a gesture of :mod:`ui.canvas.wire_gestures`; False lets Qt handle it.

        Alt on a node starts a duplicating drag; a click on (or within a few pixels of) a wire
        selects it, Ctrl+click adds it to the selection or takes it out.
        """
        pos = event.scenePos()
        # What takes the click before a wire near it: a node, a port, or anything else over the wires that takes
        # clicks (a layer's Fix badge); not a wire, its label, or what takes no button.
        top = next((i for i in self.items(pos) if isinstance(i, (NodeItem, PortItem)) or (
            i.zValue() > WIRE_Z and i.acceptedMouseButtons() & Qt.MouseButton.LeftButton
            and not isinstance(i, WireItem) and not isinstance(i.parentItem(), WireItem))), None)
        alt = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
        if alt and isinstance(top, NodeItem):
            if not top.isSelected():
                self.select_nodes([top.node_id])
            self._alt_drag = DuplicateDrag(self, self.selected_node_ids(), event)
            event.accept()
            return True
        if top is not None:
            return False
        edge = wire_gestures.wire_at(self, pos)
        if edge is None:
            return False
        wire = self.wire_items[edge]
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            wire.setSelected(not wire.isSelected())
        else:
            self.clearSelection()
            wire.setSelected(True)
        event.accept()
        return True

    def selected_node_ids(self) -> list[str]:
        """The selected nodes' ids, in graph order."""
        chosen = {i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)}
        return [n.id for n in self.graph if n.id in chosen]

    def select_nodes(self, node_ids: list[str]) -> None:
        """Make exactly these nodes the selection."""
        self.clearSelection()
        for node_id in node_ids:
            if node_id in self.node_items:
                self.node_items[node_id].setSelected(True)

    def delete_selection(self) -> None:
        nodes = [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]
        wires = [i.edge for i in self.selectedItems() if isinstance(i, WireItem)
                 and i.edge.src not in nodes and i.edge.dst not in nodes]
        edits = [Disconnect(e) for e in wires] + [RemoveNode(n) for n in nodes]
        if edits:
            self.document.push(Compound(f"Delete {len(edits)} items" if len(edits) > 1 else edits[0].text, edits))

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.Delete) or event.key() == Qt.Key.Key_Backspace:
            self.delete_selection()
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event) -> None:
        event.setAccepted(event.mimeData().hasFormat(LAYER_MIME))

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)
        self.hover_wire(wire_gestures.wire_at(self, event.scenePos()) if event.isAccepted() else None)

    def dragLeaveEvent(self, event) -> None:
        self.hover_wire(None)

    def hover_wire(self, edge: Edge | None) -> None:
        """Light up the wire a dragged layer would go into (None: none)."""
        if edge == self._hovered_wire:
            return
        old, self._hovered_wire = self._hovered_wire, edge
        if old in self.wire_items:
            self.wire_items[old].restyle()
        if edge is not None:
            self.wire_items[edge].setPen(QPen(wire_gestures.HOVER, 4))

    def dropEvent(self, event) -> None:
        kind = bytes(event.mimeData().data(LAYER_MIME)).decode()
        self.hover_wire(None)
        edge = wire_gestures.wire_at(self, event.scenePos())
        if edge is not None:  # onto a wire: into it, or refused with the reason
            wire_gestures.insert_into_wire(self, kind, edge, event.scenePos())
        else:
            self.add_layer(kind, event.scenePos())
        event.acceptProposedAction()
