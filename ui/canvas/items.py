"""What the canvas draws of a layer: the node with its ports (the wires are ui/canvas/wire_items.py).

Items hold a node id or an edge and read everything else from the engine's graph and its
shape inference when they paint: they never keep a copy of the truth.

Text is drawn TEXT_PX scene units high in the application font's family; the view's 100 % zoom
(:func:`readable_scale`) maps those units to the application font's pixel size, so at 100 % node
text reads at the system's normal size whatever the system font, its point size and the screen's
scaling, while the geometry (and the positions saved in project files) stays in fixed scene units.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QPainter,
    QPainterPath,
    QPen,
    QScreen,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsRectItem,
    QStyleOptionGraphicsItem,
)

from netbuilder.model.layout import GRID
from ui import theme
from ui.canvas.wire_labels import wire_labels_of

if TYPE_CHECKING:
    from ui.canvas.scene import CanvasScene

NODE_WIDTH = 180.0
HEADER = 38.0
ROW = 20.0
FOOTER = 22.0
PORT_RADIUS = 7.0
PORT_ACCEPTS, PORT_REFUSES = QColor("#00e676"), QColor("#616161")  # a port's fill while a wire is drawn
NO_PEN = QPen(Qt.PenStyle.NoPen)
WIRE_Z, NODE_Z, PREVIEW_Z = 0.0, 1.0, 2.0  # the wire being drawn shows over the nodes it crosses
HOVER_Z = 1.5  # a hovered wire, with its label, shows over the nodes
TEXT_PX = 12  # every text on the canvas, in scene units; 100 % zoom shows it at the application font's size
PAD = 10.0  # text's inset from a node's left and right edges
BEND = 40.0  # how far a wire runs out of a port before it turns
CLEARANCE = 20.0  # how far a wire that loops back passes above or below a node


def snap(x: float, y: float, step: float = GRID) -> tuple[float, float]:
    """The grid point nearest (x, y)."""
    return round(x / step) * step, round(y / step) * step


CATEGORY_COLOURS = theme.HEADER_COLOURS
ERROR = QColor("#e53935")  # a problem node's border and overview box (its text is theme.CanvasColours.problem_text)
# Zoom (scene-to-screen scale) below which text is unreadable: the scene switches to an overview
# where nodes draw as plain coloured boxes and ports and shape labels are hidden (so Python paints
# nothing for them). A 1,000-node graph zoomed out to fit then repaints in about 10 ms
# (benchmarks/bench_canvas_scale.py). Every paint call into Python costs microseconds, so wires
# keep QGraphicsPathItem's C++ paint.
DETAIL_ZOOM = 0.4


_CATEGORY_QCOLOURS: dict[str, QColor] = {}
# No item here overrides itemChange: PySide6 turns each change's enum into a Python object before the
# call (about 6 us), and Qt reports 23 changes a node while a graph opens (235,000 calls for 10,000
# nodes, 1.5 s). Moves go through NodeItem.place, selection through the scene's selectionChanged.


def category_colour(category: str) -> QColor:
    """The box colour of a layer category (one shared QColor each)."""
    colour = _CATEGORY_QCOLOURS.get(category)
    if colour is None:
        colour = _CATEGORY_QCOLOURS[category] = QColor(CATEGORY_COLOURS.get(category, theme.OTHER_HEADER))
    return colour


_FONTS: dict[str, QFont] = {}


def _font_changed(*_: object) -> None:
    _FONTS.clear()


def canvas_font(bold: bool = False) -> QFont:
    """The canvas's text font: the application font's family (and style), TEXT_PX scene units high."""
    key = "bold" if bold else "plain"
    font = _FONTS.get(key)
    if font is None:
        if not _FONTS.get("listening"):
            app = QGuiApplication.instance()
            if app is not None:
                app.fontChanged.connect(_font_changed)
                _FONTS["listening"] = QFont()
        font = QFont(QGuiApplication.font())
        font.setPixelSize(TEXT_PX)
        font.setBold(bold)
        _FONTS[key] = font
    return font


def app_font_pixels(screen: QScreen | None = None) -> float:
    """The application font's height in device-independent pixels on ``screen`` (the primary one by default):
    its point size at the screen's logical DPI (Qt's own conversion), or its pixel size when set in pixels."""
    font = QGuiApplication.font()
    if font.pixelSize() > 0:
        return float(font.pixelSize())
    screen = screen or QGuiApplication.primaryScreen()
    dpi = screen.logicalDotsPerInchY() if screen is not None else 96.0
    return font.pointSizeF() * dpi / 72.0


def readable_scale(screen: QScreen | None = None) -> float:
    """The view scale at which canvas text is as large as the application font: the canvas's 100 %."""
    return app_font_pixels(screen) / TEXT_PX


def elided(text: str, font: QFont, width: float) -> str:
    return QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, width)


class PortItem(QGraphicsEllipseItem):
    """An input (left) or output (right) port of a node; wires are dragged from and to these.

    Qt's own ellipse item, so that its bounds and painting stay in C++: a 10,000-node graph has
    20,000 ports, and every Python ``boundingRect``/``paint`` Qt calls costs microseconds.
    """

    def __init__(self, node_item: NodeItem, name: str, is_input: bool, optional: bool = False) -> None:
        super().__init__(QRectF(-PORT_RADIUS, -PORT_RADIUS, 2 * PORT_RADIUS, 2 * PORT_RADIUS), node_item)
        self.node_item = node_item
        self.name = name
        self.is_input = is_input
        self.optional = optional
        self._highlight: bool | None = None
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.restyle()

    @property
    def node_id(self) -> str:
        return self.node_item.node_id

    @property
    def highlight(self) -> bool | None:
        """True: would accept the wire being drawn; False: would not; None: no wire is drawn."""
        return self._highlight

    @highlight.setter
    def highlight(self, value: bool | None) -> None:
        if value is not self._highlight:
            self._highlight = value
            self.restyle()

    def restyle(self) -> None:
        """The theme's colours, and the highlight while a wire is drawn."""
        pens, fill = self.node_item.canvas.port_look
        self.setPen(pens[self.optional])
        self.setBrush(fill if self._highlight is None else PORT_ACCEPTS if self._highlight else PORT_REFUSES)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.scene().drawing.start(self)
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        self.scene().drawing.drag(event.scenePos())

    def mouseReleaseEvent(self, event) -> None:
        self.scene().drawing.finish(event.scenePos())


class NodeItem(QGraphicsRectItem):
    """A layer: coloured header with its name and kind, ports, and its output shape.

    A rect item (with no pen, its rect the box and a 2-unit margin) so that Qt reads its bounds in C++;
    only its paint is Python's, and Qt calls that for nodes on screen only.
    """

    def __init__(self, scene: CanvasScene, node_id: str) -> None:
        super().__init__()
        self.canvas = scene
        self.node_id = node_id
        # The port items are made when the node first comes on screen zoomed in (ports_made), not with the node:
        # a 10,000-node graph needs 20,000 of them, and a few dozen are ever seen at once.
        self._ports: dict[tuple[str, bool], PortItem] | None = None
        self._port_at: dict[tuple[str, bool], tuple[float, float]] = {}  # each port's place on the node
        self._x = self._y = 0.0  # pos(), kept as floats: the wires and the overview read it 50,000 times at open
        self._port_kinds: list[tuple[str, bool, bool]] = []  # (name, is input, optional), in order
        # Selectable, not movable: the scene moves dragged nodes itself (CanvasScene.mouseMoveEvent), from
        # where they were at the press, so a click never moves one and every move passes through place().
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(NODE_Z)
        self.setPen(NO_PEN)
        self._info_shown = None  # the NodeInfo this item last showed; inference replaces it when it changes
        self._height = HEADER + ROW + FOOTER
        self._tip = ""
        self._tip_stale = True
        self._overview_colour: QColor | None = None
        self.sync()

    @property
    def node(self):
        return self.canvas.graph.node(self.node_id)

    def height(self) -> float:
        return self._height

    def sync(self) -> None:
        """Follow the graph: position, ports (a merge's count can change), tooltip."""
        node = self.node
        x, y = node.position
        if x != self._x or y != self._y:
            self.place(QPointF(x, y))
        inputs, outputs = node.input_ports(), node.output_ports()
        wanted = [(p.name, True, p.optional) for p in inputs] + [(p, False, False) for p in outputs]
        height = HEADER + max(len(inputs), len(outputs), 1) * ROW + FOOTER
        if height != self._height or self.rect().isNull():
            self._height = height
            self.setRect(QRectF(-2, -2, NODE_WIDTH + 4, height + 4))  # tells Qt the bounds changed
            self.canvas.overview.node_changed(self.node_id)
        if wanted != self._port_kinds:
            self._port_kinds = wanted
            rows = {True: 0, False: 0}
            self._port_at = {}
            for name, is_input, _optional in wanted:  # inputs down the left, outputs down the right, a row each
                self._port_at[(name, is_input)] = (0.0 if is_input else NODE_WIDTH,
                                                   HEADER + ROW * rows[is_input] + ROW / 2)
                rows[is_input] += 1
            if self._ports is not None:
                self._sync_ports()
        self._info_shown = None
        self.refresh_info()

    @property
    def ports(self) -> dict[tuple[str, bool], PortItem]:
        """The port items by (name, is input), made on first use."""
        if self._ports is None:
            self._ports = {}
            self._sync_ports()
        return self._ports

    def ports_made(self) -> bool:
        return self._ports is not None

    def _sync_ports(self) -> None:
        ports = self._ports
        for key in [k for k in ports if k not in self._port_at]:
            port = ports.pop(key)
            if port.scene() is not None:
                port.scene().removeItem(port)
        for name, is_input, optional in self._port_kinds:
            port = ports.get((name, is_input))
            if port is None:
                port = ports[(name, is_input)] = PortItem(self, name, is_input, optional)
                port.setVisible(self.canvas.detailed)
            port.setPos(QPointF(*self._port_at[(name, is_input)]))

    def place(self, pos: QPointF) -> None:
        """Move to ``pos`` (scene coordinates) and tell what follows the node: its wires, the overview, labels."""
        x, y = pos.x(), pos.y()
        if x == self._x and y == self._y:
            return
        self._x, self._y = x, y
        self.setPos(pos)
        if self.scene() is not None:  # not while the scene is being built: the wires come after the nodes
            self.canvas.node_moved(self.node_id)
            self.canvas.overview.node_changed(self.node_id)
            wire_labels_of(self.canvas).nodes_changed(self.node_id)

    def refresh_info(self) -> bool:
        """Show the node's current shapes and problem; a no-op (False) when inference has not changed them."""
        info = self.canvas.document.inference.info(self.node_id)
        if info is self._info_shown:
            return False
        self._info_shown = info
        self._tip_stale = True  # written when asked for (toolTip), not for each of 10,000 nodes at open
        node = self.node
        colour = ERROR if self.problem(info) is not None else category_colour(node.spec.category)
        if colour is not self._overview_colour:  # one QColor per category: identity says it
            self._overview_colour = colour
            self.canvas.overview.node_changed(self.node_id)
        self.update()
        return True

    def problem(self, info):
        """The node's problem: its shapes' (``info``, from inference) or the project's lint's (a Softmax before a
        cross-entropy loss), which inference cannot see."""
        return info.problem if info.problem is not None else self.canvas.lint_problems.get(self.node_id)

    def restate(self) -> None:
        """Draw the node's problem state again (the lint's verdict on it changed)."""
        self._info_shown = None
        self.refresh_info()

    def toolTip(self) -> str:
        """Kind, name and doc line, frozen or not, and the problem. Python callers get it from here; Qt's own
        tooltip (which reads the C++ text) is brought up to date by the scene just before it shows one."""
        if self._tip_stale:
            self._tip_stale = False
            node, info = self.node, self.canvas.document.inference.info(self.node_id)
            tip = f"{node.kind} '{node.name}': {node.spec.doc}"
            if node.frozen:
                tip += "\n\nFrozen: training keeps its weights as they are."
            if (problem := self.problem(info)) is not None:
                tip += f"\n\nProblem: {problem.message}"
            if tip != self._tip:
                self._tip = tip
                self.setToolTip(tip)
        return self._tip

    def body_rect(self) -> QRectF:
        """The node's box in scene coordinates (ports sit on its left and right edges)."""
        return QRectF(self._x, self._y, NODE_WIDTH, self._height)

    def port_pos(self, name: str, is_input: bool) -> QPointF:
        """Where port ``name`` is, in scene coordinates (whether or not its item has been made)."""
        at = self._port_at.get((name, is_input))
        return QPointF(self._x + at[0], self._y + at[1]) if at is not None else QPointF(self._x, self._y)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        # Zoomed out (not canvas.detailed) this item has no contents and Qt does not call
        # paint: OverviewItem draws every box at once.
        node = self.node
        info = self.canvas.document.inference.info(self.node_id)
        colours = theme.canvas_colours()
        h = self.height()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        body = QPainterPath()
        body.addRoundedRect(QRectF(0, 0, NODE_WIDTH, h), 8, 8)
        problem = self.problem(info)
        border = ERROR if problem is not None else colours.node_border
        if self.isSelected():
            border = QColor("#ffca28")
        painter.setPen(QPen(border, 3 if (self.isSelected() or problem) else 1.5))
        back = colours.problem_body if problem is not None else colours.node_body
        painter.setBrush(back)
        painter.drawPath(body)
        header = QPainterPath()
        header.addRoundedRect(QRectF(1, 1, NODE_WIDTH - 2, HEADER - 2), 7, 7)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colours.header(node.spec.category))
        painter.drawPath(header)
        painter.setPen(colours.header_text)
        width = NODE_WIDTH - 2 * PAD
        title, plain = canvas_font(bold=True), canvas_font()
        line = HEADER / 2 - 1
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.setFont(title)
        painter.drawText(QRectF(PAD, 1, width, line), left, elided(node.name, title, width))
        painter.setFont(plain)
        kind = f"{node.kind} · frozen" if node.frozen else node.kind  # training keeps its weights
        painter.drawText(QRectF(PAD, 1 + line, width, line), left, elided(kind, plain, width))
        painter.setPen(colours.port_text)
        ports = node.input_ports()
        if len(ports) > 1 or (ports and ports[0].name != "in"):
            for k, port in enumerate(ports):
                painter.drawText(QRectF(PAD + 2, HEADER + ROW * k, NODE_WIDTH / 2, ROW), left,
                                 elided(port.name, plain, NODE_WIDTH / 2))
        outs = node.output_ports()
        if len(outs) > 1:  # named on the right, beside their ports
            right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            for k, port_name in enumerate(outs):  # each part's shape is on its wire
                painter.drawText(QRectF(NODE_WIDTH / 2 - PAD, HEADER + ROW * k, NODE_WIDTH / 2, ROW), right,
                                 elided(port_name, plain, NODE_WIDTH / 2))
        if info.outputs:
            text = ", ".join(str(t) for t in info.outputs.values())
        elif info.problem is not None:
            text = "problem: hover for details"
        elif info.waiting:
            text = "waiting for its input"
        else:
            text = "" if node.kind == "Output" else "?"
        if node.kind == "Output" and info.inputs:
            text = "returns " + ", ".join(str(t) for t in info.inputs.values())
        painter.setPen(colours.problem_text if problem is not None else colours.node_text)
        painter.drawText(QRectF(PAD, h - FOOTER, width, FOOTER - 2), left, elided(text, plain, width))
