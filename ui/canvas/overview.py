"""The canvas zoomed out: every node's box and every wire as straight lines, drawn by one item."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from netbuilder.model.graph import Edge
from ui.canvas.items import BEND, CLEARANCE, NODE_Z, NodeItem

if TYPE_CHECKING:
    from ui.canvas.scene import CanvasScene


class OverviewItem(QGraphicsItem):
    """Zoomed out, every node's box and every wire as straight lines, painted in a few calls.

    Below DETAIL_ZOOM the node items are flagged ItemHasNoContents and the wire items are hidden:
    Qt then skips their paint, but the node items still take clicks, drags and selection (a fully
    transparent item would not). Painting 1,000 boxes one Python ``paint`` each cost about 7 us a
    node (7 ms a frame, twice the bare Qt scene), and stroking 11,000 curves 2.2 units wide at 5 %
    zoom cost 60 ms a frame at 10,000 nodes for lines a pixel wide; here Python runs once a frame,
    and the rectangles and lines, kept between frames, are drawn by Qt: one drawRects per colour,
    one drawLines. A forward wire is its straight line; one that loops back, its three runs.

    It is kept incrementally: a node or wire that changed is only marked (:meth:`node_changed`,
    :meth:`wire_changed`) and brought up to date before the next paint or read, so an edit of one
    node of 10,000 costs one box, not 10,000.
    """

    def __init__(self, scene: CanvasScene) -> None:
        super().__init__()
        self.canvas = scene
        self.setZValue(NODE_Z)  # the transparent node items sit at the same height and take the mouse
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setVisible(False)
        self._box: dict[str, tuple[int, QRectF]] = {}  # node id -> (colour key, box)
        self._groups: dict[int, tuple[QColor, list[QRectF]]] = {}
        self._lines_of: dict[Edge, list[QLineF]] = {}
        self._lines: list[QLineF] | None = []  # every wire's lines, in one list; None: gather again
        self._selected: list[str] = []  # the selected nodes' ids
        self._bounds = QRectF()
        self._reported = QRectF()  # the bounds Qt was told of
        self._bounds_stale = False
        self._all = True  # build everything at the first catch-up
        self._nodes: set[str] = set()  # marked
        self._wires: set[Edge] = set()
        self._announced = False  # Qt has been told the picture changed since it was last brought up to date
        self.version = 0  # counts the changes, for what draws the boxes elsewhere (the minimap) to cache

    # ---- marking --------------------------------------------------------------------------------
    def node_changed(self, node_id: str) -> None:
        """Node ``node_id`` moved, came, went, or changed colour or height."""
        self._nodes.add(node_id)
        self._announce()

    def wire_changed(self, edge: Edge) -> None:
        """Wire ``edge`` was drawn anew, came or went."""
        self._wires.add(edge)
        self._announce()

    def selection_changed(self) -> None:
        self._selected = [item.node_id for item in self.canvas.selectedItems() if isinstance(item, NodeItem)]
        self.update()

    def shown(self) -> None:
        """The scene just zoomed out to the overview."""
        self.catch_up()
        self.update()

    def _announce(self) -> None:
        if self._announced:  # an edit touching 1,000 nodes tells Qt once
            return
        if self.isVisible():
            self.update()  # the view's next paint calls catch_up first, which tells Qt of new bounds
            self._announced = True

    def catch_up(self) -> None:
        """Bring the picture up to date, and tell Qt when its bounds change (prepareGeometryChange costs
        18 ms for an item as large as a 10,000-node graph: only when they do, not on every edit)."""
        self._catch_up()
        bounds = self._bounds.adjusted(-CLEARANCE - BEND, -CLEARANCE - BEND, CLEARANCE + BEND, CLEARANCE + BEND)
        if bounds != self._reported:
            self.prepareGeometryChange()
            self._reported = bounds

    # ---- bringing up to date ---------------------------------------------------------------------
    def _catch_up(self) -> None:
        if not (self._all or self._nodes or self._wires or self._bounds_stale or self._lines is None):
            return
        if self._all:
            self._all = False
            self._nodes.clear()
            self._wires.clear()
            self._box.clear()
            self._groups.clear()
            self._bounds_stale = True
            for node_id, item in self.canvas.node_items.items():
                self._put(node_id, item)
            self._lines_of = {edge: wire.overview_lines for edge, wire in self.canvas.wire_items.items()}
            self._lines = None
        if self._nodes:
            items = self.canvas.node_items
            for node_id in self._nodes:
                old = self._box.pop(node_id, None)
                if old is not None:
                    self._groups[old[0]][1].remove(old[1])
                    self._bounds_stale |= not _inside(old[1], self._bounds)
                item = items.get(node_id)
                if item is not None:
                    self._put(node_id, item)
            self._nodes.clear()
        if self._wires:
            wires = self.canvas.wire_items
            for edge in self._wires:
                wire = wires.get(edge)
                if wire is None:
                    self._lines_of.pop(edge, None)
                else:
                    self._lines_of[edge] = wire.overview_lines
            self._wires.clear()
            self._lines = None
        if self._lines is None:
            self._lines = [line for lines in self._lines_of.values() for line in lines]
        if self._bounds_stale:
            bounds = QRectF()
            for _colour, rects in self._groups.values():
                for rect in rects:
                    bounds = bounds.united(rect)
            self._bounds, self._bounds_stale = bounds, False
        self._announced = False
        self.version += 1

    def _put(self, node_id: str, item: NodeItem) -> None:
        rect = item.body_rect()
        colour = item._overview_colour
        key = colour.rgba()
        self._box[node_id] = (key, rect)
        self._groups.setdefault(key, (colour, []))[1].append(rect)
        if not self._bounds_stale:
            self._bounds = rect if self._bounds.isNull() else self._bounds.united(rect)

    # ---- reading and painting -----------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return self._reported  # as of the last catch_up: Qt asks while it paints, when nothing may change

    def boxes(self) -> tuple[list[tuple[QColor, list[QRectF]]], QRectF]:
        """Every node's box, grouped by colour, and their bounds (the minimap draws them too)."""
        self.catch_up()
        return [group for group in self._groups.values() if group[1]], self._bounds

    def shape(self) -> QPainterPath:
        return QPainterPath()  # never under the pointer: the node items are

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        self._catch_up()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # a pixel wide: crisp, and cheap
        painter.setPen(self.canvas.overview_pens[0])
        painter.drawLines(self._lines)
        selected = [line for wire in self.canvas._selected_wires for line in self._lines_of.get(wire.edge, ())]
        if selected:
            painter.setPen(self.canvas.overview_pens[1])
            painter.drawLines(selected)
        painter.setPen(Qt.PenStyle.NoPen)
        for colour, rects in self._groups.values():
            painter.setBrush(colour)
            painter.drawRects(rects)
        selected_boxes = [self._box[n][1] for n in self._selected if n in self._box]
        if selected_boxes:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(self.canvas.overview_pens[1])
            painter.drawRects(selected_boxes)


def _inside(rect: QRectF, bounds: QRectF) -> bool:
    """Whether ``rect`` lies strictly inside ``bounds`` (so taking it away cannot shrink them)."""
    return (rect.left() > bounds.left() and rect.top() > bounds.top() and rect.right() < bounds.right()
            and rect.bottom() < bounds.bottom())
