"""A pyqtgraph plot in the widget palette's colours, for the training docks."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtGui import QPalette


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
