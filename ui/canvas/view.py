"""The canvas view: zoom around the cursor, pan, frame; and the drag payload the palette sends."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QRectF, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsView

from ui.canvas.items import DETAIL_ZOOM
from ui.canvas.scene import LAYER_MIME, CanvasScene


def layer_mime(kind: str) -> QMimeData:
    data = QMimeData()
    data.setData(LAYER_MIME, kind.encode())
    data.setText(kind)
    return data


class CanvasView(QGraphicsView):
    """Zoom around the cursor (wheel, Ctrl +/-), pan with the middle button or space + drag,
    F frames the selection (everything when nothing is selected)."""

    def __init__(self, scene: CanvasScene) -> None:
        super().__init__(scene)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setAcceptDrops(True)
        self._pan_from = None
        self._space_held = False
        self._follow(scene)

    # ---- the view moves only when the user moves it -----------------------------------------
    # Left to itself, the view's scene rect is the items' bounding box, and a box smaller than the
    # viewport is centred in it: each node added or moved then shifts everything on screen (a
    # layer dropped on an empty canvas jumped to the middle). The view keeps its own rect instead:
    # the items plus what is on screen, with a screenful of room around it to pan into.
    def setScene(self, scene: CanvasScene) -> None:
        super().setScene(scene)
        self._follow(scene)

    def _follow(self, scene: CanvasScene) -> None:
        scene.sceneRectChanged.connect(self._scene_grew)
        self.cover()

    def _scene_grew(self, _items: QRectF) -> None:
        self.cover()  # the items may reach past the room the view kept

    def cover(self, *also: QRectF) -> None:
        """Make the scroll area hold the items, what is on screen now, and ``also``, without moving the view."""
        scene = self.scene()
        if scene is None:
            return
        visible = self.mapToScene(self.viewport().rect()).boundingRect()
        rect = scene.sceneRect().united(visible)
        for extra in also:
            rect = rect.united(extra)
        room = max(visible.width(), visible.height(), *(r.width() for r in also), *(r.height() for r in also))
        self.setSceneRect(rect.adjusted(-room, -room, room, room))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.cover()

    def paintEvent(self, event) -> None:
        scene = self.scene()
        if isinstance(scene, CanvasScene):  # every zoom path (wheel, keys, fit, reset) ends in a paint
            scene.set_detailed(self.transform().m11() >= DETAIL_ZOOM)
        super().paintEvent(event)

    def wheelEvent(self, event) -> None:
        self.zoom(1.15 if event.angleDelta().y() > 0 else 1 / 1.15)

    def zoom(self, factor: float) -> None:
        scale = self.transform().m11() * factor
        if 0.02 <= scale <= 4:  # far enough out to see 1,000 nodes at once
            self.scale(factor, factor)
            self.cover()

    def reset_zoom(self) -> None:
        """Back to 100 %, keeping the centre of the view where it is."""
        centre = self.mapToScene(self.viewport().rect().center())
        self.resetTransform()
        self.cover()
        self.centerOn(centre)

    def frame_selection(self) -> None:
        """Fit the selected items in the view; everything when nothing is selected."""
        selected = self.scene().selectedItems()
        if not selected:
            self.frame_all()
            return
        rect = QRectF()
        for item in selected:
            rect = rect.united(item.sceneBoundingRect())
        self._frame(rect)

    def frame_all(self) -> None:
        self._frame(self.scene().itemsBoundingRect())

    def _frame(self, rect: QRectF) -> None:
        rect = rect.adjusted(-40, -40, 40, 40)
        if not rect.isEmpty():
            self.cover(rect)  # room to centre on it at the new zoom
            self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
            if self.transform().m11() > 1.25:
                self.resetTransform()
            self.cover()
            self.centerOn(rect.center())

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        else:  # F, Ctrl +/- and the rest are the window's View actions, added to this view
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            if self._pan_from is None:
                self.viewport().unsetCursor()
        else:
            super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:
        self._space_held = False  # a space released elsewhere must not leave the view panning
        super().focusOutEvent(event)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton or (
                event.button() == Qt.MouseButton.LeftButton and self._space_held):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(int(self.horizontalScrollBar().value() - delta.x()))
            self.verticalScrollBar().setValue(int(self.verticalScrollBar().value() - delta.y()))
            self.cover()  # room to pan on past the edge
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            if self._space_held:
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            else:
                self.viewport().unsetCursor()
            return
        super().mouseReleaseEvent(event)
