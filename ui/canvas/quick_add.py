"""Tab quick-add: a search popup at the cursor that inserts a layer, wired after the selected one.

Tab normally moves focus between widgets, so :class:`QuickAdd` filters the canvas view's
key presses and takes Tab before the focus chain sees it. The popup also opens where a wire
is let go on empty canvas, listing only the layers that take the wire's shape, and over a wire
(hovered or selected) to put the chosen layer into it. It ranks kinds with
:func:`netbuilder.layers.search.search`, as the palette does.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QCursor, QGuiApplication, QKeyEvent, QPainter
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
)

from netbuilder.analysis.wiring import insert_problem
from netbuilder.layers import CATALOG, CATEGORIES, TensorType
from netbuilder.layers.accepts import fit, kinds_accepting, kinds_for_wires, kinds_with_output
from netbuilder.layers.search import search_kinds
from netbuilder.model.edits import AddNode, Compound, Connect
from netbuilder.model.graph import Edge
from netbuilder.model.layout import COLUMN, ROW, is_free, nearest_free, node_height
from ui import theme
from ui.canvas import wire_gestures
from ui.canvas.items import HEADER, NODE_WIDTH, snap
from ui.canvas.scene import CanvasScene
from ui.canvas.wire_gestures import WireEnd
from ui.canvas.wire_items import WireItem

KIND_ROLE = Qt.ItemDataRole.UserRole
ORDER_ROLE = Qt.ItemDataRole.UserRole + 1  # the catalog's order, which ties keep


class _CategoryDelegate(QStyledItemDelegate):
    """Draws each kind's category, greyed, at the right of its row."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        super().paint(painter, option, index)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setPen(option.palette.highlightedText().color() if selected else theme.tone("hint"))
        painter.drawText(option.rect.adjusted(0, 0, -6, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         CATALOG[index.data(KIND_ROLE)].category)
        painter.restore()


class QuickAddPopup(QFrame):
    """A search line over a list of layer kinds; ``chosen(kind)`` fires on Enter or a click."""

    chosen = Signal(str)
    closed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.Box)
        self.allowed: frozenset[str] | None = None  # the kinds that may be listed (None: every kind)
        self.carried: TensorType | None = None  # the wire's shape the allowed kinds take, when known
        self.context = QLabel()  # what the list is limited to, e.g. "Layers that take [N, 64]"
        self.context.setWordWrap(True)
        self.context.setVisible(False)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Add layer: type to search")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setUniformItemSizes(True)
        self.list.setItemDelegate(_CategoryDelegate(self.list))
        self.doc = QLabel()
        self.doc.setWordWrap(True)
        theme.use_tone(self.doc, "hint")
        self.doc.setMinimumHeight(self.doc.fontMetrics().lineSpacing() * 3)
        self.doc.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        for widget in (self.context, self.search, self.list, self.doc):
            layout.addWidget(widget)
        for category in CATEGORIES:
            for spec in CATALOG.values():
                if spec.category == category:
                    item = QListWidgetItem(spec.kind)
                    item.setData(KIND_ROLE, spec.kind)
                    item.setData(ORDER_ROLE, self.list.count())
                    item.setToolTip(spec.doc)
                    self.list.addItem(item)
        self.resize(300, 360)
        self.search.textChanged.connect(self.filter)
        self.search.installEventFilter(self)
        self.list.itemClicked.connect(self._choose)
        self.list.itemActivated.connect(self._choose)
        self.list.currentItemChanged.connect(self._show_doc)
        self.filter("")

    def kinds(self) -> list[str]:
        """The kinds listed now, best match first."""
        return [self.list.item(k).data(KIND_ROLE) for k in range(self.list.count())
                if not self.list.item(k).isHidden()]

    def restrict(self, allowed: frozenset[str] | None, context: str = "", carried: TensorType | None = None) -> None:
        """List only ``allowed`` kinds (None: all), saying why in ``context`` above the search line.

        ``carried`` is the shape they take: a typed layer left out is then explained ("Linear needs
        [N, F] ...; the wire carries [N, 64, 3, 3]: insert Flatten").
        """
        self.allowed, self.carried = allowed, carried
        self.context.setText(context)
        self.context.setVisible(bool(context))
        self.filter(self.search.text())

    def filter(self, text: str) -> None:
        """Show the kinds :func:`search_kinds` finds for ``text``, best first (all, by category, when empty)."""
        found = search_kinds(text, self.allowed)
        place = {kind: k for k, kind in enumerate(found)}
        items = [self.list.takeItem(0) for _ in range(self.list.count())]
        if not text.strip():  # the catalog's order, by category
            place = {kind: 0 for kind in found}
        keyed = [(place.get(item.data(KIND_ROLE), len(place)), item.data(ORDER_ROLE), item) for item in items]
        for _rank, _order, item in sorted(keyed, key=lambda r: r[:2]):  # best match first, then catalog order
            self.list.addItem(item)
            item.setHidden(item.data(KIND_ROLE) not in place)  # once in the list: hiding is the list's, not the item's
        shown = [r for r in keyed if r[2].data(KIND_ROLE) in place]
        self.list.setCurrentItem(min(shown, key=lambda r: r[:2])[2] if shown else None)
        if not shown:
            self.doc.setText(self._why_none(text))

    def _why_none(self, text: str) -> str:
        if self.allowed is None:
            return "No layer matches."
        left_out = search_kinds(text)
        if left_out and self.carried is not None and (reason := fit(left_out[0], self.carried).reason):
            return reason
        return f"{left_out[0]} does not fit here." if left_out else "No layer matches."

    def _show_doc(self, item: QListWidgetItem | None) -> None:
        self.doc.setText(CATALOG[item.data(KIND_ROLE)].doc if item is not None else "")

    def _step(self, delta: int) -> None:
        rows = [k for k in range(self.list.count()) if not self.list.item(k).isHidden()]
        if rows:
            at = rows.index(self.list.currentRow()) if self.list.currentRow() in rows else -delta
            self.list.setCurrentRow(rows[max(0, min(len(rows) - 1, at + delta))])

    def _choose(self, item: QListWidgetItem | None) -> None:
        # isVisible: where one click both clicks and activates an item, the second call finds it closed
        if item is not None and not item.isHidden() and self.isVisible():
            self.close()
            self.chosen.emit(item.data(KIND_ROLE))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._step(1 if key == Qt.Key.Key_Down else -1)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._choose(self.list.currentItem())
                return True
        return super().eventFilter(watched, event)

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.closed.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()
        else:
            super().keyPressEvent(event)


def insert_layer(scene: CanvasScene, kind: str, at: QPointF | None) -> str | None:
    """Add a ``kind`` layer, its header centred on ``at``, as one undo step; select it; return its id.

    With exactly one node selected, the new layer is wired from that node's first output when
    both ends have a port (and placed one column to its right when ``at`` is None). It never lands
    on a layer: where ``at`` is taken it goes to the nearest free spot (after the selected node: to
    its right, or below that, as a chain builds), and the view scrolls to it.
    """
    graph, document = scene.graph, scene.document
    selected = scene.selected_node_ids()
    source = graph.node(selected[0]) if len(selected) == 1 else None
    if at is None:
        at = (QPointF(source.position[0] + COLUMN, source.position[1]) + QPointF(NODE_WIDTH / 2, HEADER / 2)
              if source is not None else QPointF(0, 0))
    x, y = at.x() - NODE_WIDTH / 2, at.y() - HEADER / 2
    node = graph.make_node(kind, position=snap(x, y))
    height = node_height(node)
    if not is_free(graph, *node.position, height):
        right = [] if source is None else [(source.position[0] + COLUMN, source.position[1] + k * ROW)
                                           for k in range(4)]
        node.position = nearest_free(graph, *node.position, height, right)
    add = AddNode(node)
    pushed, unwired = False, None
    if source is not None:
        unwired = (f"'{source.name}' has no output to wire from" if not source.output_ports()
                   else f"{kind} has no input to wire into" if not node.input_ports() else None)
    if source is not None and unwired is None:
        wire = Connect(source.id, source.output_ports()[0], node.id, node.input_ports()[0].name)
        refusals: list[str] = []
        document.refused.connect(refusals.append)
        try:
            pushed = document.push(Compound(f"Add {kind} '{node.name}' after '{source.name}'", [add, wire]))
        finally:
            document.refused.disconnect(refusals.append)
        unwired = None if pushed else (refusals[-1] if refusals else "the wire was refused")
    if not pushed and not document.push(add):
        return None
    scene.select_nodes([node.id])
    wire_gestures.reveal(scene, node.id)
    if unwired is not None:  # said after the add, whose edit empties the status bar
        scene.message.emit(f"Added {kind} '{node.name}' unwired: {unwired}")
    return node.id


def insert_in_view(view: QGraphicsView, kind: str, at: QPointF | None = None) -> str | None:
    """:func:`insert_layer` into ``view``'s scene: at ``at``, else after the one selected layer, else in the
    middle of the view (Tab away from the canvas, a double-click or Enter in the palette)."""
    scene = view.scene()
    if not isinstance(scene, CanvasScene):
        return None
    if at is None and len(scene.selected_node_ids()) != 1:
        at = view.mapToScene(view.viewport().rect().center())
    return insert_layer(scene, kind, at)


def kinds_fitting(scene: CanvasScene, node_id: str, port: str, where: str
                  ) -> tuple[frozenset[str], str, TensorType | None]:
    """The kinds that take what ``node_id``'s ``port`` puts out, the popup's line saying so, and that shape."""
    outputs = scene.document.inference.outputs(node_id)
    tensor = outputs.get(port) if outputs else None
    if tensor is None:  # not known yet (a problem upstream): any layer with an input
        return frozenset(k for k, s in CATALOG.items() if s.input_ports(s.defaults())), f"Layers {where}", None
    return kinds_accepting(tensor), f"Layers that take {tensor}, {where}", tensor


def kinds_for_wire(scene: CanvasScene, edge: Edge) -> tuple[frozenset[str], str, TensorType | None]:
    """The kinds that can go into the wire ``edge``: one input taking its shape, one output; the line saying so."""
    allowed, context, carried = kinds_fitting(scene, edge.src, edge.src_port, "into this wire")
    return allowed & kinds_for_wires(), context, carried


def cursor_scene_pos(view: QGraphicsView) -> QPointF | None:
    """Where the mouse is on the canvas, or None when it is not over the view."""
    local = view.viewport().mapFromGlobal(QCursor.pos())
    return view.mapToScene(local) if view.viewport().rect().contains(local) else None


class QuickAdd(QObject):
    """Watches ``view`` for Tab and opens a :class:`QuickAddPopup` at the cursor."""

    def __init__(self, view: QGraphicsView) -> None:
        super().__init__(view)
        self.view = view
        self.popup: QuickAddPopup | None = None
        self._at: QPointF | None = None
        self._end: WireEnd | None = None  # the wire let go on empty canvas that opened the popup
        self._into: Edge | None = None  # the wire the chosen layer goes into
        self._after: frozenset[str] = frozenset()  # the kinds that go after the selected layer instead
        self._scene: CanvasScene | None = None
        view.installEventFilter(self)
        self.follow(view.scene())

    def follow(self, scene: CanvasScene | None) -> None:
        """Open where ``scene``'s wires are let go on empty canvas (the view shows a new scene)."""
        if self._scene is not None:
            try:
                self._scene.wire_dropped.disconnect(self.open_at_wire_end)
            except (RuntimeError, TypeError):  # the old scene is gone already
                pass
        self._scene = scene if isinstance(scene, CanvasScene) else None
        if self._scene is not None:
            self._scene.wire_dropped.connect(self.open_at_wire_end)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Tab
                and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier):
            self.open()
            return True
        return super().eventFilter(watched, event)

    def open(self) -> QuickAddPopup:
        """Show the popup at the cursor when it is over the canvas, else in the middle of the view.

        Over a wire, or with one wire selected and no layer, the chosen layer goes into that wire.
        """
        self._at = cursor_scene_pos(self.view)
        self._end = None
        self._into = self._wire_to_insert_into()
        allowed, context, carried = None, "", None
        self._after = frozenset()
        scene = self.view.scene()
        if self._into is not None and isinstance(scene, CanvasScene):
            allowed, context, carried = kinds_for_wire(scene, self._into)
            # A layer the wire cannot take goes after the one selected, as Tab does off a wire.
            selected = scene.selected_node_ids()
            source = scene.graph.node(selected[0]) if len(selected) == 1 else None
            if source is not None and source.output_ports():
                self._after, _, _ = kinds_fitting(scene, source.id, source.output_ports()[0], "")
                self._after -= allowed
                if self._after:
                    allowed |= self._after
                    context = f"{context}, or after '{source.name}'"
        corner = (QCursor.pos() if self._at is not None
                  else self.view.viewport().mapToGlobal(self.view.viewport().rect().center()))
        return self._show(corner, allowed, context, carried)

    def open_at_wire_end(self, end: WireEnd) -> QuickAddPopup:
        """Show the popup where a wire was let go, listing only the layers that fit at its end."""
        self._at, self._end, self._into = end.at, end, None
        if end.is_output:
            allowed, context, carried = self._fitting(end.node_id, end.port, "after this output")
        else:
            allowed, context, carried = kinds_with_output(), "Layers to feed this input", None
        # A little below right of the drop, so the dangling wire's end stays in sight.
        corner = self.view.viewport().mapToGlobal(self.view.mapFromScene(end.at)) + QPoint(10, 10)
        return self._show(corner, allowed, context, carried)

    def _fitting(self, node_id: str, port: str, where: str) -> tuple[frozenset[str], str, TensorType | None]:
        scene = self.view.scene()
        return kinds_fitting(scene, node_id, port, where) if isinstance(scene, CanvasScene) else (
            frozenset(), f"Layers {where}", None)

    def _wire_to_insert_into(self) -> Edge | None:
        scene = self.view.scene()
        if not isinstance(scene, CanvasScene):
            return None
        if self._at is not None and wire_gestures.node_at(scene, self._at) is None:
            hovered = wire_gestures.wire_at(scene, self._at)
            if hovered is not None:
                return hovered
        wires = [i.edge for i in scene.selectedItems() if isinstance(i, WireItem)]
        return wires[0] if len(wires) == 1 and not scene.selected_node_ids() else None

    def _show(self, corner: QPoint, allowed: frozenset[str] | None, context: str,
              carried: TensorType | None = None) -> QuickAddPopup:
        if self.popup is None:
            self.popup = QuickAddPopup(self.view)
            self.popup.chosen.connect(self._insert)
            self.popup.closed.connect(self._closed)
        popup = self.popup
        popup.search.clear()
        popup.restrict(allowed, context, carried)
        popup.adjustSize()
        popup.resize(max(popup.width(), 300), max(popup.height(), 360))
        popup.move(_inside_screen(corner, popup.size(), self.view))
        popup.show()
        popup.search.setFocus()
        return popup

    def _closed(self) -> None:
        scene = self.view.scene()
        if isinstance(scene, CanvasScene):
            scene.drop_dangling()

    def _insert(self, kind: str) -> None:
        scene = self.view.scene()
        if isinstance(scene, CanvasScene):
            at = self._at
            if self._end is not None:
                wire_gestures.insert_at_wire_end(scene, kind, self._end)
            elif self._into is not None and self._into in scene.wire_items and not (
                    kind in self._after and insert_problem(scene.graph, scene.document.inference, kind, self._into)):
                at = at if at is not None else scene.wire_items[self._into].path().pointAtPercent(0.5)
                wire_gestures.insert_into_wire(scene, kind, self._into, at)
            else:
                insert_in_view(self.view, kind, at)
        self._end = self._into = None
        self._after = frozenset()
        self.view.setFocus()


def _inside_screen(corner: QPoint, size, view: QGraphicsView) -> QPoint:
    """``corner`` moved so a popup of ``size`` stays on the screen."""
    screen = (view.screen() or QGuiApplication.primaryScreen()).availableGeometry()
    x = max(screen.left(), min(corner.x(), screen.right() - size.width()))
    y = max(screen.top(), min(corner.y(), screen.bottom() - size.height()))
    return QPoint(x, y)
