"""The live training chart: step losses raw and smoothed, epoch train/validation points, metrics and the
learning rate, for one or more runs overlaid.

Appends only write into numpy buffers (:mod:`ui.training.series`) and mark a run dirty; a 30 Hz
QTimer hands the dirty curves to pyqtgraph, so a fast run costs one redraw a frame, never one a batch
(pyqtgraph's scrolling-plot example). Curves clip to the view and peak-downsample to the pixels, so a
million points draw like a few thousand. The smoothed copy of a run's losses is cached and extended for
new points (the engine's EmaState); only a move of the smoothing slider recomputes it whole.

The chart keeps the runs and draws them; its pieces live beside it: the row of controls
(:mod:`ui.training.chart_controls`), the two plots and their axes (:mod:`ui.training.chart_plots`), a run's
series and curve styles (:mod:`ui.training.chart_run`), the hover read-out (:mod:`ui.training.chart_readout`)
and the auto-range (:mod:`ui.training.chart_ranges`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from numpy.typing import ArrayLike
from PySide6.QtCore import QEvent, QPointF, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from ui.files.file_dialogs import save_file
from ui.training.chart_controls import DEFAULT_SMOOTHING, X_MODES, ChartControls
from ui.training.chart_csv import write_run_csv
from ui.training.chart_items import FiniteXCurve
from ui.training.chart_plots import ChartPlots
from ui.training.chart_ranges import Bounds, epoch_bounds, loss_bounds
from ui.training.chart_readout import HINT, readout_text
from ui.training.chart_run import PALETTE, ChartRun, RunKey, curve_styles
from ui.training.series import Series

REDRAW_HZ = 30
# The share of the window's time the live chart may take: after a frame that cost c seconds (the curves
# handed over and the scene painted) the next waits at least c / FRAME_BUDGET. A machine that paints a
# frame in 1 ms redraws at the full 30 Hz; one that needs 6 ms (two shared cores, offscreen raster)
# redraws about 5 times a second instead of taking a core's tenth from the run it shows (on two cores
# the worker's two threads both wait for the one the window preempts, so each ms counts twice).
FRAME_BUDGET = 0.03
MAX_FRAME_GAP_S = 0.5  # however costly a frame, a live chart shows new points at least twice a second
PEAK_COLUMNS_MIN = 200  # a curve thinned for drawing keeps at least this many blocks


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
        self._runs: dict[RunKey, ChartRun] = {}
        self._colour_turn = 0
        self._x_mode = "step"
        self._smoothing = DEFAULT_SMOOTHING
        self._log_y = False
        self._build_controls()
        self._build_plots()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.controls)
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
        # The row of widgets lives in ui/training/chart_controls.py; the chart keeps what they change.
        c = self.controls = ChartControls()
        c.smoothing_slider.valueChanged.connect(self._on_smoothing)
        c.x_combo.currentIndexChanged.connect(lambda _i: self.set_x_mode(c.x_combo.currentData()))
        c.log_check.toggled.connect(self.set_log_y)
        for spin in (c.y_min_spin, c.y_max_spin):
            spin.valueChanged.connect(lambda _v: self._apply_y_range())
        c.auto_y_check.toggled.connect(self._on_auto_y)
        c.metric_combo.currentIndexChanged.connect(self._on_metric)
        c.png_button.clicked.connect(self._ask_png)
        c.csv_menu.aboutToShow.connect(self._fill_csv_menu)
        self.readout = QLabel(HINT)
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setWordWrap(True)

    def _build_plots(self) -> None:
        # The plots and their axes live in ui/training/chart_plots.py; the chart gives their views its ranges.
        self.plots = ChartPlots(X_MODES[self._x_mode])
        self.loss_plot, self.metric_plot = self.plots.loss_plot, self.plots.metric_plot
        self.lr_view = self.plots.lr_view
        self.legend = self.plots.legend
        self.loss_plot.vb.hint = self._loss_bounds
        self.metric_plot.vb.hint = lambda: self._epoch_bounds(self.metric_plot.vb, ("train/", "val/"), self.metric)
        self.lr_view.hint = lambda: self._epoch_bounds(self.lr_view, ("",), "lr")
        # y fits what is in view only once the user zooms x: while x follows the data everything is in view,
        # and the visible-range bounds it costs (a third of a live redraw) would buy nothing.
        self._fit_y_to_view = False
        # Zoomed or panned: the step curves are thinned anew for what is now in view.
        self.loss_plot.vb.sigXRangeChanged.connect(self._view_moved)
        self.legend.sigSampleClicked.connect(self._on_legend_clicked)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # a theme switch: the plots follow the widget palette
            self._apply_palette()

    def _apply_palette(self) -> None:
        self.plots.apply_palette(self.palette())

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
        run = ChartRun(key, name, colour, live)
        styles = curve_styles(colour, name)
        for part, style in styles.items():
            # Two points (the peak's max and min) per pixel column draw every spike a million points hold;
            # pyqtgraph's default (5 columns' worth) paints 5x the segments for nothing. The dynamic range
            # limit would scan every point for its bounds on every setData (a third of a redraw at 1e6).
            curve = FiniteXCurve(autoDownsampleFactor=1.0, dynamicRangeLimit=None, **style)
            self.plots.target(part).addItem(curve)  # PlotItem.addItem also feeds the legend when the curve has a name
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
            run.curves[part] = curve
        self._runs[key] = run
        self.set_run_live(key, live)

    def remove_run(self, key: RunKey) -> None:
        run = self._runs.pop(key)
        self.legend.removeItem(run.curves["smoothed"])
        for part, curve in run.curves.items():
            self.plots.target(part).removeItem(curve)
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
        self.controls.smoothing_slider.setValue(round(min(max(weight, 0.0), 0.99) * 100))

    def _on_smoothing(self, value: int) -> None:
        self._smoothing = value / 100
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
        self.controls.x_combo.setCurrentIndex(self.controls.x_combo.findData(mode))
        self.metric_plot.setLabel("bottom", X_MODES[mode])
        self._mark_all_dirty()
        self.loss_plot.enableAutoRange(x=True)

    def set_log_y(self, on: bool) -> None:
        """A true logarithmic loss axis; points ≤ 0 have no place on it and are left out of the curve."""
        self._log_y = bool(on)
        if self.controls.log_check.isChecked() != self._log_y:
            self.controls.log_check.setChecked(self._log_y)
        self._mark_all_dirty()
        self.redraw()  # first, so what a log axis cannot show is gone before pyqtgraph maps it
        self.loss_plot.setLogMode(x=False, y=self._log_y)
        self._apply_y_range()

    def set_y_range(self, low: float | None, high: float | None = None) -> None:
        """Holds the loss axis at ``low``..``high``; ``None`` fits it to the data again."""
        if low is None or high is None:
            self.controls.auto_y_check.setChecked(True)
            return
        self._fill_y_from_view = False
        try:
            self.controls.y_min_spin.setValue(low)
            self.controls.y_max_spin.setValue(high)
            self.controls.auto_y_check.setChecked(False)
        finally:
            self._fill_y_from_view = True
        self._apply_y_range()

    def _on_auto_y(self, auto: bool) -> None:
        if not auto and self._fill_y_from_view:  # fixing the range starts from what is shown
            low, high = self.loss_plot.vb.viewRange()[1]
            if self._log_y:
                low, high = 10.0**low, 10.0**high
            self.controls.show_y_range(low, high)
        self._apply_y_range()

    def _apply_y_range(self) -> None:
        if self.controls.auto_y_check.isChecked():
            self.loss_plot.enableAutoRange(y=True)
            return
        low, high = self.controls.y_range()
        if self._log_y:  # the view counts decades; a bound ≤ 0 falls back to six decades under the top
            high = high if high > 0 else 1.0
            low = low if low > 0 else high * 1e-6
            low, high = math.log10(low), math.log10(high)
        if high > low:
            self.loss_plot.setYRange(low, high, padding=0)

    @property
    def metric(self) -> str | None:
        return self.controls.metric

    def metric_names(self) -> list[str]:
        return self.controls.metric_names()

    def set_metric(self, name: str) -> None:
        self.controls.metric_combo.setCurrentIndex(self.controls.metric_combo.findData(name))

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
        if self.controls.set_metric_names(names):
            self._on_metric(self.controls.metric_combo.currentIndex())

    # --- drawing -----------------------------------------------------------------------------------

    def _mark_dirty(self, run: ChartRun, steps: bool = False, epochs: bool = False) -> None:
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

    def _shown(self) -> list[ChartRun]:
        return [run for run in self._runs.values() if run.visible]

    def _loss_bounds(self) -> Bounds | None:
        (x_now, y_now) = (tuple(r) for r in self.loss_plot.vb.viewRange())
        return loss_bounds(self._shown(), self._x_mode, self._log_y, x_now, y_now)

    def _epoch_bounds(self, view: pg.ViewBox, prefixes: tuple[str, ...], name: str | None) -> Bounds | None:
        return epoch_bounds(self._shown(), tuple(view.viewRange()[1]), prefixes, name)

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

    def _draw_steps(self, run: ChartRun) -> None:
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

    def _draw_epochs(self, run: ChartRun) -> None:
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
        return readout_text(self._runs.values(), self._x_mode, self.metric, x)

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
        self.controls.csv_menu.clear()
        for key, run in self._runs.items():
            self.controls.csv_menu.addAction(run.name, lambda k=key: self._ask_csv(k))
        if not self._runs:
            self.controls.csv_menu.addAction("No runs").setEnabled(False)

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
