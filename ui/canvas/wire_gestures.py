"""The node-editor gestures of Blender, Nuke and ComfyUI, as edits on the document's undo stack.

A wire dropped on an input that has one replaces it; a wire pulled off an input moves or goes;
a layer dropped on a wire goes into it; a node is dissolved keeping its wire through; Alt-drag
duplicates. Each gesture is one undo step (a :class:`Compound` where it takes several edits), and
each refusal is said in the status bar and in a :class:`RefusalNote` beside the cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsSimpleTextItem, QStyleOptionGraphicsItem

from netbuilder.analysis.wiring import insert_problem, replace_problem, replaced_wire
from netbuilder.files.fragment import fragment_of, paste_edits
from netbuilder.model.edits import AddNode, Compound, Connect, Disconnect, Edit, Move, RemoveNode
from netbuilder.model.graph import Edge
from netbuilder.model.rewiring import make_room
from ui.canvas.items import GRID, HEADER, NODE_WIDTH, PREVIEW_Z, ROW, NodeItem, snap

if TYPE_CHECKING:
    from ui.canvas.scene import CanvasScene

WIRE_HIT = 6.0  # screen pixels either side of a wire that still count as on it
NOTE_MS = 4000  # how long a refusal stays beside the cursor (the status bar keeps it longer)
NOTE_WIDTH = 360  # screen pixels; a longer reason wraps
HOVER = QColor("#ff7043")  # a wire a dragged layer would go into


@dataclass(frozen=True)
class WireEnd:
    """Where a wire was let go on empty canvas: the port it was drawn from, and the drop point.

    ``is_output`` says the wire runs from that output (a layer goes after it); else it runs into
    that input (a layer goes before it).
    """

    node_id: str
    port: str
    is_output: bool
    at: QPointF


# ---- finding things under the cursor -----------------------------------------------------
def zoom_of(scene: CanvasScene) -> float:
    views = scene.views()
    return views[0].transform().m11() if views else 1.0


def wire_at(scene: CanvasScene, pos: QPointF) -> Edge | None:
    """The wire within WIRE_HIT screen pixels of ``pos`` (the nearest one's edge), or None.

    A wire is drawn 2 px wide and Qt's own hit test is its filled curve; this one is a band
    along the line, as wide at any zoom.
    """
    reach = WIRE_HIT / max(zoom_of(scene), 1e-6)
    probe = QRectF(pos.x() - reach, pos.y() - reach, 2 * reach, 2 * reach)
    stroker = QPainterPathStroker()
    best: tuple[float, Edge] | None = None
    for radius in (reach / 3, reach * 2 / 3, reach):  # the closest band first
        stroker.setWidth(2 * radius)
        for edge, wire in scene.wire_items.items():
            if not wire.isVisible() or not wire.sceneBoundingRect().intersects(probe):
                continue
            if stroker.createStroke(wire.path()).contains(pos):
                best = (radius, edge)
                break
        if best is not None:
            return best[1]
    return None


def node_at(scene: CanvasScene, pos: QPointF) -> NodeItem | None:
    return next((i for i in scene.items(pos) if isinstance(i, NodeItem)), None)


# ---- the edits -------------------------------------------------------------------------------
def connect_problem(scene: CanvasScene, edge: Edge) -> str | None:
    """Why the wire ``edge`` cannot be drawn (it may replace the wire its input has)."""
    return replace_problem(scene.graph, edge)


def connect(scene: CanvasScene, edge: Edge, at: QPointF, moving: Edge | None = None) -> bool:
    """Draw the wire ``edge`` as one undo step, replacing the wire its input has now.

    ``moving`` is a wire pulled off an input: it goes in the same step (a move, not a delete and a draw).
    """
    graph = scene.graph
    if moving is not None and edge == moving:
        return False  # let go where it was: nothing changes
    problem = connect_problem(scene, edge)
    if problem is not None:
        refuse(scene, problem, at)
        return False
    edits: list[Edit] = []
    if moving is not None:
        edits.append(Disconnect(moving))
    pushed_out = replaced_wire(graph, edge)
    if pushed_out is not None and pushed_out != moving:
        edits.append(Disconnect(pushed_out))
    edits.append(Connect(*edge))
    src, dst = graph.node(edge.src), graph.node(edge.dst)
    if moving is not None:
        text = f"Move wire to '{dst.name}'"
    elif pushed_out is not None:
        text = f"Wire '{src.name}' into '{dst.name}' (replacing '{graph.node(pushed_out.src).name}')"
    else:
        text = "Connect"
    return scene.document.push(Compound(text, edits) if len(edits) > 1 else edits[0])


def delete_wire(scene: CanvasScene, edge: Edge) -> bool:
    """Remove one wire (pulled off its input and let go on nothing) as one undo step."""
    return scene.document.push(Disconnect(edge))


def _node_at(scene: CanvasScene, kind: str, corner: tuple[float, float]):
    return scene.graph.make_node(kind, position=snap(*corner))


def insert_at_wire_end(scene: CanvasScene, kind: str, end: WireEnd) -> str | None:
    """Add ``kind`` where a wire was let go, wired to that wire's port, as one undo step; its id.

    After an output, the new layer's input sits at the drop point; before an input, its output does.
    """
    graph = scene.graph
    port_y = end.at.y() - HEADER - ROW / 2
    corner = (end.at.x(), port_y) if end.is_output else (end.at.x() - NODE_WIDTH, port_y)
    node = _node_at(scene, kind, corner)
    other = graph.node(end.node_id)
    if end.is_output:
        if not node.input_ports():
            refuse(scene, f"{kind} has no input to wire into", end.at)
            return None
        edge = Edge(end.node_id, end.port, node.id, node.input_ports()[0].name)
        text = f"Add {kind} '{node.name}' after '{other.name}'"
    else:
        if not node.output_ports():
            refuse(scene, f"{kind} has no output to wire from", end.at)
            return None
        edge = Edge(node.id, node.output_ports()[0], end.node_id, end.port)
        text = f"Add {kind} '{node.name}' before '{other.name}'"
    edits: list[Edit] = [AddNode(node)]
    pushed_out = replaced_wire(graph, edge)
    if pushed_out is not None:
        edits.append(Disconnect(pushed_out))
    edits.append(Connect(*edge))
    if not scene.document.push(Compound(text, edits)):
        return None
    scene.select_nodes([node.id])
    return node.id


def insert_into_wire(scene: CanvasScene, kind: str, edge: Edge, at: QPointF) -> str | None:
    """Put a ``kind`` layer into the wire ``edge`` (A -> B becomes A -> new -> B), its header centred
    on ``at`` where that is free, as one undo step; its id. Refused, with the reason, when the shapes
    do not allow it.

    Where the drop point is taken (two layers side by side), the new layer takes the place right of
    A and what is in its way moves one column right, in the same step (Ctrl+Z puts them back); where
    that cannot be done, it goes to the free spot nearest the drop. The view scrolls to it.
    """
    graph = scene.graph
    problem = insert_problem(graph, scene.document.inference, kind, edge)
    if problem is not None:
        refuse(scene, f"{kind} cannot go into this wire: {problem}", at)
        return None
    node = _node_at(scene, kind, (at.x() - NODE_WIDTH / 2, at.y() - HEADER / 2))
    src, dst = graph.node(edge.src), graph.node(edge.dst)
    moves = make_room(graph, node, src, dst)
    edits: list[Edit] = [AddNode(node), Disconnect(edge),
                         Connect(edge.src, edge.src_port, node.id, node.input_ports()[0].name),
                         Connect(node.id, node.output_ports()[0], edge.dst, edge.dst_port)]
    if moves:
        edits.insert(1, Move(moves))
    if not scene.document.push(Compound(f"Insert {kind} '{node.name}' between '{src.name}' and '{dst.name}'",
                                        edits)):
        return None
    scene.select_nodes([node.id])
    reveal(scene, node.id)
    return node.id


def reveal(scene: CanvasScene, node_id: str) -> None:
    """Scroll the canvas so that node ``node_id`` is on screen (a layer placed off it is seen)."""
    item = scene.node_items.get(node_id)
    if item is not None:
        reveal_rect(scene, item.sceneBoundingRect())


def reveal_rect(scene: CanvasScene, rect: QRectF, margin: int = 40) -> None:
    """Scroll the canvas so that ``rect`` (scene coordinates) is on screen, ``margin`` pixels inside its edge."""
    for view in scene.views():
        cover = getattr(view, "cover", None)
        if cover is not None:
            cover(rect)  # room to scroll to it
        view.ensureVisible(rect, margin, margin)


def dissolve_problem(scene: CanvasScene, node_id: str) -> str | None:
    """Why a node cannot be dissolved: it needs exactly one input and one output."""
    node = scene.graph.node(node_id)
    if len(node.input_ports()) != 1 or len(node.output_ports()) != 1:
        return (f"{node.kind} '{node.name}' has {len(node.input_ports())} inputs and {len(node.output_ports())} "
                "outputs; only a layer with one of each can be dissolved (Del deletes it)")
    return None


def dissolve(scene: CanvasScene, node_ids: list[str]) -> bool:
    """Delete these nodes and wire what fed each into what it fed, as one undo step.

    A chain of dissolved nodes is bridged as a whole: A -> b -> c -> D becomes A -> D.
    """
    graph = scene.graph
    if not node_ids:
        scene.message.emit("Select a layer with one input and one output to dissolve it")
        return False
    for node_id in node_ids:
        if (problem := dissolve_problem(scene, node_id)) is not None:
            scene.message.emit(f"Cannot dissolve: {problem}")
            return False
    gone = set(node_ids)

    def feed(node_id: str) -> tuple[str, str] | None:
        """The output that feeds ``node_id`` once the dissolved nodes are gone."""
        edge = next(iter(graph.in_edges(node_id).values()), None)
        while edge is not None and edge.src in gone:
            edge = next(iter(graph.in_edges(edge.src).values()), None)
        return (edge.src, edge.src_port) if edge is not None else None

    bridges = []
    for node_id in node_ids:
        source = feed(node_id)
        for out in graph.out_edges(node_id):
            if out.dst not in gone and source is not None:
                bridges.append(Connect(source[0], source[1], out.dst, out.dst_port))
    names = ", ".join(f"'{graph.node(n).name}'" for n in node_ids)
    edits: list[Edit] = [RemoveNode(n) for n in node_ids]
    return scene.document.push(Compound(f"Dissolve {names}", [*edits, *bridges]))


def duplicate_moved(scene: CanvasScene, node_ids: list[str], offset: tuple[float, float]) -> list[str]:
    """Copies of these nodes (and the wires among them) ``offset`` from them, as one undo step; their ids."""
    fragment = fragment_of(scene.graph, node_ids)
    edits, new_ids = paste_edits(scene.graph, fragment, offset=offset, grid=GRID)
    if not new_ids or not scene.document.push(Compound(f"Duplicate {len(new_ids)} "
                                                       f"{'layer' if len(new_ids) == 1 else 'layers'}", edits)):
        return []
    scene.select_nodes(new_ids)
    return new_ids


# ---- what the user sees ----------------------------------------------------------------------
def refuse(scene: CanvasScene, reason: str, at: QPointF | None) -> None:
    """Say why a gesture was refused: in the status bar, and beside the cursor at ``at``."""
    scene.message.emit(reason)
    if at is not None:
        scene.note.show_at(reason, at)


class RefusalNote(QGraphicsItem):
    """A reason shown beside the cursor for a few seconds after a refused drop.

    It keeps its size on screen at any zoom (ItemIgnoresTransformations) and takes no clicks.
    """

    PAD = 6.0

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(PREVIEW_Z + 1)
        self.setVisible(False)
        self._text = QGraphicsSimpleTextItem(self)
        self._text.setPos(self.PAD, self.PAD)
        self._lines: list[str] = []
        self._rect = QRectF()
        self._timer: QTimer | None = None  # made with the scene as its parent, so it goes with the scene

    def text(self) -> str:
        """The reason shown now ('' when hidden)."""
        return " ".join(self._lines) if self.isVisible() else ""

    def show_at(self, reason: str, at: QPointF) -> None:
        self._lines = _wrap(reason, QFontMetricsF(self._text.font()), NOTE_WIDTH)
        self._text.setText("\n".join(self._lines))
        self._text.setBrush(QBrush(QColor("#ffffff")))
        self.prepareGeometryChange()
        text_rect = self._text.boundingRect()
        self._rect = QRectF(0, 0, text_rect.width() + 2 * self.PAD, text_rect.height() + 2 * self.PAD)
        self.setPos(self._place(at))
        self.setVisible(True)
        if self._timer is None and self.scene() is not None:
            self._timer = QTimer(self.scene())
            self._timer.setSingleShot(True)
            self._timer.timeout.connect(self.dismiss)
        if self._timer is not None:
            self._timer.start(NOTE_MS)

    def _place(self, at: QPointF) -> QPointF:
        """Below right of ``at``, moved in so that all of it is on screen (a drop near an edge)."""
        scene = self.scene()
        views = scene.views() if scene is not None else []
        if not views:
            return at
        view = views[0]
        scale = 1 / max(view.transform().m11(), 1e-6)  # screen pixels to scene units
        visible = view.mapToScene(view.viewport().rect()).boundingRect()
        width, height = self._rect.width() * scale, self._rect.height() * scale
        x, y = at.x() + 12 * scale, at.y() + 12 * scale
        margin = 4 * scale
        if x + width > visible.right() - margin:  # to the left of the cursor, and never past the edge
            x = max(visible.left() + margin, min(at.x() - 12 * scale, visible.right() - margin) - width)
        if y + height > visible.bottom() - margin:
            y = max(visible.top() + margin, min(at.y() - 12 * scale, visible.bottom() - margin) - height)
        return QPointF(x, y)

    def dismiss(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.setVisible(False)
        self.prepareGeometryChange()
        self._rect = QRectF()  # hidden, it takes no room: Frame All and the scroll area ignore it
        self._text.setText("")
        self._lines = []

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-1, -1, 1, 1) if not self._rect.isNull() else QRectF()

    def shape(self) -> QPainterPath:
        return QPainterPath()  # never under the pointer

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#b71c1c"), 1))
        painter.setBrush(QColor(183, 28, 28, 235))  # the error red, dark enough for white text (7:1)
        painter.drawRoundedRect(self._rect, 5, 5)


def _wrap(text: str, metrics: QFontMetricsF, width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and metrics.horizontalAdvance(trial) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line] if line else lines


class DuplicateDrag:
    """An Alt-drag of nodes: see-through copies follow the cursor; let go, they are added there.

    The originals never move. The copies (with the wires among them) are one undo step, pushed
    at the drop; a drag that ends where it began adds nothing.
    """

    def __init__(self, scene: CanvasScene, node_ids: list[str], press) -> None:
        self.scene = scene
        self.node_ids = node_ids
        self.start = press.scenePos()
        self.start_screen = press.screenPos()
        self.ghosts: list[GhostItem] = []

    def offset(self, event) -> tuple[float, float]:
        delta = event.scenePos() - self.start
        return snap(delta.x(), delta.y(), GRID if self.scene.snap_to_grid else 1.0)

    def move(self, event) -> None:
        if not self.ghosts:
            if (event.screenPos() - self.start_screen).manhattanLength() < QApplication.startDragDistance():
                return  # a hand's jitter during a click is not a drag
            for node_id in self.node_ids:
                ghost = GhostItem(self.scene.node_items[node_id])
                self.scene.addItem(ghost)
                self.ghosts.append(ghost)
        dx, dy = self.offset(event)
        for ghost in self.ghosts:
            ghost.setPos(ghost.source.pos() + QPointF(dx, dy))

    def drop(self, event) -> list[str]:
        """Remove the ghosts and add the copies where they were; the copies' ids."""
        moved = bool(self.ghosts)
        for ghost in self.ghosts:
            self.scene.removeItem(ghost)
        self.ghosts = []
        offset = self.offset(event)
        return duplicate_moved(self.scene, self.node_ids, offset) if moved and offset != (0.0, 0.0) else []


class GhostItem(QGraphicsItem):
    """A see-through stand-in for a node being Alt-dragged: where its copy will land."""

    def __init__(self, source: NodeItem) -> None:
        super().__init__()
        self.source = source
        self.setOpacity(0.6)
        self.setZValue(PREVIEW_Z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setPos(source.pos())

    def boundingRect(self) -> QRectF:
        return self.source.boundingRect()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        self.source.paint(painter, option, widget)


__all__ = ["DuplicateDrag", "GhostItem", "RefusalNote", "WireEnd", "connect", "connect_problem", "delete_wire",
           "dissolve", "dissolve_problem", "duplicate_moved", "insert_at_wire_end", "insert_into_wire", "node_at",
           "refuse", "reveal", "wire_at"]
