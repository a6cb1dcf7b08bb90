"""Small widgets the training docks share: a scroll area that keeps a dock's body at the dock's size, and a
pyqtgraph plot in the widget palette's colours."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


class FittingScroll(QScrollArea):
    """Holds a dock's body at the dock's own size, scrolling only when the dock is smaller than the body's
    minimum (a narrow window), so a chart or a matrix always fills the dock it is in."""

    def __init__(self, body: QWidget) -> None:
        super().__init__()
        # Sized here, not by QScrollArea: its own resizing asks word-wrapped labels for the height they
        # want at this width (heightForWidth) and makes the body taller than the dock.
        self.setWidgetResizable(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidget(body)

    def _fit(self) -> None:
        body, view = self.widget(), self.viewport()
        least = body.minimumSizeHint()
        body.resize(max(least.width(), view.width()), max(least.height(), view.height()))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._fit()


def themed_plot() -> pg.PlotWidget:
    """A plot in the widget palette's colours (pyqtgraph's own default is black), following theme switches."""
    plot = ThemedPlot()
    plot.apply_palette()
    return plot


class ThemedPlot(pg.PlotWidget):
    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and getattr(self, "plotItem", None) is not None:
            self.apply_palette()

    def apply_palette(self) -> None:
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.Text)
        self.setBackground(pal.color(QPalette.ColorRole.Base))
        for name in ("left", "bottom"):
            axis = self.getAxis(name)
            axis.setPen(text)
            axis.setTextPen(text)
