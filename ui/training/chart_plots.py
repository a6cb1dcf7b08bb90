"""The training chart's two plots: the loss above, the metric below with the learning rate on its own
right-hand axis, x-linked, their axes lined up and coloured from the widget's palette.

The plots know nothing of runs: :class:`ui.training.chart.TrainingChart` adds each run's curves to the
view :meth:`ChartPlots.target` names and gives each view its auto-range (``hint``).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette

from ui.training.chart_items import TimedPlots
from ui.training.chart_ranges import FollowingViewBox


class ChartPlots(TimedPlots):
    """The loss plot, the metric plot under it and the learning rate's view over the metric plot.

    Parameters
    ----------
    x_label
        The x axis' label (under the lower plot).
    """

    def __init__(self, x_label: str) -> None:
        super().__init__()
        self.setMinimumSize(320, 200)
        # The chart's own auto-range (ui/training/chart_ranges.py): from the extremes it keeps, in round
        # numbers that hold still, so a report repaints once and the axes rarely.
        self.loss_plot: pg.PlotItem = self.addPlot(row=0, col=0, viewBox=FollowingViewBox())
        self.metric_plot: pg.PlotItem = self.addPlot(row=1, col=0, viewBox=FollowingViewBox())
        self.ci.layout.setRowStretchFactor(0, 3)
        self.ci.layout.setRowStretchFactor(1, 2)
        self.metric_plot.setXLink(self.loss_plot)
        self.metric_plot.enableAutoRange(x=False)  # the loss plot, holding every point, leads the x range
        self.loss_plot.setLabel("left", "loss")
        self.metric_plot.setLabel("left", "metric")
        self.metric_plot.setLabel("bottom", x_label)
        # The x axis once, under the lower plot (they are x-linked): one axis fewer to lay out and paint a frame.
        self.loss_plot.hideAxis("bottom")
        for plot in (self.loss_plot, self.metric_plot):
            # No grid: its lines made the axes repaint the whole plot on every redraw (+9 ms of 25 at 4 x 1e6).
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            plot.getAxis("left").setWidth(56)  # both plots' left axes line up, whatever their labels
            # Plain numbers on the axes: pyqtgraph's SI scaling read "accuracy (x0.001)" over ticks of 500.
            plot.getAxis("left").enableAutoSIPrefix(False)
            # No pyqtgraph right-click menu: its entries (axis ranges, plot options, its own export) are in
            # no main menu, and the chart's controls above (log y, auto y, PNG, CSV) already do what it needs.
            plot.setMenuEnabled(False)
        self.legend = self.loss_plot.addLegend(offset=(-8, 8), labelTextSize="9pt")
        # The learning rate on its own axis: a second ViewBox over the metric plot (pyqtgraph's
        # MultiplePlotAxes example), x-linked to it.
        self.lr_view = FollowingViewBox()
        self.lr_view.setMenuEnabled(False)
        self.metric_plot.showAxis("right")
        self.metric_plot.scene().addItem(self.lr_view)
        self.metric_plot.getAxis("right").linkToView(self.lr_view)
        self.metric_plot.getAxis("right").setLabel("learning rate")
        self.metric_plot.getAxis("right").enableAutoSIPrefix(False)
        self.lr_view.setXLink(self.metric_plot)
        self.lr_view.enableAutoRange(x=False)
        self.metric_plot.vb.sigResized.connect(self._sync_lr_view)
        # The loss plot keeps an empty right axis as wide as the learning rate's, so both x axes line up.
        self.loss_plot.showAxis("right")
        self.loss_plot.getAxis("right").setStyle(showValues=False, tickLength=0)
        for plot in (self.loss_plot, self.metric_plot):
            plot.getAxis("right").setWidth(64)

    def _sync_lr_view(self) -> None:
        self.lr_view.setGeometry(self.metric_plot.vb.sceneBoundingRect())
        self.lr_view.linkedViewChanged(self.metric_plot.vb, self.lr_view.XAxis)

    def target(self, part: str) -> pg.PlotItem | pg.ViewBox:
        """Where a run's curve ``part`` (``raw``, ``val/loss``, ``train/metric``, ``lr``, ...) is drawn."""
        if part == "lr":
            return self.lr_view
        return self.metric_plot if part.endswith("/metric") else self.loss_plot

    def apply_palette(self, pal: QPalette) -> None:
        """Background, axes and legend in the colours of ``pal`` (the chart's, on a theme switch too)."""
        background, text = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)
        self.setBackground(background)
        for plot in (self.loss_plot, self.metric_plot):
            for name in ("left", "bottom", "right"):
                axis = plot.getAxis(name)
                axis.setPen(text)
                axis.setTextPen(text)
        legend_bg = QColor(background)
        legend_bg.setAlpha(200)
        self.legend.setBrush(legend_bg)
        self.legend.setLabelTextColor(text)
        for _sample, label in self.legend.items:
            label.setText(label.text, color=text)
