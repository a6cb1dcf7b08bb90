"""The palette: layers by category with a search box; drag one onto the canvas or double-click it.

Each entry shows its category's mark (its canvas colour and its picture from the toolbar's icon set),
its name and its one-line description. Typing in the search
box lists the matches in one group, ranked by :func:`netbuilder.layers.search.search` as the
quick-add ranks them ("dense" finds Linear, "relu" the ReLU family first).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QDrag, QFont, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QDockWidget,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from netbuilder.layers import CATALOG, CATEGORIES
from netbuilder.layers.search import search_kinds
from ui.canvas.items import category_colour
from ui.canvas.view import layer_mime
from ui.icons import charmap, font_family

KIND_ROLE = Qt.ItemDataRole.UserRole
MATCHES = "Matches"
ICON_SIZE = 18


# Each category's picture from Material Design Icons 6 (the toolbar's set, ui/icons.py; Apache 2.0).
CATEGORY_GLYPHS = {
    "Input / Output": "swap-horizontal", "Core": "vector-polyline", "Reshape": "resize",
    "Regularisation": "filter-outline", "Convolution": "grid", "Pooling": "arrow-collapse-all",
    "Normalisation": "tune-vertical", "Recurrent": "repeat", "Attention": "eye-outline",
    "Activation": "chart-bell-curve", "Merge": "call-merge", "Math": "function-variant",
}


def category_icon(category: str) -> QIcon:
    """A rounded square in the colour the category's nodes have on the canvas, with the category's picture
    from the icon set (the first letter where a category has none).

    The colour is the canvas's own key (a Conv2d node's header is the same blue), which an icon
    font's pictures alone would not give; the picture tells the categories apart without the colour.
    """
    code = charmap().get(CATEGORY_GLYPHS.get(category, ""))
    icon = QIcon()
    for scale in (1, 2):  # crisp on a 200 % screen too
        size = ICON_SIZE * scale
        pixmap = QPixmap(size, size)
        pixmap.setDevicePixelRatio(scale)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(icon_colour(category))
        painter.drawRoundedRect(QRectF(1, 1, ICON_SIZE - 2, ICON_SIZE - 2), 4, 4)
        font = QFont(font_family()) if code is not None else QFont()
        font.setBold(code is None)
        font.setPixelSize(14 if code is not None else 11)
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(QRectF(0, 0, ICON_SIZE, ICON_SIZE), Qt.AlignmentFlag.AlignCenter,
                         chr(code) if code is not None else category[0])
        painter.end()
        icon.addPixmap(pixmap)
    return icon


def icon_colour(category: str) -> QColor:
    """The category's canvas colour, darkened until its white letter reads (4.7:1 or more, WCAG AA)."""
    return category_colour(category).darker(165)


def doc_colour(palette: QPalette) -> QColor:
    """The doc line's colour: a shade lighter than the name, still about 7:1 on the list's base."""
    text, base = palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base)
    return QColor(*(round(0.7 * a + 0.3 * b) for a, b in zip(text.getRgb()[:3], base.getRgb()[:3], strict=True)))


class _EntryDelegate(QStyledItemDelegate):
    """A layer's row: its icon and name on the first line, its description, muted, on the second."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        if index.data(KIND_ROLE):
            size.setHeight(max(size.height(), 2 * option.fontMetrics.lineSpacing() + 6))
        return size

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        kind = index.data(KIND_ROLE)
        if not kind:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        opt.icon = QIcon()
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        text = option.palette.color(role)
        # Full strength when selected, where the highlight leaves no contrast to spare.
        muted = text if selected else doc_colour(option.palette)
        rect = option.rect.adjusted(4, 3, -4, -3)
        line = option.fontMetrics.lineSpacing()
        icon = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(icon, QIcon):
            icon.paint(painter, rect.left(), rect.top() + (line - ICON_SIZE) // 2, ICON_SIZE, ICON_SIZE)
        left = rect.left() + ICON_SIZE + 6
        painter.save()
        painter.setPen(text)
        painter.drawText(left, rect.top(), rect.right() - left, line,
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, kind)
        painter.setPen(muted)
        doc = option.fontMetrics.elidedText(CATALOG[kind].doc, Qt.TextElideMode.ElideRight, rect.right() - left)
        painter.drawText(left, rect.top() + line, rect.right() - left, line,
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, doc)
        painter.restore()


def _entry(parent: QTreeWidgetItem, kind: str, icons: dict[str, QIcon]) -> QTreeWidgetItem:
    spec = CATALOG[kind]
    item = QTreeWidgetItem(parent, [kind])
    item.setToolTip(0, f"{kind} ({spec.category}): {spec.doc}")
    item.setData(0, KIND_ROLE, kind)
    item.setIcon(0, icons[spec.category])
    return item


class LayerTree(QTreeWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        self.setIndentation(12)  # room for the doc line in a narrow dock
        self.setItemDelegate(_EntryDelegate(self))
        self.icons = {category: category_icon(category) for category in CATEGORIES}
        self.matches = QTreeWidgetItem(self, [MATCHES])  # filled while searching
        self.matches.setFlags(self.matches.flags() & ~Qt.ItemFlag.ItemIsDragEnabled)
        self.matches.setHidden(True)
        for category in CATEGORIES:
            group = QTreeWidgetItem(self, [category])
            group.setFlags(group.flags() & ~Qt.ItemFlag.ItemIsDragEnabled)
            for spec in CATALOG.values():
                if spec.category == category:
                    _entry(group, spec.kind, self.icons)
        self.expandAll()

    def show_matches(self, kinds: list[str] | None) -> None:
        """List ``kinds``, in this order, under Matches (None: back to the categories)."""
        self.matches.takeChildren()
        for kind in kinds or ():
            _entry(self.matches, kind, self.icons)
        self.matches.setHidden(kinds is None)
        self.matches.setText(0, MATCHES if kinds else "No layer matches")
        for g in range(1, self.topLevelItemCount()):
            group = self.topLevelItem(g)
            group.setHidden(kinds is not None)
            for k in range(group.childCount()):
                group.child(k).setHidden(kinds is not None)
        self.matches.setExpanded(True)
        if kinds:
            self.setCurrentItem(self.matches.child(0))
            self.scrollToTop()

    def startDrag(self, actions) -> None:
        item = self.currentItem()
        kind = item.data(0, KIND_ROLE) if item else None
        if kind:
            drag = QDrag(self)
            drag.setMimeData(layer_mime(kind))
            drag.setPixmap(self.icons[CATALOG[kind].category].pixmap(ICON_SIZE, ICON_SIZE))
            drag.exec(Qt.DropAction.CopyAction)


class PaletteDock(QDockWidget):
    """``add_requested(kind)`` fires on double-click and on Enter in the search box (the window adds it as
    Tab's quick-add does: after the selected layer, else in the middle of the view)."""

    add_requested = Signal(str)

    def __init__(self) -> None:
        super().__init__("Layers")
        self.setObjectName("PaletteDock")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search layers (Dense, conv, bn…)")
        self.search.setClearButtonEnabled(True)
        self.tree = LayerTree()
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.setWidget(body)
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._add_first)
        self.tree.itemDoubleClicked.connect(self._double_clicked)

    def filter(self, text: str) -> None:
        """List the kinds matching ``text``, best first; all kinds by category when it is empty."""
        self.tree.show_matches(search_kinds(text) if text.strip() else None)

    def shown_kinds(self) -> list[str]:
        """The layer kinds listed now, top to bottom."""
        found = []
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            if not group.isHidden():
                found += [group.child(k).data(0, KIND_ROLE) for k in range(group.childCount())
                          if not group.child(k).isHidden()]
        return found

    def _add_first(self) -> None:
        kinds = self.shown_kinds() if self.search.text().strip() else []
        if kinds:
            self.add_requested.emit(kinds[0])

    def _double_clicked(self, item: QTreeWidgetItem) -> None:
        kind = item.data(0, KIND_ROLE)
        if kind:
            self.add_requested.emit(kind)
