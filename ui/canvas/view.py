"""The canvas view: zoom around the cursor, pan, frame; the zoom shown in the status bar; and the drag
payload the palette sends.

Zoom is told relative to :func:`ui.canvas.items.readable_scale`: at 100 % canvas text is as large as
the application font. A graph's first frame zooms out to fit it, down to FIRST_FRAME_LEAST (80 %, and
never canvas text under LEAST_TEXT_PX on screen); a graph that does not fit even there shows its start at
that zoom, and the minimap (ui/canvas/minimap.py) the rest. After Arrange, which lays the graph out for the
view's shape, all of it shows even where that takes a zoom under the readable one (down to DETAIL_ZOOM, where
the nodes are still drawn in full): the user asked to see the new layout.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QTransform
from PySide6.QtWidgets import QGraphicsView, QToolButton, QWidget

from ui.canvas.empty_hint import EmptyCanvasHint
from ui.canvas.items import DETAIL_ZOOM, TEXT_PX, readable_scale
from ui.canvas.minimap import Minimap
from ui.canvas.scene import LAYER_MIME, CanvasScene
from ui.canvas.wire_labels import wire_labels_of

FRAME_MARGIN = 40.0  # scene units kept around what is framed, where there is room for them
FIRST_MARGIN = 20.0  # the same around a graph's first frame: the least that keeps it off the edges
FIRST_FRAME_LEAST = 0.8  # a first frame zooms out this far (of 100 %) to show the whole graph...
LEAST_TEXT_PX = 10.0  # ...but never so far that canvas text is shorter than this on screen
START_MARGIN = 20.0  # screen pixels between the view's edge and a graph's start shown at 100 %
MOST_FOR_ALL = 1.25  # Frame All magnifies a small graph at most this much (relative to 100 %)
MOST_FOR_SELECTION = 2.0  # Frame Selection may zoom in further on a few nodes


def layer_mime(kind: str) -> QMimeData:
    data = QMimeData()
    data.setData(LAYER_MIME, kind.encode())
    data.setText(kind)
    return data


class CanvasView(QGraphicsView):
    """Zoom around the cursor (wheel, Ctrl +/-), pan with the middle button or space + drag,
    F frames the selection (everything when nothing is selected).

    ``zoom_changed`` carries the zoom in percent (100: text at the application font's size);
    ``scene_replaced`` the new scene after :meth:`setScene`.
    """

    zoom_changed = Signal(float)
    scene_replaced = Signal(object)

    def __init__(self, scene: CanvasScene) -> None:
        super().__init__(scene)
        self._shown_zoom = 0.0
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setAcceptDrops(True)
        self._pan_from = None
        self._space_held = False
        self.minimap = Minimap(self)  # before the first scroll
        self.empty_hint = EmptyCanvasHint(self)
        self._follow(scene)

    # ---- the view moves only when the user moves it -----------------------------------------
    # Left to itself, the view's scene rect is the items' bounding box, and a box smaller than the
    # viewport is centred in it: each node added or moved then shifts everything on screen (a
    # layer dropped on an empty canvas jumped to the middle). The view keeps its own rect instead:
    # the items plus what is on screen, with a screenful of room around it to pan into.
    def setScene(self, scene: CanvasScene) -> None:
        super().setScene(scene)
        self._follow(scene)
        self.scene_replaced.emit(scene)

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
        self.minimap.place()
        self.empty_hint.sync()

    def paintEvent(self, event) -> None:
        scene = self.scene()
        if isinstance(scene, CanvasScene):  # every zoom path (wheel, keys, fit, reset) ends in a paint
            scene.set_detailed(self.transform().m11() >= DETAIL_ZOOM)
            if scene.detailed:  # the labels of the wires on screen (and a margin), placed before they are drawn
                seen = self.mapToScene(self.viewport().rect()).boundingRect()
                margin = max(seen.width(), seen.height()) / 2
                scene.make_ports(seen)
                wire_labels_of(scene).flush(True, seen.adjusted(-margin, -margin, margin, margin))
            else:
                wire_labels_of(scene).flush(False)
                scene.overview.catch_up()  # its bounds, told to Qt before the paint asks for them
        self._note_zoom()
        self.minimap.sync()
        super().paintEvent(event)

    # ---- zoom ------------------------------------------------------------------------------------
    def readable_zoom(self) -> float:
        """The scale of 100 %: canvas text as large as the application font on this view's screen."""
        return readable_scale(self.screen())

    def zoom_percent(self) -> float:
        """The zoom in percent of :meth:`readable_zoom`."""
        return 100.0 * self.transform().m11() / self.readable_zoom()

    def _note_zoom(self) -> None:
        scale = self.transform().m11()
        if scale != self._shown_zoom:
            self._shown_zoom = scale
            self.zoom_changed.emit(self.zoom_percent())

    def wheelEvent(self, event) -> None:
        self.zoom(1.15 if event.angleDelta().y() > 0 else 1 / 1.15)

    def zoom(self, factor: float) -> None:
        scale = self.transform().m11() * factor
        readable = self.readable_zoom()
        if 0.02 * readable <= scale <= 4 * readable:  # far enough out to see 1,000 nodes at once
            self.scale(factor, factor)
            self.cover()
            self._note_zoom()

    def reset_zoom(self) -> None:
        """Back to 100 %, keeping the centre of the view where it is."""
        centre = self.mapToScene(self.viewport().rect().center())
        readable = self.readable_zoom()
        self.setTransform(QTransform.fromScale(readable, readable))
        self.cover()
        self.centerOn(centre)
        self._note_zoom()

    def frame_selection(self) -> None:
        """Fit the selected items in the view (a few nodes are magnified at most MOST_FOR_SELECTION); everything
        when nothing is selected."""
        selected = self.scene().selectedItems()
        if not selected:
            self.frame_all()
            return
        rect = QRectF()
        for item in selected:
            rect = rect.united(item.sceneBoundingRect())
        self._fit(rect, MOST_FOR_SELECTION)

    def frame_all(self) -> None:
        """Frame All: the whole graph on screen, zoomed out as far as that takes (a small graph is magnified at
        most MOST_FOR_ALL); the zoom label says how far."""
        self._fit(self.scene().content_rect(), MOST_FOR_ALL)

    def frame_readable(self) -> None:
        """A graph's first frame: all of it at a zoom where its text reads (down to FIRST_FRAME_LEAST); one too
        large for that shows its start at that least zoom (the minimap shows the rest, Frame All all of it)."""
        self._frame(self.scene().content_rect(), MOST_FOR_ALL)

    def frame_arranged(self) -> None:
        """The frame after Arrange: as :meth:`frame_readable`, but a graph that does not fit where its text reads
        (a short canvas under a tall dock) is fitted whole, down to DETAIL_ZOOM; only one too large even for that
        shows its start at the least readable zoom."""
        self._frame(self.scene().content_rect(), MOST_FOR_ALL, DETAIL_ZOOM)

    def least_readable_scale(self) -> float:
        """The smallest scale a first frame zooms out to: FIRST_FRAME_LEAST of 100 %, text LEAST_TEXT_PX high."""
        return max(FIRST_FRAME_LEAST * self.readable_zoom(), LEAST_TEXT_PX / TEXT_PX)

    def fit_scale(self, width: float, height: float) -> float:
        """The scale at which a graph of ``width`` by ``height`` scene units fits the view (with a first frame's
        margin); :meth:`frame_readable` shows it all where this is at least :meth:`least_readable_scale`."""
        return min(self.viewport().width() / (width + 2 * FIRST_MARGIN),
                   self.viewport().height() / (height + 2 * FIRST_MARGIN))

    def fit_everything(self) -> None:
        """Fit the whole graph however small its text gets (what zooming out by hand reaches)."""
        self._fit(self.scene().content_rect(), None)

    def _fit(self, rect: QRectF, most: float | None) -> None:
        rect = rect.adjusted(-FRAME_MARGIN, -FRAME_MARGIN, FRAME_MARGIN, FRAME_MARGIN)
        if rect.isEmpty():
            return
        self.cover(rect)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if most is not None and self.transform().m11() > most * self.readable_zoom():
            scale = most * self.readable_zoom()
            self.setTransform(QTransform.fromScale(scale, scale))
        self.cover()
        self.centerOn(rect.center())
        self._note_zoom()

    def _frame(self, rect: QRectF, most: float, fit_down_to: float | None = None) -> None:
        if rect.isEmpty():
            return
        readable = self.readable_zoom()
        least = self.least_readable_scale()  # text this small still reads
        width, height = self.viewport().width(), self.viewport().height()
        with_margin = rect.adjusted(-FIRST_MARGIN, -FIRST_MARGIN, FIRST_MARGIN, FIRST_MARGIN)
        fit = self.fit_scale(rect.width(), rect.height())
        # Fitted where the text still reads; a graph too large for that shows its start at the least zoom where
        # text reads (at 100 % an import four layers wide that needed 76 % showed less of itself than it could).
        # After Arrange, fitted whole down to ``fit_down_to``.
        fits_down_to = least if fit_down_to is None else min(least, fit_down_to)
        scale = min(fit, most * readable) if fit >= fits_down_to else least
        self.cover(with_margin)  # room to centre on it at the new zoom
        self.setTransform(QTransform.fromScale(scale, scale))
        self.cover()
        # Along an axis where the graph fits it is centred; along one where it does not, its start shows.
        margin = START_MARGIN / scale
        x = rect.center().x() if rect.width() * scale <= width - 2 * START_MARGIN else \
            rect.left() - margin + width / scale / 2
        y = rect.center().y() if rect.height() * scale <= height - 2 * START_MARGIN else \
            rect.top() - margin + height / scale / 2
        self.centerOn(QPointF(x, y))
        self._note_zoom()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        self.minimap.sync()
        if self.empty_hint.isVisible():
            self.empty_hint.place()  # the viewport's scroll moved it with the canvas

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


class ZoomLabel(QToolButton):
    """The status bar's zoom percentage; a click sets 100 %."""

    def __init__(self, view: CanvasView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAutoRaise(True)
        self.setToolTip("Zoom (100 %: text at the system font's size). Click for 100 %.")
        self.clicked.connect(view.reset_zoom)
        view.zoom_changed.connect(self.show_zoom)
        self.show_zoom(view.zoom_percent())

    def show_zoom(self, percent: float) -> None:
        self.setText(f"{round(percent)} %")
