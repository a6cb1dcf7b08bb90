"""Tab quick-add: a search popup at the cursor that inserts a layer, wired after the selected one.

Tab normally moves focus between widgets, so :class:`QuickAdd` filters the canvas view's
key presses and takes Tab before the focus chain sees it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QGuiApplication, QKeyEvent, QPainter
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

from netbuilder.layers import CATALOG, CATEGORIES
from netbuilder.model.edits import AddNode, Compound, Connect
from netbuilder.model.layout import COLUMN
from ui.canvas.items import HEADER, NODE_WIDTH, snap
from ui.canvas.scene import CanvasScene

KIND_ROLE = Qt.ItemDataRole.UserRole
ORDER_ROLE = Qt.ItemDataRole.UserRole + 1  # the catalog's order, which ties keep


class _CategoryDelegate(QStyledItemDelegate):
    """Draws each kind's category, greyed, at the right of its row."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        super().paint(painter, option, index)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setPen(option.palette.highlightedText().color() if selected else QColor("#78909c"))
        painter.drawText(option.rect.adjusted(0, 0, -6, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         CATALOG[index.data(KIND_ROLE)].category)
        painter.restore()


class QuickAddPopup(QFrame):
    """A search line over a list of layer kinds; ``chosen(kind)`` fires on Enter or a click."""

    chosen = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.Box)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Add layer: type to search")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setUniformItemSizes(True)
        self.list.setItemDelegate(_CategoryDelegate(self.list))
        self.doc = QLabel()
        self.doc.setWordWrap(True)
        self.doc.setStyleSheet("color: #546e7a")
        self.doc.setMinimumHeight(self.doc.fontMetrics().lineSpacing() * 3)
        self.doc.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        for widget in (self.search, self.list, self.doc):
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

    def filter(self, text: str) -> None:
        """Show kinds whose name or description holds ``text``; names starting with it come first."""
        text = text.strip().lower()
        items = [self.list.takeItem(0) for _ in range(self.list.count())]
        keyed = []
        for item in items:
            kind = item.data(KIND_ROLE)
            name = kind.lower()
            rank = (0 if name.startswith(text) else 1 if text in name
                    else 2 if text in CATALOG[kind].category.lower() or text in CATALOG[kind].doc.lower() else 3)
            item.setHidden(rank == 3)
            keyed.append((rank, item.data(ORDER_ROLE), item))
        for _rank, _order, item in sorted(keyed, key=lambda r: r[:2]):  # best match first, then catalog order
            self.list.addItem(item)
        ranked = [r for r in keyed if r[0] < 3]
        self.list.setCurrentItem(min(ranked, key=lambda r: r[:2])[2] if ranked else None)
        if not ranked:
            self.doc.setText("No layer matches.")

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

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()
        else:
            super().keyPressEvent(event)


def insert_layer(scene: CanvasScene, kind: str, at: QPointF | None) -> str | None:
    """Add a ``kind`` layer, its header centred on ``at``, as one undo step; select it; return its id.

    With exactly one node selected, the new layer is wired from that node's first output when
    both ends have a port (and placed one column to its right when ``at`` is None).
    """
    graph, document = scene.graph, scene.document
    selected = scene.selected_node_ids()
    source = graph.node(selected[0]) if len(selected) == 1 else None
    if at is None:
        at = (QPointF(source.position[0] + COLUMN, source.position[1]) + QPointF(NODE_WIDTH / 2, HEADER / 2)
              if source is not None else QPointF(0, 0))
    x, y = at.x() - NODE_WIDTH / 2, at.y() - HEADER / 2
    node = graph.make_node(kind, position=snap(x, y))
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
    if unwired is not None:  # said after the add, whose edit empties the status bar
        scene.message.emit(f"Added {kind} '{node.name}' unwired: {unwired}")
    return node.id


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
        view.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Tab
                and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier):
            self.open()
            return True
        return super().eventFilter(watched, event)

    def open(self) -> QuickAddPopup:
        """Show the popup at the cursor when it is over the canvas, else in the middle of the view."""
        self._at = cursor_scene_pos(self.view)
        if self.popup is None:
            self.popup = QuickAddPopup(self.view)
            self.popup.chosen.connect(self._insert)
        popup = self.popup
        popup.search.clear()
        popup.filter("")
        corner = (QCursor.pos() if self._at is not None
                  else self.view.viewport().mapToGlobal(self.view.viewport().rect().center()))
        popup.move(_inside_screen(corner, popup.size(), self.view))
        popup.show()
        popup.search.setFocus()
        return popup

    def _insert(self, kind: str) -> None:
        scene = self.view.scene()
        if isinstance(scene, CanvasScene):
            at = self._at
            if at is None and len(scene.selected_node_ids()) != 1:
                at = self.view.mapToScene(self.view.viewport().rect().center())
            insert_layer(scene, kind, at)
        self.view.setFocus()


def _inside_screen(corner: QPoint, size, view: QGraphicsView) -> QPoint:
    """``corner`` moved so a popup of ``size`` stays on the screen."""
    screen = (view.screen() or QGuiApplication.primaryScreen()).availableGeometry()
    x = max(screen.left(), min(corner.x(), screen.right() - size.width()))
    y = max(screen.top(), min(corner.y(), screen.bottom() - size.height()))
    return QPoint(x, y)
