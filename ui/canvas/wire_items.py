"""The canvas's wires: an output port to an input port, labelled with the tensor shape it carries, and the
path each takes (an S-curve forward, a loop along a lane when it runs back)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QPainterPath, QPainterPathStroker
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsRectItem, QGraphicsSimpleTextItem, QStyle

from netbuilder.model.graph import Edge
from ui import theme
from ui.canvas.items import BEND, CLEARANCE, HOVER_Z, WIRE_Z, canvas_font
from ui.canvas.wire_labels import wire_labels_of

if TYPE_CHECKING:
    from ui.canvas.scene import CanvasScene


class WireItem(QGraphicsPathItem):
    """A wire from an output port to an input port, with the shape it carries.

    Its label goes where ui/canvas/wire_labels.py finds room; one that found none shows while the
    wire is hovered, and the wire's tooltip names the shape.
    """

    def __init__(self, scene: CanvasScene, edge: Edge) -> None:
        super().__init__()
        self.canvas = scene
        self.edge = edge
        self._label: QGraphicsSimpleTextItem | None = None  # made when first placed or shown (see label)
        self.label_text = ""  # the shape the wire carries
        self._src_info = None
        self._hit_shape: QPainterPath | None = None
        self._bounds = QRectF()
        self.overview_lines: list[QLineF] = []  # the wire as straight runs, as the overview draws it
        self._hover_back: QGraphicsRectItem | None = None
        self.setZValue(WIRE_Z)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.restyle()
        self.sync()

    def sync(self) -> None:
        """Follow the ends (a node moved or changed ports) and the shape the wire carries."""
        src, dst = self.canvas.node_items[self.edge.src], self.canvas.node_items[self.edge.dst]
        src_pos, dst_pos = src.port_pos(self.edge.src_port, False), dst.port_pos(self.edge.dst_port, True)
        if dst_pos.x() >= src_pos.x() + BEND / 2:  # forward: an S-curve, whatever the bodies (most wires)
            path = wire_path(src_pos, dst_pos)
        else:  # back: a loop round both bodies
            path = wire_path(src_pos, dst_pos, src.body_rect(), dst.body_rect())
        self._src_info = None
        self.refresh_label()
        if path == self.path():  # a parameter edit leaves most wires where they were
            return
        self.setPath(path)  # tells Qt the bounds change (it asks for the old ones first)
        self.overview_lines = _overview_lines(path, src_pos, dst_pos)
        self._bounds = path.controlPointRect().adjusted(-4, -4, 4, 4)
        self._hit_shape = None
        wire_labels_of(self.canvas).changed(self)
        self.canvas.overview.wire_changed(self.edge)

    def paint(self, painter, option, widget=None) -> None:
        # Drawn in the selection colour when selected (restyle); Qt's own dashed box round everything the wire
        # spans would cross other nodes and wires.
        option.state &= ~QStyle.StateFlag.State_Selected
        super().paint(painter, option, widget)

    def restyle(self) -> None:
        """Colours for the theme in use and the selection state."""
        self.setPen(self.canvas.wire_pens[self.isSelected()])

    @property
    def label(self) -> QGraphicsSimpleTextItem:
        """The shape label, made on first use: most wires of a large graph are never seen zoomed in."""
        if self._label is None:
            self._label = QGraphicsSimpleTextItem(self.label_text, self)
            self._label.setVisible(False)  # until wire_labels finds it a place
            self._label.setFont(canvas_font())
            self._label.setBrush(self.canvas.label_brush)
        return self._label

    def hide_label(self) -> None:
        if self._label is not None:
            self._label.setVisible(False)

    def label_made(self) -> QGraphicsSimpleTextItem | None:
        return self._label

    def boundingRect(self) -> QRectF:
        # Kept, not derived: Qt's own would stroke the path through shape() (11,663 strokes, in Python, when a
        # 10,000-node graph opens). The hit stroke is 8 wide, the pen 2.2: 4 each side covers both.
        return self._bounds

    def shape(self) -> QPainterPath:
        # The stroke, not the area the curve encloses: a loop-back wire would take every click inside its loop.
        if self._hit_shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(8)
            self._hit_shape = stroker.createStroke(self.path())
        return self._hit_shape

    def refresh_label(self) -> None:
        """Label the wire with the shape its source puts out, if inference has changed it."""
        info = self.canvas.document.inference.info(self.edge.src)
        if info is self._src_info:
            return
        self._src_info = info
        text = str(info.outputs[self.edge.src_port]) if info.outputs else ""
        if text != self.label_text:
            self.label_text = text
            if self._label is not None:
                self._label.setText(text)
            wire_labels_of(self.canvas).changed(self)

    def hoverEnterEvent(self, event) -> None:
        text = self.label_text
        self.setToolTip(text)  # set here, not per edit: an edit upstream changes 1,000 labels
        if text and self.canvas.detailed and not wire_labels_of(self.canvas).fits(self):
            spot = wire_labels_of(self.canvas).preferred_spot(self)
            if self._hover_back is None:
                self._hover_back = QGraphicsRectItem(self)
                self._hover_back.setPen(Qt.PenStyle.NoPen)
                self._hover_back.setZValue(-1)  # under the label, its sibling
            self._hover_back.setBrush(theme.canvas_colours().hover_label_back)
            self._hover_back.setRect(spot.adjusted(-3, -1, 3, 1))
            self._hover_back.setVisible(True)
            self.label.setPos(spot.topLeft())
            self.label.setVisible(True)
            self.setZValue(HOVER_Z)
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:
        if self.zValue() == HOVER_Z:
            self.setZValue(WIRE_Z)
            self.hide_label()
            if self._hover_back is not None:
                self._hover_back.setVisible(False)
        super().hoverLeaveEvent(event)


def wire_path(src: QPointF, dst: QPointF, src_body: QRectF | None = None, dst_body: QRectF | None = None
              ) -> QPainterPath:
    """A wire from output port ``src`` to input port ``dst``: it leaves ``src`` heading right and
    enters ``dst`` heading right, so it reads as attached to the side it is on.

    Forward, it is one S-curve. Backward (``dst`` left of ``src``), a curve would cut through both
    nodes, so it loops: out to the right, along a lane above, below or between the two bodies
    (``src_body``, ``dst_body``; a point when unknown), and back into ``dst`` from the left.
    """
    path = QPainterPath(src)
    sx, sy, dx, dy = src.x(), src.y(), dst.x(), dst.y()
    if dx >= sx + BEND / 2:
        bend = max((dx - sx) / 2, BEND)
        path.cubicTo(sx + bend, sy, dx - bend, dy, dx, dy)  # floats: PySide resolves them faster than points
        return path
    lane = _lane(src_body or QRectF(src, src), dst_body or QRectF(dst, dst), src.y(), dst.y())
    # Control points BEND outside the port keep each turn clear of its own node's box.
    path.cubicTo(QPointF(src.x() + BEND, src.y()), QPointF(src.x() + BEND, lane), QPointF(src.x(), lane))
    path.lineTo(QPointF(dst.x(), lane))
    path.cubicTo(QPointF(dst.x() - BEND, lane), QPointF(dst.x() - BEND, dst.y()), dst)
    return path


def _lane(a: QRectF, b: QRectF, ya: float, yb: float) -> float:
    """The height of a horizontal run that clears both boxes: in the gap between them when
    there is one, else over or under both, whichever is the shorter way round."""
    upper, lower = (a, b) if a.center().y() <= b.center().y() else (b, a)
    if lower.top() - upper.bottom() >= 2 * CLEARANCE:
        return (upper.bottom() + lower.top()) / 2
    above = min(a.top(), b.top()) - CLEARANCE
    below = max(a.bottom(), b.bottom()) + CLEARANCE
    return above if abs(ya - above) + abs(yb - above) <= abs(ya - below) + abs(yb - below) else below


def _overview_lines(path: QPainterPath, src: QPointF, dst: QPointF) -> list[QLineF]:
    """A wire's path (see wire_path) from ``src`` to ``dst`` as straight runs: one for a forward S-curve,
    three for a loop back along its lane (read off the path: its fourth element is the lane's start)."""
    if path.elementCount() < 8:
        return [QLineF(src, dst)]
    lane = path.elementAt(3).y
    a, b = QPointF(src.x(), lane), QPointF(dst.x(), lane)
    return [QLineF(src, a), QLineF(a, b), QLineF(b, dst)]
