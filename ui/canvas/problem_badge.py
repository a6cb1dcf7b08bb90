"""A "Fix" badge over a layer whose problem has a quick fix: one click applies it.

:class:`ProblemBadges` follows the document: after every edit it asks which layers' problems
offer fixes and puts a :class:`FixBadge` above each one's top-right corner (a child of the
layer's item, so it moves and goes with it). A click on the badge applies the fix as one undo
step, or, where there are several, opens a menu of them at the badge.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsObject, QMenu
from shiboken6 import Shiboken

from netbuilder.analysis.quick_fixes import QuickFix
from ui.canvas.items import NODE_WIDTH, NodeItem
from ui.canvas.scene import CanvasScene
from ui.quick_fixes import all_fixes, fix_text

BADGE_FILL = QColor("#1565c0")  # a link's blue: white text on it is 5.8:1 (WCAG AA), apart from red and the selection
BADGE_Z = 3.0  # over wires and the wire being drawn


class FixBadge(QGraphicsObject):
    """The badge of one layer; ``fixes`` are what a click offers."""

    def __init__(self, node_item: NodeItem, apply: Callable[[QuickFix], object]) -> None:
        # Everything paint and boundingRect read is set before the badge joins the scene, which asks for them.
        # The layer's item is not kept in an attribute (parentItem() gives it): a reference from the child
        # to its parent let the parent die inside the child's own deallocation, which then deleted the
        # child a second time (a crash on undoing the add of a layer with a badge).
        self.fixes: list[QuickFix] = []
        self._apply = apply
        self.menu: QMenu | None = None
        self._text = "Fix"
        self._size = (0.0, 0.0)
        super().__init__(node_item)  # the layer's item owns it: Qt deletes the badge with the layer
        self.setZValue(BADGE_Z)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresParentOpacity)

    def _font(self) -> QFont:
        font = QFont(QApplication.font())
        font.setBold(True)
        return font

    def set_fixes(self, fixes: list[QuickFix]) -> None:
        self.fixes = list(fixes)
        text = "Fix" if len(fixes) == 1 else f"{len(fixes)} fixes ▾"
        metrics = QFontMetricsF(self._font())
        size = (metrics.horizontalAdvance(text) + 14, metrics.height() + 4)
        if (text, size) != (self._text, self._size):
            self.prepareGeometryChange()
            self._text, self._size = text, size
        self.setPos(NODE_WIDTH - size[0], -size[1] - 4)  # above the top-right corner, clear of the title
        tips = "\n".join(f"• {f.label}" for f in fixes)
        self.setToolTip(f"Quick fix (click): {fixes[0].label}" if len(fixes) == 1 else f"Quick fixes (click):\n{tips}")
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, *self._size)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        scene = self.scene()
        if isinstance(scene, CanvasScene) and not scene.detailed:
            return  # zoomed out to the overview: no text anywhere
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.boundingRect()
        painter.setPen(QPen(QColor("#ffffff"), 1.2))
        painter.setBrush(BADGE_FILL)
        painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), rect.height() / 2, rect.height() / 2)
        painter.setFont(self._font())
        painter.setPen(QColor("#ffffff"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self._text)

    def mousePressEvent(self, event) -> None:
        event.accept()  # the layer under it is neither selected nor dragged

    def mouseReleaseEvent(self, event) -> None:
        if self.boundingRect().contains(event.pos()):
            self.click(event.screenPos())

    def click(self, screen_pos: QPoint | None = None) -> None:
        """What a click does: apply the one fix, or offer the several in a menu at the badge."""
        if len(self.fixes) == 1:
            self._apply(self.fixes[0])
            return
        self.menu = QMenu()
        for fix in self.fixes:
            self.menu.addAction(fix_text(fix), lambda f=fix: self._apply(f))
        view = self.scene().views()[0] if self.scene() and self.scene().views() else None
        if screen_pos is None and view is not None:
            screen_pos = view.viewport().mapToGlobal(view.mapFromScene(self.sceneBoundingRect().bottomLeft()))
        self.menu.exec(screen_pos or QPoint())
        self.menu.deleteLater()
        self.menu = None


class ProblemBadges(QObject):
    """Keeps a :class:`FixBadge` on each layer of ``scene`` whose problems have fixes; ``apply`` applies one."""

    def __init__(self, scene: CanvasScene, apply: Callable[[QuickFix], object]) -> None:
        super().__init__(scene)
        self.scene = scene
        self._apply = apply
        self.badges: dict[str, FixBadge] = {}
        scene.document.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        by_node: dict[str, list[QuickFix]] = {}
        for problem, fixes in all_fixes(self.scene.document):
            if problem.node is not None and fixes:
                by_node.setdefault(problem.node, []).extend(fixes)
        for node_id in list(self.badges):
            if node_id not in by_node or node_id not in self.scene.node_items:
                badge = self.badges.pop(node_id)
                if Shiboken.isValid(badge) and badge.scene() is not None:  # gone with its layer otherwise
                    badge.scene().removeItem(badge)
        for node_id, fixes in by_node.items():
            item = self.scene.node_items.get(node_id)
            if item is None:
                continue
            badge = self.badges.get(node_id)
            if badge is None or not Shiboken.isValid(badge) or badge.parentItem() is not item:
                badge = self.badges[node_id] = FixBadge(item, self._apply)
            badge.set_fixes(fixes)


__all__ = ["FixBadge", "ProblemBadges"]
