"""Where each wire's shape label goes: somewhere free along its wire, or hidden until the wire is hovered.

A label may sit above or below its wire at one of a few points along it (the middle first); it takes
the first spot that covers no node (nor its ports), no other label shown, and not its own wire (the
steep middle of an S-curve would strike through it), and that no other wire crosses where there is such
a spot (a crossing wire is better than no label). A label that finds no spot is hidden; hovering its
wire shows it (over the nodes) and its tooltip names the shape. A wire that comes or moves moves the
labels it now strikes through.

Placement is lazy and incremental: wires whose path or text changed, and nodes that moved, came or
went, are only marked; :meth:`WireLabels.flush` (the view calls it before each paint, with the part of
the scene on screen) places what was marked there, and only while the labels are shown at all (zoomed
out they are hidden and nothing is placed). Wires off screen wait until they come into view: a
10,000-node graph opens without placing 11,000 labels nobody sees (1.8 s). Nodes and labels are kept
in a coarse grid so a spot is checked against its neighbours only, and a node that moved is taken
out of its cells and put back, not the whole grid rebuilt.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainterPath, QPainterPathStroker

from netbuilder.gc_pause import gc_paused

if TYPE_CHECKING:
    from ui.canvas.scene import CanvasScene
    from ui.canvas.wire_items import WireItem

CELL = 240.0  # grid cell, in scene units: about a node's width
ALONG = (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.12, 0.88)  # the spots tried, as fractions of the wire's length
OFF_WIRE = 2.0  # gap between a label and its wire
CLEAR = 2.0  # room kept between a label and anything else
LINE_WIDTH = 2.0  # a label must not touch its own wire's line (the pen is 2.2 wide; the label sits OFF_WIRE away)
PORT_REACH = 9.0  # ports stick out this far left and right of a node's body (PORT_RADIUS + 3)
ALL_AT_ONCE = 300  # up to this many waiting labels are placed in one go, on screen or not


def _cells(rect: QRectF) -> Iterator[tuple[int, int]]:
    for i in range(math.floor(rect.left() / CELL), math.floor(rect.right() / CELL) + 1):
        for j in range(math.floor(rect.top() / CELL), math.floor(rect.bottom() / CELL) + 1):
            yield i, j


class _Grid:
    """Rectangles by the grid cells they touch."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], dict[object, QRectF]] = {}

    def add(self, key: object, rect: QRectF) -> None:
        cells = self.cells
        top, bottom = math.floor(rect.top() / CELL), math.floor(rect.bottom() / CELL) + 1
        for i in range(math.floor(rect.left() / CELL), math.floor(rect.right() / CELL) + 1):
            for j in range(top, bottom):
                bucket = cells.get((i, j))
                if bucket is None:
                    cells[(i, j)] = {key: rect}
                else:
                    bucket[key] = rect

    def remove(self, key: object, rect: QRectF) -> None:
        for cell in _cells(rect):
            bucket = self.cells.get(cell)
            if bucket is not None:
                bucket.pop(key, None)

    def hits(self, rect: QRectF) -> Iterator[object]:
        for cell in _cells(rect):
            bucket = self.cells.get(cell)
            if bucket:
                for key, other in bucket.items():
                    if other.intersects(rect):
                        yield key


def wire_labels_of(scene: CanvasScene) -> WireLabels:
    """The label placement of ``scene`` (made on first use)."""
    placer = getattr(scene, "_wire_labels", None)
    if placer is None:
        placer = WireLabels(scene)
        scene._wire_labels = placer
    return placer


class WireLabels:
    """The placement of every wire label of one scene; see the module's docstring."""

    def __init__(self, scene: CanvasScene) -> None:
        self.scene = scene
        self._dirty: set[WireItem] = set()
        self._hidden: set[WireItem] = set()  # had text but found no room
        self._placed: dict[WireItem, QRectF] = {}
        self._labels = _Grid()
        self._nodes = _Grid()
        self._node_rects: dict[str, QRectF] = {}
        self._nodes_changed = True  # every node: rebuild the node grid
        self._moved: set[str] = set()  # these nodes moved, came or went
        self._shown = False

    # ---- marking ------------------------------------------------------------------------------
    def changed(self, wire: WireItem) -> None:
        """``wire``'s path or text changed: place its label again."""
        self._dirty.add(wire)

    def nodes_changed(self, node_id: str) -> None:
        """Node ``node_id`` moved, came or went."""
        if not self._nodes_changed:  # until the first full build, that build covers it
            self._moved.add(node_id)

    def forget(self, wire: WireItem) -> None:
        """``wire`` left the scene."""
        self._dirty.discard(wire)
        self._hidden.discard(wire)
        rect = self._placed.pop(wire, None)
        if rect is not None:
            self._labels.remove(wire, rect)

    def fits(self, wire: WireItem) -> bool:
        """Whether ``wire``'s label has a free spot (and so is shown while labels are)."""
        return wire in self._placed

    # ---- placing --------------------------------------------------------------------------------
    def flush(self, shown: bool, region: QRectF | None = None) -> None:
        """Place what changed, when labels are ``shown`` (the canvas is zoomed in far enough to read them):
        the wires that reach into ``region`` (the scene on screen), or every one when it is None."""
        if not shown:
            self._shown = False
            return
        if not self._shown:  # the scene just made every label visible again: only those with room stay
            self._shown = True
            for wire in self._hidden:
                wire.hide_label()
            for wire in self._dirty:
                wire.hide_label()
        if not self._dirty and not self._nodes_changed and not self._moved:
            return
        freed: list[QRectF] = []
        if self._nodes_changed or self._moved:
            with gc_paused():  # the first build: a rect and grid entries for each of 10,000 nodes, none garbage
                freed += self._refresh_nodes()
        if region is None or len(self._dirty) <= ALL_AT_ONCE:
            retry = set(self._dirty)
        else:  # only those on screen; the rest stay marked until they come into view
            near = self.scene.items(region, Qt.ItemSelectionMode.IntersectsItemBoundingRect)
            retry = {item for item in near if item in self._dirty}
        self._dirty -= retry
        for wire in retry:
            rect = self._placed.pop(wire, None)
            if rect is not None:
                self._labels.remove(wire, rect)
                freed.append(rect)
        if freed:  # room came free: a hidden label nearby may fit now
            retry |= {w for w in self._hidden if _near(w, freed)}
        live = self.scene.wire_items
        for wire in sorted(retry, key=_order):
            if live.get(wire.edge) is wire:
                self._place(wire)
        # A label placed before a wire came or moved may now be struck through by it: those move (once, not
        # on to the labels they push: each is placed clear of every wire there is now, where there is room).
        struck = {other for wire in retry if live.get(wire.edge) is wire for other in self._struck_by(wire)}
        for other in sorted(struck - retry, key=_order):
            self._labels.remove(other, self._placed.pop(other))
            self._place(other)

    def _struck_by(self, wire: WireItem) -> Iterator[WireItem]:
        """The labels shown that ``wire``'s line crosses."""
        line: QPainterPath | None = None
        for other in set(self._labels.hits(wire.boundingRect())):
            if other is wire:
                continue
            if line is None:
                line = wire.shape()
            if line.intersects(self._placed[other]):
                yield other

    def _refresh_nodes(self) -> list[QRectF]:
        """Bring the node grid up to date; labels now under a node must move. Returns the rects nodes left."""
        items = self.scene.node_items
        if self._nodes_changed:
            self._nodes_changed = False
            self._moved.clear()
            before = self._node_rects
            now = {node_id: _node_rect(item) for node_id, item in items.items()}
            self._node_rects = now
            grid = _Grid()
            for node_id, rect in now.items():
                grid.add(node_id, rect)
            self._nodes = grid
            left = [rect for node_id, rect in before.items() if now.get(node_id) != rect]
            came = [rect for node_id, rect in now.items() if before.get(node_id) != rect]
        else:
            left, came = [], []
            for node_id in self._moved:
                old = self._node_rects.pop(node_id, None)
                item = items.get(node_id)
                new = _node_rect(item) if item is not None else None
                if old == new:
                    if new is not None:
                        self._node_rects[node_id] = new
                    continue
                if old is not None:
                    self._nodes.remove(node_id, old)
                    left.append(old)
                if new is not None:
                    self._node_rects[node_id] = new
                    self._nodes.add(node_id, new)
                    came.append(new)
            self._moved.clear()
        if self._placed:  # none yet when the scene first shows: nothing to look for under 10,000 nodes
            for rect in came:
                self._dirty.update(self._labels.hits(rect))  # a node now sits on these labels
        return left

    def _place(self, wire: WireItem) -> None:
        if not wire.label_text:
            self._hidden.discard(wire)
            wire.hide_label()
            return
        spot = self._free_spot(wire)
        if spot is None:
            self._hidden.add(wire)
            wire.hide_label()
            return
        self._hidden.discard(wire)
        label = wire.label
        label.setPos(spot.topLeft())  # the wire item sits at the scene's origin: its coordinates are the scene's
        label.setVisible(True)
        self._placed[wire] = spot
        self._labels.add(wire, spot)

    def _free_spot(self, wire: WireItem) -> QRectF | None:
        """The first spot clear of nodes, labels, the wire's own line and every other wire; failing that, the
        first clear of all but other wires (a crossing wire hides less than a hidden label)."""
        crossed: QRectF | None = None
        for spot in self._spots(wire):
            if not self._crossed(spot, wire):
                return spot
            if crossed is None:
                crossed = spot
        return crossed

    def _crossed(self, spot: QRectF, wire: WireItem) -> bool:
        """Whether a wire other than ``wire`` runs through ``spot``."""
        live = self.scene.wire_items
        for item in self.scene.items(spot, Qt.ItemSelectionMode.IntersectsItemShape):
            if item is not wire and live.get(getattr(item, "edge", None)) is item:
                return True
        return False

    def _spots(self, wire: WireItem) -> Iterator[QRectF]:
        """The spots along ``wire`` clear of nodes, other labels and the wire's own line, best first."""
        size = wire.label.boundingRect().size()
        w, h = size.width(), size.height()
        path = wire.path()
        own: QPainterPath | None = None  # the wire's own line, made only for a spot clear of nodes and labels
        for t in ALONG:
            point = path.pointAtPercent(t)
            # Above and below the wire; then, where it runs steeply, beside it.
            beside = OFF_WIRE + 2
            for dx, dy in ((-w / 2, -h - OFF_WIRE), (-w / 2, OFF_WIRE), (beside, -h / 2), (-w - beside, -h / 2)):
                spot = QRectF(point.x() + dx, point.y() + dy, w, h)
                room = spot.adjusted(-CLEAR, -CLEAR, CLEAR, CLEAR)
                if next(self._nodes.hits(room), None) is not None or next(self._labels.hits(room), None) is not None:
                    continue
                if own is None:
                    stroker = QPainterPathStroker()
                    stroker.setWidth(LINE_WIDTH)
                    own = stroker.createStroke(path)
                if not own.intersects(spot):
                    yield spot

    def preferred_spot(self, wire: WireItem) -> QRectF:
        """Where ``wire``'s label goes when shown on hover: above the middle of the wire."""
        size = wire.label.boundingRect().size()
        point = wire.path().pointAtPercent(0.5)
        return QRectF(point.x() - size.width() / 2, point.y() - size.height() - OFF_WIRE, size.width(), size.height())

    def visible_rects(self) -> Iterable[tuple[WireItem, QRectF]]:
        """The labels shown now and where (for tests and the minimap)."""
        return self._placed.items()


def _node_rect(item) -> QRectF:
    return item.body_rect().adjusted(-PORT_REACH, 0, PORT_REACH, 0)


def _order(wire: WireItem) -> tuple[float, float]:
    start = wire.path().elementAt(0)
    return start.y, start.x


def _near(wire: WireItem, rects: list[QRectF]) -> bool:
    reach = wire.path().boundingRect().adjusted(-CELL / 2, -CELL / 2, CELL / 2, CELL / 2)
    return any(reach.intersects(r) for r in rects)
