"""The training chart's pieces that know pyqtgraph, not runs: its timed view, a run's cached smoothing, and a
curve that knows its x values are finite."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg

from ui.training.series import GrowingArray


class TimedPlots(pg.GraphicsLayoutWidget):
    """The plots' view, timing its own paints (what the chart's frame budget counts)."""

    last_paint_s = 0.0

    def paintEvent(self, event) -> None:
        start = time.perf_counter()
        super().paintEvent(event)
        self.last_paint_s = time.perf_counter() - start


class SmoothedLosses:
    """The debiased EMA of a run's step losses, kept from one redraw to the next.

    The engine's :class:`~netbuilder.training.smoothing.EmaState` smooths only the points that arrived
    since the last redraw; a new weight (the slider moved) starts a fresh state over the whole series.
    """

    def __init__(self) -> None:
        self.values = GrowingArray()
        self.weight: float | None = None
        self._state = None

    def update(self, raw: np.ndarray, weight: float) -> np.ndarray:
        if weight != self.weight or self._state is None:
            # Imported here: the engine owns the smoothing (tested headless) and the chart loads without it.
            from netbuilder.training.smoothing import EmaState

            self.values.truncate(0)
            self.weight, self._state = weight, EmaState(weight)
        done = len(self.values)
        if done < raw.shape[0]:
            self.values.extend(self._state.extend(raw[done:]))
        return self.values.values


class FiniteXCurve(pg.PlotDataItem):
    """A PlotDataItem that knows its x values are finite (steps, epochs and seconds always are).

    pyqtgraph 0.14 learns that only from an integer dtype; for float x its auto-downsampling copies the
    finite subset of x on every setData (about 3 ms at a million points, a quarter of a redraw). Setting
    the flag it would have computed touches a private attribute, so this degrades to the slow path,
    never to a wrong one, if pyqtgraph renames it.
    """

    def _getDisplayDataset(self):
        dataset = getattr(self, "_dataset", None)
        if dataset is not None and getattr(dataset, "xAllFinite", False) is None:
            dataset.xAllFinite = True
            if self.opts.get("skipFiniteCheck") and getattr(dataset, "yAllFinite", False) is None:
                dataset.yAllFinite = True
        return super()._getDisplayDataset()
