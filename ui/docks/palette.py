"""The palette: layers by category with a search box; drag one onto the canvas or double-click it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QDockWidget, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from netbuilder.layers import CATALOG, CATEGORIES
from ui.canvas.view import layer_mime


class LayerTree(QTreeWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        for category in CATEGORIES:
            group = QTreeWidgetItem(self, [category])
            group.setFlags(group.flags() & ~Qt.ItemFlag.ItemIsDragEnabled)
            for spec in CATALOG.values():
                if spec.category == category:
                    item = QTreeWidgetItem(group, [spec.kind])
                    item.setToolTip(0, spec.doc)
                    item.setData(0, Qt.ItemDataRole.UserRole, spec.kind)
        self.expandAll()

    def startDrag(self, actions) -> None:
        item = self.currentItem()
        kind = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        if kind:
            drag = QDrag(self)
            drag.setMimeData(layer_mime(kind))
            drag.exec(Qt.DropAction.CopyAction)


class PaletteDock(QDockWidget):
    """``add_requested(kind)`` fires on double-click (the window adds it at the view's centre)."""

    add_requested = Signal(str)

    def __init__(self) -> None:
        super().__init__("Layers")
        self.setObjectName("PaletteDock")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search layers")
        self.search.setClearButtonEnabled(True)
        self.tree = LayerTree()
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.setWidget(body)
        self.search.textChanged.connect(self.filter)
        self.tree.itemDoubleClicked.connect(self._double_clicked)

    def filter(self, text: str) -> None:
        text = text.strip().lower()
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            visible = 0
            for k in range(group.childCount()):
                child = group.child(k)
                kind = child.data(0, Qt.ItemDataRole.UserRole)
                hit = not text or text in kind.lower() or text in CATALOG[kind].doc.lower()
                child.setHidden(not hit)
                visible += hit
            group.setHidden(visible == 0)

    def _double_clicked(self, item: QTreeWidgetItem) -> None:
        kind = item.data(0, Qt.ItemDataRole.UserRole)
        if kind:
            self.add_requested.emit(kind)
