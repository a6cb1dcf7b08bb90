"""The minimap: an overview of the whole graph in the canvas's corner, with the part on screen outlined.

It shows while the graph reaches past the view, and hides when all of it is on screen; a view too small
for it hides it too. It never hides a layer: where one is under its corner (a dense graph, a short canvas)
it is drawn see-through, the layer visible beneath, and whole again while the pointer is on it (it hid
there before, so on a dense graph it was almost never there, and gone after the first click). A click
or a drag on it centres the view there. It draws the boxes the canvas's own overview keeps
(:meth:`ui.canvas.overview.OverviewItem.boxes`), one call per colour, so a 1,000-node graph costs little.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QPainter, QPalette, QPen, QPixmap, QTransform
from PySide6.QtWidgets import QWidget

from ui import theme
from ui.canvas.items import NodeItem, app_font_pixels

if TYPE_CHECKING:
    from ui.canvas.scene import CanvasScene
    from ui.canvas.view import CanvasView

SIZE_EM = (15, 10)  # width and height in application-font heights
MIN_HEIGHT_EM = 4  # a long, flat graph gets a flatter map, down to this
CORNER = 12  # pixels from the view's bottom-right corner
PAD = 6  # pixels inside its frame
MOST_OF_VIEW = 0.4  # a view where it would take more of the width or the height than this shows no minimap
SEE_THROUGH = 0.3  # its opacity over a layer, while the pointer is not on it


class Minimap(QWidget):
    """An overview over ``view``'s bottom-right corner; see the module's docstring."""

    def __init__(self, view: CanvasView) -> None:
        super().__init__(view)
        self.view = view
        self._scene: CanvasScene | None = None
        self._to_map = QTransform()
        self._cached: tuple[tuple, QPixmap] | None = None
        self._shown: tuple | None = None  # what the last repaint showed: the view's rect and the graph's
        self._checked: tuple[tuple, bool] | None = None  # (what the view showed, whether a layer was under the map)
        self.see_through = False  # a layer is under it: drawn faint, unless the pointer is on it
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("The whole graph: click or drag to move the view there")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)
        self.hide()
        view.scene_replaced.connect(self._follow)
        self._follow(view.scene())
        self.place()

    def _follow(self, scene: CanvasScene | None) -> None:
        if self._scene is not None:
            try:
                self._scene.changed.disconnect(self._scene_changed)
            except (RuntimeError, TypeError):  # the old scene is already gone
                pass
        self._scene = scene
        if scene is not None:
            scene.changed.connect(self._scene_changed)

    def _scene_changed(self, _regions: object) -> None:
        self.sync()

    def place(self) -> None:
        """Size from the application font (no taller than a long graph needs), in the viewport's bottom-right
        corner."""
        em = app_font_pixels(self.screen())
        width, height = round(SIZE_EM[0] * em), round(SIZE_EM[1] * em)
        graph = self.graph_rect()
        if not graph.isEmpty():
            flat = round(width * graph.height() / graph.width()) + 2 * PAD
            height = max(round(MIN_HEIGHT_EM * em), min(height, flat))
        area = self.view.viewport().geometry()
        wanted = area.right() - width - CORNER, area.bottom() - height - CORNER, width, height
        if self.geometry().getRect() != wanted:
            self.setGeometry(*wanted)

    def graph_rect(self) -> QRectF:
        """The nodes' bounds in scene coordinates (empty without nodes)."""
        scene = self.view.scene()
        return scene.overview.boxes()[1] if scene is not None else QRectF()

    def visible_rect(self) -> QRectF:
        """The part of the scene on screen."""
        return self.view.mapToScene(self.view.viewport().rect()).boundingRect()

    def sync(self) -> None:
        """Show while the graph reaches past the view, where there is room, faint over a layer; repaint when
        what it shows moved.

        Called from every paint of the canvas: the map lies over it with see-through corners, so its own
        repaint repaints the canvas under it, and an unconditional one here would never let the canvas rest
        (a window left alone took a whole core).
        """
        graph = self.graph_rect()
        visible = self.visible_rect()
        wanted = not graph.isEmpty() and not visible.contains(graph)
        if wanted:
            self.place()
            wanted = self.has_room()
        faint = wanted and self.covers_a_layer()
        if faint != self.see_through:
            self.see_through = faint
            self._shown = None
        if wanted != self.isVisible():
            self.setVisible(wanted)
            self._shown = None
            if wanted:
                self.raise_()
        scene = self.view.scene()
        state = (visible.getRect(), graph.getRect(), scene.overview.version if scene is not None else None)
        if wanted and state != self._shown:
            self._shown = state
            self.update()

    def has_room(self) -> bool:
        """Whether the view is large enough for the map to leave most of it to the canvas."""
        area = self.view.viewport().size()
        return self.width() <= MOST_OF_VIEW * area.width() and self.height() <= MOST_OF_VIEW * area.height()

    def viewport_rect(self) -> QRect:
        """Where the map lies, in the viewport's coordinates (it is the view's child, over the viewport)."""
        return self.geometry().translated(-self.view.viewport().pos())

    def covers_a_layer(self) -> bool:
        """Whether a layer's box is under the map (where it is placed, shown or not).

        Asked of the scene's index for the map's rectangle only, and again only when the view, the map or a
        node moved: panning a 10,000-node graph pays for the few items under the corner, not a loop over all.
        """
        scene = self.view.scene()
        if scene is None:
            return False
        under = self.view.mapToScene(self.viewport_rect()).boundingRect()
        key = (under.getRect(), id(scene), scene.overview.version)
        if self._checked is None or self._checked[0] != key:
            items = scene.items(under, Qt.ItemSelectionMode.IntersectsItemBoundingRect)
            self._checked = (key, any(isinstance(item, NodeItem) for item in items))
        return self._checked[1]

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # a theme switch: the outline's colour
            self._shown = None
            self.update()

    def _world(self) -> QRectF:
        graph = self.graph_rect()
        pad = max(graph.width(), graph.height()) * 0.03
        return graph.adjusted(-pad, -pad, pad, pad)

    def _mapping(self) -> QTransform:
        world = self._world()
        inner = QRectF(self.rect()).adjusted(PAD, PAD, -PAD, -PAD)
        if world.isEmpty() or inner.isEmpty():
            return QTransform()
        scale = min(inner.width() / world.width(), inner.height() / world.height())
        dx = inner.left() + (inner.width() - world.width() * scale) / 2 - world.left() * scale
        dy = inner.top() + (inner.height() - world.height() * scale) / 2 - world.top() * scale
        return QTransform(scale, 0, 0, scale, dx, dy)

    def _picture(self, scene: CanvasScene) -> QPixmap:
        """The map without the view's outline, drawn again only when a node or the theme changed.

        The minimap lies over the canvas, so every repaint of the canvas under it repaints it too:
        drawing 1,000 boxes each time cost as much as the canvas's own repaint at 100 %.
        """
        colours = theme.canvas_colours()
        ratio = self.devicePixelRatioF()
        boxes, _bounds = scene.overview.boxes()  # rebuilt first if a node changed: then its version moved on
        key = (id(scene), scene.overview.version, self.size().toTuple(), ratio, colours.background.rgba())
        if self._cached is not None and self._cached[0] == key:
            return self._cached[1]
        pixmap = QPixmap(self.size() * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colours.node_border, 1))
        painter.setBrush(colours.background)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
        painter.setTransform(self._mapping())
        for colour, rects in boxes:
            edge = QPen(colour, 2)
            edge.setCosmetic(True)  # a node of a long graph stays a visible dot, however small the map's scale
            painter.setPen(edge)
            painter.setBrush(colour)
            painter.drawRects(rects)
        painter.end()
        self._cached = (key, pixmap)
        return pixmap

    def paintEvent(self, event) -> None:
        scene = self.view.scene()
        if scene is None:
            return
        painter = QPainter(self)
        if self.faint():
            painter.setOpacity(SEE_THROUGH)
        painter.drawPixmap(0, 0, self._picture(scene))
        mapping = self._mapping()
        self._to_map = mapping
        painter.setTransform(mapping)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        outline = QPen(self.palette().color(QPalette.ColorRole.Highlight), 2)
        outline.setCosmetic(True)  # two pixels at any scale
        painter.setPen(outline)
        painter.drawRect(self.visible_rect().intersected(self._world()))
        painter.end()

    def faint(self) -> bool:
        """Whether it is drawn see-through now: over a layer, the pointer elsewhere."""
        return self.see_through and not self.underMouse()

    def enterEvent(self, event) -> None:
        super().enterEvent(event)
        self.update()  # whole while the pointer is on it

    def leaveEvent(self, event) -> None:
        super().leaveEvent(event)
        self.update()

    def scene_point(self, pos: QPointF) -> QPointF:
        """The scene point under ``pos`` (minimap coordinates)."""
        inverted, ok = self._mapping().inverted()
        return inverted.map(pos) if ok else QPointF()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._jump(event.position())
            event.accept()

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._jump(event.position())
            event.accept()

    def _jump(self, pos: QPointF) -> None:
        self.view.centerOn(self.scene_point(pos))
        self.view.cover()
        self.sync()
