"""Drawing a wire from a port: the dashed preview that follows the pointer, the ports that would take it lit
up, and what letting go does (connect, replace, refuse with the reason, delete a wire pulled off, or open the
quick-add where it was let go on empty canvas)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QApplication, QGraphicsPathItem

from netbuilder.model.graph import Edge
from ui.canvas import wire_gestures
from ui.canvas.items import PREVIEW_Z, NodeItem, PortItem
from ui.canvas.wire_gestures import WireEnd
from ui.canvas.wire_items import wire_path

if TYPE_CHECKING:
    from ui.canvas.scene import CanvasScene

PORT_REACH_PX = 4.0  # a wire let go this close to a port (in screen pixels) lands on it
MARK_ALL_PORTS = 2000  # up to this many nodes, a wire being drawn marks every port; beyond, those on screen


class WireDrawing:
    """The wire being drawn in ``scene``, from ``source`` (a port), previewed by ``preview``."""

    def __init__(self, scene: CanvasScene) -> None:
        self.scene = scene
        self.source: PortItem | None = None
        self.preview: QGraphicsPathItem | None = None
        self.detached: Edge | None = None  # the wire pulled off an input, following the cursor
        self.dangling: QGraphicsPathItem | None = None  # a wire let go on empty canvas, while the quick-add is open

    def start(self, port: PortItem) -> None:
        """A press on ``port``: a wire starts from it (from a connected input, the wire comes off and follows)."""
        self.drop_dangling()
        self.detached = self.scene.graph.in_edges(port.node_id).get(port.name) if port.is_input else None
        if self.detached is not None:  # pulled off a connected input: the wire follows the cursor from its source
            self.scene.wire_items[self.detached].setVisible(False)
            port = self.scene.node_items[self.detached.src].ports[(self.detached.src_port, False)]
        self.source = port
        self.preview = QGraphicsPathItem()
        self.preview.setPen(QPen(QColor("#ff7043"), 2, Qt.PenStyle.DashLine))
        self.preview.setZValue(PREVIEW_Z)
        self.scene.addItem(self.preview)
        for item in self._nodes_to_mark():
            for other in item.ports.values():
                if other.is_input != port.is_input and other.node_id != port.node_id:
                    edge = self._edge(port, other)
                    other.highlight = edge == self.detached or wire_gestures.connect_problem(self.scene, edge) is None

    def port_at(self, pos: QPointF) -> PortItem | None:
        """The port under ``pos``, or the nearest one within a few pixels of it (a port is a small target)."""
        reach = PORT_REACH_PX / max(wire_gestures.zoom_of(self.scene), 1e-6)
        near = [i for i in self.scene.items(QRectF(pos.x() - reach, pos.y() - reach, 2 * reach, 2 * reach))
                if isinstance(i, PortItem) and i.isVisible()]
        return min(near, key=lambda p: (p.scenePos() - pos).manhattanLength(), default=None)

    def _nodes_to_mark(self) -> list[NodeItem]:
        """The nodes whose ports show whether they take the wire being drawn: all of them, or in a large graph
        those on screen (asking 20,000 ports took seconds at 10,000 nodes)."""
        if len(self.scene.node_items) <= MARK_ALL_PORTS or not self.scene.views():
            return list(self.scene.node_items.values())
        seen = set()
        for view in self.scene.views():
            rect = view.mapToScene(view.viewport().rect()).boundingRect()
            seen.update(i for i in self.scene.items(rect, Qt.ItemSelectionMode.IntersectsItemBoundingRect)
                        if isinstance(i, NodeItem))
        return list(seen)

    @staticmethod
    def _edge(a: PortItem, b: PortItem) -> Edge:
        src, dst = (b, a) if a.is_input else (a, b)
        return Edge(src.node_id, src.name, dst.node_id, dst.name)

    def drag(self, pos: QPointF) -> None:
        if self.source is None or self.preview is None:
            return
        start, own = self.source.scenePos(), self.source.node_item.body_rect()
        under = next((i for i in self.scene.items(pos) if isinstance(i, NodeItem)), None)
        other = under.body_rect() if under is not None else None
        self.preview.setPath(wire_path(pos, start, other, own) if self.source.is_input
                              else wire_path(start, pos, own, other))

    def finish(self, pos: QPointF) -> None:
        source, self.source = self.source, None
        detached, self.detached = self.detached, None
        if detached is not None and detached in self.scene.wire_items:
            self.scene.wire_items[detached].setVisible(True)
        target = self.port_at(pos)
        # Let go on empty canvas, and further from the port than a click's jitter: a layer goes there.
        reach = QApplication.startDragDistance() / max(wire_gestures.zoom_of(self.scene), 1e-6)
        on_canvas = (source is not None and target is None and detached is None
                     and (pos - source.scenePos()).manhattanLength() > reach
                     and wire_gestures.node_at(self.scene, pos) is None)
        preview, self.preview = self.preview, None
        if preview is not None and on_canvas:
            self.dangling = preview  # it stays while the quick-add is open, to show where the layer goes
        elif preview is not None:
            self.scene.removeItem(preview)
        for item in self.scene.node_items.values():
            if item.ports_made():
                for port in item.ports.values():
                    port.highlight = None
        if source is None:
            return
        if target is None and detached is not None:  # pulled off and let go on nothing: it goes
            wire_gestures.delete_wire(self.scene, detached)
            return
        if on_canvas:  # pick a layer to go there
            self.scene.wire_dropped.emit(WireEnd(source.node_id, source.name, not source.is_input, pos))
            return
        if target is None:
            return
        if target is source:
            return
        if target.is_input == source.is_input:
            wire_gestures.refuse(self.scene, "a wire joins an output (right side) to an input (left side)", pos)
            return
        wire_gestures.connect(self.scene, self._edge(source, target), pos, moving=detached)

    def drop_dangling(self) -> None:
        """Remove the wire left dangling where it was let go (the quick-add has closed)."""
        if self.dangling is not None:
            self.scene.removeItem(self.dangling)
            self.dangling = None

