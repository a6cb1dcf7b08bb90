"""What an empty canvas says: how to start (a new project's canvas was a blank grid and two red errors)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel

if TYPE_CHECKING:
    from ui.canvas.scene import CanvasScene
    from ui.canvas.view import CanvasView

HINT = ("<p style='font-size:large'><b>An empty network</b></p>"
        "<p>Drag a layer from the <b>Layers</b> palette onto the canvas, or point at the canvas and press "
        "<b>Tab</b> to search for one. Start with an <b>Input</b>: each new layer is wired from the one "
        "selected.</p><p>Or open a built-in example: <b>File ▸ Open Recent ▸ Examples</b>.</p>")
WIDTH_EM = 28  # the hint's width in application-font heights, at most (it wraps)


class EmptyCanvasHint(QLabel):
    """Shown in the middle of ``view`` while its graph has no layers; clicks and drops go through to the canvas."""

    def __init__(self, view: CanvasView) -> None:
        super().__init__(HINT, view.viewport())
        self.view = view
        self._scene: CanvasScene | None = None
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        view.scene_replaced.connect(self._follow)
        self._follow(view.scene())

    def _follow(self, scene: CanvasScene | None) -> None:
        if self._scene is not None:
            try:
                self._scene.changed.disconnect(self.sync)
            except (RuntimeError, TypeError):  # the old scene is already gone
                pass
        self._scene = scene
        if scene is not None:
            scene.changed.connect(self.sync)
        self.sync()

    def sync(self, *_regions: object) -> None:
        """Show while the graph is empty, centred in the viewport."""
        empty = self._scene is not None and not self._scene.node_items
        if empty:
            self.place()
        self.setVisible(empty)

    def place(self) -> None:
        area = self.view.viewport().rect()
        width = min(area.width() - 40, round(WIDTH_EM * self.fontMetrics().height()))
        height = self.heightForWidth(width)
        self.setGeometry(area.center().x() - width // 2, area.center().y() - height // 2, width, height)
