"""The live training chart: step losses raw and smoothed, epoch train/validation points, metrics and the
learning rate, for one or more runs overlaid.

Appends only write into numpy buffers (:mod:`ui.training.series`) and mark a run dirty; a 30 Hz
QTimer hands the dirty curves to pyqtgraph, so a fast run costs one redraw a frame, never one a batch
(pyqtgraph's scrolling-plot example). Curves clip to the view and peak-downsample to the pixels, so a
million points draw like a few thousand. The smoothed copy of a run's losses is cached and extended for
new points (the engine's EmaState); only a move of the smoothing slider recomputes it whole.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from numpy.typing import ArrayLike
from PySide6.QtCore import QEvent, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.files.file_dialogs import save_file
from ui.training.chart_csv import write_run_csv
from ui.training.chart_items import FiniteXCurve, SmoothedLosses, TimedPlots
from ui.training.chart_ranges import Bounds, FollowingViewBox, following_x, sticky_y
from ui.training.series import PeakPyramid, Series

RunKey = int | str
REDRAW_HZ = 30
# The share of the window's time the live chart may take: after a frame that cost c seconds (the curves
# handed over and the scene painted) the next waits at least c / FRAME_BUDGET. A machine that paints a
# frame in 1 ms redraws at the full 30 Hz; one that needs 6 ms (two shared cores, offscreen raster)
# redraws about 5 times a second instead of taking a core's tenth from the run it shows (on two cores
# the worker's two threads both wait for the one the window preempts, so each ms counts twice).
FRAME_BUDGET = 0.03
MAX_FRAME_GAP_S = 0.5  # however costly a frame, a live chart shows new points at least twice a second
PEAK_COLUMNS_MIN = 200  # a curve thinned for drawing keeps at least this many blocks
DEFAULT_SMOOTHING = 0.6
X_MODES = {"step": "step", "epoch": "epoch", "elapsed": "elapsed time (s)"}
# Tableau 10: distinct hues that stay apart on light and dark backgrounds.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
HINT = "thin: every step · bold: smoothed · ●: epoch train · ■ dashed: validation · hover for values"


@dataclass
class _Run:
    key: RunKey
    name: str
    colour: QColor
    live: bool
    visible: bool = True
    steps: Series = field(default_factory=Series)
    smoothed: SmoothedLosses = field(default_factory=SmoothedLosses)
    raw_peaks: PeakPyramid = field(default_factory=PeakPyramid)  # what a redraw hands pyqtgraph of a long run
    smooth_peaks: PeakPyramid = field(default_factory=PeakPyramid)
    smooth_weight: float | None = None  # the smoothing the smoothed peaks were taken at
    epochs: dict[str, Series] = field(default_factory=dict)  # "train/loss", "val/accuracy", "lr", ...
    planned: dict[str, float] = field(default_factory=dict)  # the run's planned end by x mode (step, epoch)
    curves: dict[str, pg.PlotDataItem] = field(default_factory=dict)
    dirty_steps: bool = False
    dirty_epochs: bool = False

    def epoch_series(self, name: str) -> Series:
        return self.epochs.setdefault(name, Series(capacity=64))


class TrainingChart(QWidget):
    """Loss and metric curves of training runs, keyed by a run id (int) or any string.

    The upper plot shows each run's per-step loss (thin and faint), its debiased-EMA smoothing (bold,
    the legend's sample) and the per-epoch train (dots) and validation (dashed, squares) losses. The
    lower plot, x-linked, shows the metric picked in the combo (any key beyond ``loss`` the epoch dicts
    carried) and the learning rate on its own right-hand axis. The live run draws on top.

    Parameters
    ----------
    parent
        The owning widget.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project_path: Callable[[], Path | None] = lambda: None  # where its save dialogs start (the window's)
        self._runs: dict[RunKey, _Run] = {}
        self._colour_turn = 0
        self._x_mode = "step"
        self._smoothing = DEFAULT_SMOOTHING
        self._log_y = False
        self._build_controls()
        self._build_plots()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(self._controls)
        layout.addWidget(self.plots, 1)
        layout.addWidget(self.readout)
        self._timer = QTimer(self)
        self._timer.setInterval(1000 // REDRAW_HZ)
        self._timer.timeout.connect(self._tick)
        self._mouse_proxy = pg.SignalProxy(self.plots.scene().sigMouseMoved, rateLimit=REDRAW_HZ,
                                           slot=self._on_mouse_moved)
        self._fill_y_from_view = True
        self._next_frame_at = 0.0  # perf_counter time before which a tick does not redraw (FRAME_BUDGET)
        self._apply_palette()

    # --- building ---------------------------------------------------------------------------------

    def _build_controls(self) -> None:
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(round(DEFAULT_SMOOTHING * 100))
        self.smoothing_slider.setMaximumWidth(140)
        self.smoothing_slider.setToolTip("Smoothing of the per-step loss (TensorBoard's debiased EMA)")
        self.smoothing_label = QLabel(f"{DEFAULT_SMOOTHING:.2f}")
        self.smoothing_slider.valueChanged.connect(self._on_smoothing)
        self.x_combo = QComboBox()
        for mode, label in X_MODES.items():
            self.x_combo.addItem(label.split(" (")[0].capitalize(), mode)
        self.x_combo.setToolTip("What the x axis counts")
        self.x_combo.currentIndexChanged.connect(lambda _i: self.set_x_mode(self.x_combo.currentData()))
        self.log_check = QCheckBox("Log y")
        self.log_check.setToolTip("Logarithmic loss axis (values ≤ 0 are left out)")
        self.log_check.toggled.connect(self.set_log_y)
        self.auto_y_check = QCheckBox("Auto y")
        self.auto_y_check.setChecked(True)
        self.auto_y_check.setToolTip("Fit the loss axis to the data; unchecked, it holds the range below")
        self.y_min_spin, self.y_max_spin = QDoubleSpinBox(), QDoubleSpinBox()
        for spin, value in ((self.y_min_spin, 0.0), (self.y_max_spin, 1.0)):
            spin.setRange(-1e12, 1e12)
            spin.setDecimals(6)
            spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
            spin.setValue(value)
            spin.setEnabled(False)
            spin.setMaximumWidth(110)
            spin.valueChanged.connect(lambda _v: self._apply_y_range())
        self.y_min_spin.setToolTip("Bottom of the loss axis")
        self.y_max_spin.setToolTip("Top of the loss axis")
        self.auto_y_check.toggled.connect(self._on_auto_y)
        self.metric_combo = QComboBox()
        self.metric_combo.setToolTip("The metric the lower plot shows")
        self.metric_combo.setMinimumContentsLength(8)
        self.metric_combo.currentIndexChanged.connect(self._on_metric)
        self.png_button = QToolButton()
        self.png_button.setText("PNG…")
        self.png_button.setToolTip("Save the chart as a PNG image")
        self.png_button.clicked.connect(self._ask_png)
        self.csv_button = QToolButton()
        self.csv_button.setText("CSV…")
        self.csv_button.setToolTip("Export every point of a run as CSV")
        self.csv_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.csv_menu = QMenu(self.csv_button)
        self.csv_menu.aboutToShow.connect(self._fill_csv_menu)
        self.csv_button.setMenu(self.csv_menu)
        row = QHBoxLayout()
        row.setSpacing(6)
        for item in (QLabel("Smoothing"), self.smoothing_slider, self.smoothing_label, QLabel("x:"), self.x_combo,
                     self.log_check, self.auto_y_check, self.y_min_spin, QLabel("–"), self.y_max_spin,
                     QLabel("Metric:"), self.metric_combo):
            row.addWidget(item)
        row.addStretch(1)
        row.addWidget(self.png_button)
        row.addWidget(self.csv_button)
        self._controls = row
        self.readout = QLabel(HINT)
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setWordWrap(True)

    def _build_plots(self) -> None:
        self.plots = TimedPlots()
        self.plots.setMinimumSize(320, 200)
        # The chart's own auto-range (ui/training/chart_ranges.py): from the extremes it keeps, in round
        # numbers that hold still, so a report repaints once and the axes rarely.
        self.loss_plot: pg.PlotItem = self.plots.addPlot(row=0, col=0, viewBox=FollowingViewBox())
        self.metric_plot: pg.PlotItem = self.plots.addPlot(row=1, col=0, viewBox=FollowingViewBox())
        self.loss_plot.vb.hint = self._loss_bounds
        self.metric_plot.vb.hint = lambda: self._epoch_bounds(self.metric_plot.vb, ("train/", "val/"), self.metric)
        self.plots.ci.layout.setRowStretchFactor(0, 3)
        self.plots.ci.layout.setRowStretchFactor(1, 2)
        self.metric_plot.setXLink(self.loss_plot)
        self.metric_plot.enableAutoRange(x=False)  # the loss plot, holding every point, leads the x range
        self.loss_plot.setLabel("left", "loss")
        self.metric_plot.setLabel("left", "metric")
        self.metric_plot.setLabel("bottom", X_MODES[self._x_mode])
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
        # y fits what is in view only once the user zooms x: while x follows the data everything is in view,
        # and the visible-range bounds it costs (a third of a live redraw) would buy nothing.
        self._fit_y_to_view = False
        # Zoomed or panned: the step curves are thinned anew for what is now in view.
        self.loss_plot.vb.sigXRangeChanged.connect(self._view_moved)
        self.legend = self.loss_plot.addLegend(offset=(-8, 8), labelTextSize="9pt")
        self.legend.sigSampleClicked.connect(self._on_legend_clicked)
        # The learning rate on its own axis: a second ViewBox over the metric plot (pyqtgraph's
        # MultiplePlotAxes example), x-linked to it.
        self.lr_view = FollowingViewBox()
        self.lr_view.setMenuEnabled(False)
        self.lr_view.hint = lambda: self._epoch_bounds(self.lr_view, ("",), "lr")
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

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # a theme switch: the plots follow the widget palette
            self._apply_palette()

    def _apply_palette(self) -> None:
        pal = self.palette()
        background, text = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)
        self.plots.setBackground(background)
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

    # --- runs ---------------------------------------------------------------------------------------

    def add_run(self, key: RunKey, name: str, live: bool = True) -> None:
        """Adds a run (an empty one, or one about to be filled from the history); a live run draws on top."""
        if key in self._runs:
            self.remove_run(key)
        used = {run.colour.name() for run in self._runs.values()}
        for _ in range(len(PALETTE)):
            colour = QColor(PALETTE[self._colour_turn % len(PALETTE)])
            self._colour_turn += 1
            if colour.name() not in used:
                break
        run = _Run(key, name, colour, live)
        faint = QColor(colour)
        faint.setAlpha(70)
        styles = {
            "raw": {"pen": pg.mkPen(faint, width=1)},
            "smoothed": {"pen": pg.mkPen(colour, width=2.5), "name": name},
            "train/loss": self._epoch_style(colour, validation=False),
            "val/loss": self._epoch_style(colour, validation=True),
            "train/metric": self._epoch_style(colour, validation=False),
            "val/metric": self._epoch_style(colour, validation=True),
            "lr": {"pen": pg.mkPen(colour, width=1, style=Qt.PenStyle.DotLine)},
        }
        for part, style in styles.items():
            # Two points (the peak's max and min) per pixel column draw every spike a million points hold;
            # pyqtgraph's default (5 columns' worth) paints 5x the segments for nothing. The dynamic range
            # limit would scan every point for its bounds on every setData (a third of a redraw at 1e6).
            curve = FiniteXCurve(autoDownsampleFactor=1.0, dynamicRangeLimit=None, **style)
            self._target(part).addItem(curve)  # PlotItem.addItem also feeds the legend when the curve has a name
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
            run.curves[part] = curve
        self._runs[key] = run
        self.set_run_live(key, live)

    def _target(self, part: str) -> pg.PlotItem | pg.ViewBox:
        if part == "lr":
            return self.lr_view
        return self.metric_plot if part.endswith("/metric") else self.loss_plot

    @staticmethod
    def _epoch_style(colour: QColor, validation: bool) -> dict:
        pen = pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DashLine if validation else Qt.PenStyle.SolidLine)
        return {"pen": pen, "symbol": "s" if validation else "o", "symbolSize": 6, "symbolPen": pg.mkPen(colour),
                "symbolBrush": pg.mkBrush(colour if not validation else QColor(0, 0, 0, 0))}

    def remove_run(self, key: RunKey) -> None:
        run = self._runs.pop(key)
        self.legend.removeItem(run.curves["smoothed"])
        for part, curve in run.curves.items():
            self._target(part).removeItem(curve)
        self._refresh_metric_names()

    def clear(self) -> None:
        """Removes every run."""
        for key in list(self._runs):
            self.remove_run(key)

    def runs(self) -> list[RunKey]:
        return list(self._runs)

    def set_run_visible(self, key: RunKey, visible: bool) -> None:
        run = self._runs[key]
        run.visible = visible
        for curve in run.curves.values():
            curve.setVisible(visible)
        if visible:
            self._mark_dirty(run, steps=True, epochs=True)
        self.legend.update()

    def is_run_visible(self, key: RunKey) -> bool:
        return self._runs[key].visible

    def set_run_live(self, key: RunKey, live: bool) -> None:
        """A live run's curves draw above every finished run's."""
        run = self._runs[key]
        run.live = live
        for order, curve in enumerate(run.curves.values()):
            curve.setZValue(order + (100 if live else 0))

    def append_steps(self, key: RunKey, first_step: int, losses: ArrayLike, epoch_float_per_step: ArrayLike,
                     elapsed: ArrayLike) -> None:
        """A report interval's losses: steps ``first_step ..``, their fractional epochs (an array, one per
        step, or one number) and elapsed seconds (one per step, or the interval's end: the steps are then
        spread evenly since the previous interval's end)."""
        run = self._runs[key]
        losses = np.asarray(losses, dtype=np.float64).reshape(-1)
        count = losses.shape[0]
        if count == 0:
            return
        if np.ndim(elapsed) == 0:
            before = float(run.steps.elapsed[-1]) if len(run.steps) else 0.0
            elapsed = np.linspace(before, max(float(elapsed), before), count + 1)[1:]
        run.steps.append(first_step + np.arange(count, dtype=np.float64), epoch_float_per_step, elapsed, losses)
        self._mark_dirty(run, steps=True)

    def append_epoch(self, key: RunKey, epoch: int, train: dict[str, float], val: dict[str, float] | None,
                     learning_rate: float, elapsed: float) -> None:
        """An epoch's metrics; ``epoch`` is the finished epoch's 0-based index (the engine's ``Epoch``), drawn at
        ``epoch + 1`` on the epoch axis and at the last step seen on the step axis, where its last batch lies."""
        run = self._runs[key]
        step = float(run.steps.step[-1]) if len(run.steps) else 0.0
        x = (step, float(epoch) + 1.0, float(elapsed))
        for prefix, values in (("train", train), ("val", val or {})):
            for name, value in values.items():
                run.epoch_series(f"{prefix}/{name}").append(*x, [value])
        run.epoch_series("lr").append(*x, [learning_rate])
        self._refresh_metric_names()
        self._mark_dirty(run, epochs=True)

    def set_planned(self, key: RunKey, steps: int, epochs: int) -> None:
        """The run's planned length: while the x axis follows the data it spans the whole run from the start."""
        self._runs[key].planned = {"step": float(steps), "epoch": float(epochs)}

    # --- controls --------------------------------------------------------------------------------------

    @property
    def smoothing(self) -> float:
        return self._smoothing

    def set_smoothing(self, weight: float) -> None:
        self.smoothing_slider.setValue(round(min(max(weight, 0.0), 0.99) * 100))

    def _on_smoothing(self, value: int) -> None:
        self._smoothing = value / 100
        self.smoothing_label.setText(f"{self._smoothing:.2f}")
        for run in self._runs.values():
            self._mark_dirty(run, steps=True)

    @property
    def x_mode(self) -> str:
        return self._x_mode

    def set_x_mode(self, mode: str) -> None:
        """``step``, ``epoch`` or ``elapsed`` (seconds since the run started)."""
        if mode not in X_MODES:
            raise ValueError(f"x mode must be one of {tuple(X_MODES)}, not {mode!r}")
        self._x_mode = mode
        self.x_combo.setCurrentIndex(self.x_combo.findData(mode))
        self.metric_plot.setLabel("bottom", X_MODES[mode])
        self._mark_all_dirty()
        self.loss_plot.enableAutoRange(x=True)

    def set_log_y(self, on: bool) -> None:
        """A true logarithmic loss axis; points ≤ 0 have no place on it and are left out of the curve."""
        self._log_y = bool(on)
        if self.log_check.isChecked() != self._log_y:
            self.log_check.setChecked(self._log_y)
        self._mark_all_dirty()
        self.redraw()  # first, so what a log axis cannot show is gone before pyqtgraph maps it
        self.loss_plot.setLogMode(x=False, y=self._log_y)
        self._apply_y_range()

    def set_y_range(self, low: float | None, high: float | None = None) -> None:
        """Holds the loss axis at ``low``..``high``; ``None`` fits it to the data again."""
        if low is None or high is None:
            self.auto_y_check.setChecked(True)
            return
        self._fill_y_from_view = False
        try:
            self.y_min_spin.setValue(low)
            self.y_max_spin.setValue(high)
            self.auto_y_check.setChecked(False)
        finally:
            self._fill_y_from_view = True
        self._apply_y_range()

    def _on_auto_y(self, auto: bool) -> None:
        for spin in (self.y_min_spin, self.y_max_spin):
            spin.setEnabled(not auto)
        if not auto and self._fill_y_from_view:  # fixing the range starts from what is shown
            low, high = self.loss_plot.vb.viewRange()[1]
            if self._log_y:
                low, high = 10.0**low, 10.0**high
            for spin, value in ((self.y_min_spin, low), (self.y_max_spin, high)):
                spin.blockSignals(True)
                spin.setValue(value)
                spin.blockSignals(False)
        self._apply_y_range()

    def _apply_y_range(self) -> None:
        if self.auto_y_check.isChecked():
            self.loss_plot.enableAutoRange(y=True)
            return
        low, high = sorted((self.y_min_spin.value(), self.y_max_spin.value()))
        if self._log_y:  # the view counts decades; a bound ≤ 0 falls back to six decades under the top
            high = high if high > 0 else 1.0
            low = low if low > 0 else high * 1e-6
            low, high = math.log10(low), math.log10(high)
        if high > low:
            self.loss_plot.setYRange(low, high, padding=0)

    @property
    def metric(self) -> str | None:
        return self.metric_combo.currentData()

    def metric_names(self) -> list[str]:
        return [self.metric_combo.itemData(i) for i in range(self.metric_combo.count())]

    def set_metric(self, name: str) -> None:
        self.metric_combo.setCurrentIndex(self.metric_combo.findData(name))

    def _on_metric(self, _index: int) -> None:
        self.metric_plot.setLabel("left", self.metric or "metric")
        self._mark_all_dirty()

    def _refresh_metric_names(self) -> None:
        names: list[str] = []
        for run in self._runs.values():
            for series_name in run.epochs:
                prefix, _, metric = series_name.partition("/")
                if prefix in ("train", "val") and metric != "loss" and metric not in names:
                    names.append(metric)
        if names != self.metric_names():
            current = self.metric
            self.metric_combo.blockSignals(True)
            self.metric_combo.clear()
            for name in names:
                self.metric_combo.addItem(name, name)
            self.metric_combo.setCurrentIndex(max(0, self.metric_combo.findData(current)))
            self.metric_combo.blockSignals(False)
            self._on_metric(self.metric_combo.currentIndex())

    # --- drawing -----------------------------------------------------------------------------------

    def _mark_dirty(self, run: _Run, steps: bool = False, epochs: bool = False) -> None:
        run.dirty_steps |= steps
        run.dirty_epochs |= epochs
        if not self._timer.isActive():
            self._timer.start()

    def _mark_all_dirty(self) -> None:
        for run in self._runs.values():
            self._mark_dirty(run, steps=True, epochs=True)

    def _tick(self) -> None:
        if not any(run.visible and (run.dirty_steps or run.dirty_epochs) for run in self._runs.values()):
            self._timer.stop()  # nothing changed for a frame: sleep until the next append
            return
        start = time.perf_counter()
        if start < self._next_frame_at:
            return  # the last frame was costly: the dirty curves wait a tick or two
        self.redraw()
        cost = time.perf_counter() - start + self.plots.last_paint_s
        self._next_frame_at = start + min(cost / FRAME_BUDGET, MAX_FRAME_GAP_S)

    def redraw(self) -> bool:
        """Hands every dirty curve of the visible runs to pyqtgraph now; returns whether any was."""
        drew = False
        for run in self._runs.values():
            if not run.visible:
                continue
            if run.dirty_steps:
                self._draw_steps(run)
                run.dirty_steps, drew = False, True
            if run.dirty_epochs:
                self._draw_epochs(run)
                run.dirty_epochs, drew = False, True
        return drew

    def _known_finite(self, series: Series, logged: bool) -> bool:
        return series.all_finite and (series.all_positive or not logged)

    def _view_moved(self, *_: object) -> None:
        zoomed = not self.loss_plot.vb.autoRangeEnabled()[0]
        if zoomed != self._fit_y_to_view:
            self._fit_y_to_view = zoomed
            self.loss_plot.setAutoVisible(y=zoomed)
        if zoomed:  # the user's zoom, not the view following new data
            for run in self._runs.values():
                if len(run.steps) > 4 * PEAK_COLUMNS_MIN:
                    self._mark_dirty(run, steps=True)

    def _shown(self) -> list[_Run]:
        return [run for run in self._runs.values() if run.visible]

    def _loss_bounds(self) -> Bounds | None:
        """The loss plot's auto-range: x over every shown run (to a live run's planned end), y over their step
        and epoch losses, each kept while the data stays comfortably inside it."""
        (x_now, y_now) = (tuple(r) for r in self.loss_plot.vb.viewRange())
        first, last, planned = math.inf, -math.inf, None
        y_low, y_high = math.inf, -math.inf
        for run in self._shown():
            for series in (run.steps, run.epochs.get("train/loss"), run.epochs.get("val/loss")):
                if series is None or not len(series):
                    continue
                xs = series.x(self._x_mode)
                first, last = min(first, float(xs[0])), max(last, float(xs[-1]))
                bounds = series.y_bounds(log=self._log_y)
                if bounds is not None:
                    y_low, y_high = min(y_low, bounds[0]), max(y_high, bounds[1])
            end = run.planned.get(self._x_mode)
            if end is not None:
                planned = max(planned or end, end)
        if first > last:
            return None
        if planned is not None:
            first = min(first, 0.0)
        x = following_x(x_now, first, last, planned)
        if y_low > y_high:
            return [list(x), None]
        if self._log_y:
            y_low, y_high = math.log10(y_low), math.log10(y_high)
        return [list(x), list(sticky_y(y_now, y_low, y_high))]

    def _epoch_bounds(self, view: pg.ViewBox, prefixes: tuple[str, ...], name: str | None) -> Bounds | None:
        """A lower-plot view's y auto-range over the shown runs' ``prefix + name`` epoch series."""
        low, high = math.inf, -math.inf
        for run in self._shown():
            for prefix in prefixes:
                series = run.epochs.get(f"{prefix}{name}")
                bounds = series.y_bounds() if series is not None else None
                if bounds is not None:
                    low, high = min(low, bounds[0]), max(high, bounds[1])
        if low > high:
            return None
        return [None, list(sticky_y(tuple(view.viewRange()[1]), low, high))]

    def _visible(self, x: np.ndarray) -> tuple[int, int, int]:
        """The index range of ``x`` in view (all of it while the x axis follows the data), and the pixel
        columns it is drawn on."""
        vb = self.loss_plot.vb
        columns = max(PEAK_COLUMNS_MIN, int(vb.width()))
        if vb.autoRangeEnabled()[0] or not len(x):
            return 0, len(x), columns
        x0, x1 = vb.viewRange()[0]
        first = max(0, int(np.searchsorted(x, x0, side="left")) - 1)
        last = min(len(x), int(np.searchsorted(x, x1, side="right")) + 1)
        return first, last, columns

    def _draw_steps(self, run: _Run) -> None:
        x, y = run.steps.x(self._x_mode), run.steps.y
        smoothed = run.smoothed.update(y, self._smoothing)
        if run.smooth_weight != self._smoothing:  # recomputed whole: its peaks too
            run.smooth_peaks.reset()
            run.smooth_weight = self._smoothing
        run.raw_peaks.update(y)
        run.smooth_peaks.update(smoothed)
        finite = self._known_finite(run.steps, self._log_y)
        first, last, columns = self._visible(x)
        # Each block's min and max over the visible part, two points a pixel column: a million steps
        # redraw like a few thousand, and every spike still shows (the series keeps every point).
        run.curves["raw"].setData(*run.raw_peaks.decimate(x, y, first, last, columns), skipFiniteCheck=finite)
        run.curves["smoothed"].setData(*run.smooth_peaks.decimate(x, smoothed, first, last, columns),
                                       skipFiniteCheck=finite)

    def _draw_epochs(self, run: _Run) -> None:
        metric = self.metric
        parts = {"train/loss": "train/loss", "val/loss": "val/loss", "lr": "lr",
                 "train/metric": f"train/{metric}", "val/metric": f"val/{metric}"}
        for part, series_name in parts.items():
            curve = run.curves[part]
            series = run.epochs.get(series_name)
            if series is None or not len(series):
                curve.setData([], [])
                continue
            logged = self._log_y and part.endswith("/loss")
            if logged and not series.all_positive and not (series.y > 0).any():
                curve.setData([], [])  # nothing a log axis can show (and pyqtgraph warns of an all-NaN slice)
                continue
            curve.setData(series.x(self._x_mode), series.y, skipFiniteCheck=self._known_finite(series, logged))

    # --- hover read-out ----------------------------------------------------------------------------

    def _on_mouse_moved(self, event: tuple) -> None:
        pos: QPointF = event[0]
        for plot in (self.loss_plot, self.metric_plot):
            if plot.sceneBoundingRect().contains(pos):
                self.readout.setText(self.readout_at(plot.vb.mapSceneToView(pos).x()))
                return
        self.readout.setText(HINT)

    def readout_at(self, x: float) -> str:
        """The values of each visible run's series nearest ``x`` (in the current x mode), as rich text."""
        parts = [f"<b>{self._x_mode} {x:,.4g}</b>"]
        for run in self._runs.values():
            if not run.visible:
                continue
            values = []
            if len(run.steps):
                i = self._nearest(run.steps.x(self._x_mode), x)
                smoothed = run.smoothed.values.values
                values.append(f"loss {run.steps.y[i]:.4g}")
                if i < len(smoothed):
                    values.append(f"smoothed {smoothed[i]:.4g}")
            for name in ("train/loss", "val/loss", f"train/{self.metric}", f"val/{self.metric}", "lr"):
                series = run.epochs.get(name)
                if series is not None and len(series):
                    i = self._nearest(series.x(self._x_mode), x)
                    label = {"train/loss": "epoch loss", "lr": "lr"}.get(name, name.replace("/", " "))
                    values.append(f"{label} {series.y[i]:.4g}")
            if values:
                parts.append(f'<span style="color:{run.colour.name()}">■</span> {run.name}: ' + ", ".join(values))
        return "<br>".join(parts)

    @staticmethod
    def _nearest(xs: np.ndarray, x: float) -> int:
        i = int(np.searchsorted(xs, x))
        if i >= len(xs):
            return len(xs) - 1
        if i > 0 and abs(xs[i - 1] - x) <= abs(xs[i] - x):
            return i - 1
        return i

    def _on_legend_clicked(self, item: pg.PlotDataItem) -> None:
        # The legend toggled the sample's curve alone; the run's other curves follow it.
        for key, run in self._runs.items():
            if run.curves["smoothed"] is item:
                self.set_run_visible(key, item.isVisible())

    # --- export ------------------------------------------------------------------------------------

    def export_png(self, path: str | Path) -> bool:
        """Saves the whole chart (plots, legend and controls) as it is on screen."""
        self.redraw()
        return self.grab().save(str(path), "PNG")

    def export_csv(self, path: str | Path, key: RunKey) -> None:
        """Writes every point of a run in one long-format CSV (its columns: :func:`.chart_csv.write_run_csv`)."""
        run = self._runs[key]
        write_run_csv(path, run.steps, run.epochs)

    def _ask_png(self) -> None:
        path = save_file(self, "Save chart", "image", "training.png", "PNG image (*.png)", self.project_path())
        if path:
            self.export_png(path)

    def _fill_csv_menu(self) -> None:
        self.csv_menu.clear()
        for key, run in self._runs.items():
            self.csv_menu.addAction(run.name, lambda k=key: self._ask_csv(k))
        if not self._runs:
            self.csv_menu.addAction("No runs").setEnabled(False)

    def _ask_csv(self, key: RunKey) -> None:
        name = self._runs[key].name
        path = save_file(self, "Export run", "csv", f"{name}.csv", "CSV (*.csv)", self.project_path())
        if path:
            self.export_csv(path, key)


def time_redraw(chart: TrainingChart) -> float:
    """Seconds for one full redraw: every curve of every visible run handed to pyqtgraph again, and the
    scene repainted (for ``benchmarks/bench_chart_redraw.py``)."""
    QApplication.processEvents()
    start = time.perf_counter()
    chart._mark_all_dirty()
    chart.redraw()
    chart.repaint()
    QApplication.processEvents()
    return time.perf_counter() - start
