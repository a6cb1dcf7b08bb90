"""Growing float64 buffers for a run's points: every point is kept, the display alone downsamples.

Appends land in preallocated numpy arrays whose capacity doubles when full (amortised O(1) per
point, as in pyqtgraph's scrolling-plot example); readers get views of the filled part, so a
redraw hands pyqtgraph arrays without copying.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

COLUMNS = ("step", "epoch", "elapsed", "y")


class GrowingArray:
    """A 1-D float64 buffer that doubles its capacity when full; :attr:`values` is a view of the filled part."""

    def __init__(self, capacity: int = 1024) -> None:
        self._buf = np.empty(max(int(capacity), 1), dtype=np.float64)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def values(self) -> np.ndarray:
        return self._buf[: self._n]

    def reserve(self, n: int) -> None:
        if n > self._buf.shape[0]:
            capacity = self._buf.shape[0]
            while capacity < n:
                capacity *= 2
            grown = np.empty(capacity, dtype=np.float64)
            grown[: self._n] = self._buf[: self._n]
            self._buf = grown

    def extend(self, values: ArrayLike) -> None:
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        end = self._n + values.shape[0]
        self.reserve(end)
        self._buf[self._n : end] = values
        self._n = end

    def truncate(self, n: int) -> None:
        """Keeps the first ``n`` values (the buffer stays allocated)."""
        self._n = max(0, min(int(n), self._n))


class Series:
    """Points of one curve, with every x a chart can plot against: step, fractional epoch, elapsed seconds.

    Parameters
    ----------
    capacity
        Points allocated up front; the buffers double whenever an append would overflow them.

    Notes
    -----
    The four columns share one ``(4, capacity)`` array, so each column's view is contiguous.
    ``x(mode)`` is assumed non-decreasing (steps and time only go forward), which is what lets the
    chart clip to the view with a binary search. :attr:`all_finite` and :attr:`all_positive` are
    kept up to date on append, so the chart knows when pyqtgraph may skip its finite check and when
    a log axis meets values it cannot show; :meth:`y_bounds` gives the extremes the chart's own
    auto-range needs without reading the points again.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._buf = np.empty((len(COLUMNS), max(int(capacity), 1)), dtype=np.float64)
        self._n = 0
        self.all_finite = True
        self.all_positive = True
        self._reset_extremes()

    def _reset_extremes(self) -> None:
        self.y_low = math.inf  # the least finite y so far (inf while there is none)
        self.y_high = -math.inf
        self.y_low_positive = math.inf  # the least y > 0: where a log axis starts

    def __len__(self) -> int:
        return self._n

    @property
    def capacity(self) -> int:
        return self._buf.shape[1]

    def append(self, steps: ArrayLike, epochs: ArrayLike, elapsed: ArrayLike, ys: ArrayLike) -> None:
        """Appends a batch of points; scalars among the x columns are broadcast to the length of ``ys``."""
        ys = np.asarray(ys, dtype=np.float64).reshape(-1)
        count = ys.shape[0]
        if count == 0:
            return
        columns: Sequence[np.ndarray] = [
            np.broadcast_to(np.asarray(c, dtype=np.float64), (count,)) for c in (steps, epochs, elapsed)
        ]
        end = self._n + count
        if end > self.capacity:
            capacity = self.capacity
            while capacity < end:
                capacity *= 2
            grown = np.empty((len(COLUMNS), capacity), dtype=np.float64)
            grown[:, : self._n] = self._buf[:, : self._n]
            self._buf = grown
        for row, values in enumerate((*columns, ys)):
            self._buf[row, self._n : end] = values
        self._n = end
        finite = np.isfinite(ys)
        if self.all_finite and not finite.all():
            self.all_finite = False
        kept = ys[finite]
        if kept.shape[0]:
            self.y_low = min(self.y_low, float(kept.min()))
            self.y_high = max(self.y_high, float(kept.max()))
            positive = kept[kept > 0]
            if positive.shape[0] < kept.shape[0]:
                self.all_positive = False
            if positive.shape[0]:
                self.y_low_positive = min(self.y_low_positive, float(positive.min()))

    def clear(self) -> None:
        self._n = 0
        self.all_finite = True
        self.all_positive = True
        self._reset_extremes()

    def y_bounds(self, log: bool = False) -> tuple[float, float] | None:
        """The least and greatest finite y (of y > 0 on a log axis), or ``None`` when there is none."""
        low = self.y_low_positive if log else self.y_low
        if not len(self) or low > self.y_high:
            return None
        return low, self.y_high

    def column(self, name: str) -> np.ndarray:
        """A view of one filled column: ``step``, ``epoch``, ``elapsed`` or ``y``."""
        return self._buf[COLUMNS.index(name), : self._n]

    def x(self, mode: str) -> np.ndarray:
        """The x values for an x-axis mode (``step``, ``epoch`` or ``elapsed``)."""
        if mode not in COLUMNS[:3]:
            raise ValueError(f"x mode must be one of {COLUMNS[:3]}, not {mode!r}")
        return self.column(mode)

    @property
    def step(self) -> np.ndarray:
        return self.column("step")

    @property
    def epoch(self) -> np.ndarray:
        return self.column("epoch")

    @property
    def elapsed(self) -> np.ndarray:
        return self.column("elapsed")

    @property
    def y(self) -> np.ndarray:
        return self.column("y")


class PeakPyramid:
    """The min and max of a growing curve over blocks of 2, 4, 8, ... points, extended as points arrive.

    A long run's million steps cannot be handed to pyqtgraph on every redraw (it reads every point to
    clip and downsample them, about 6 ms a curve). The pyramid keeps, for each block size, each
    block's min and max; :meth:`decimate` picks the block size that gives about two points per pixel
    column over the visible part and returns those peaks, so a redraw costs what the screen holds, not
    what the run holds. Nothing is dropped: the series keeps every point (exports read it); only the
    drawing is thinned, by peaks, so every spike still shows. NaN points are skipped by the min and max
    (a block of NaN only stays NaN).
    """

    def __init__(self) -> None:
        self.levels: list[tuple[GrowingArray, GrowingArray]] = []  # level k: blocks of 2 ** (k + 1) points
        self._n = 0

    def reset(self) -> None:
        self.levels.clear()
        self._n = 0

    def update(self, values: np.ndarray) -> None:
        """Take in the points of ``values`` (the whole curve so far) that arrived since the last update."""
        if values.shape[0] < self._n:  # the curve was cut back or recomputed: start over
            self.reset()
        self._n = values.shape[0]
        source_min = source_max = values
        level = 0
        while True:
            complete = source_min.shape[0] // 2
            if level == len(self.levels):
                if complete == 0:
                    return
                self.levels.append((GrowingArray(max(complete, 16)), GrowingArray(max(complete, 16))))
            lo, hi = self.levels[level]
            have = len(lo)
            if complete <= have:  # no new block here, so none above either
                return
            lo.extend(np.fmin(source_min[2 * have:2 * complete:2], source_min[2 * have + 1:2 * complete:2]))
            hi.extend(np.fmax(source_max[2 * have:2 * complete:2], source_max[2 * have + 1:2 * complete:2]))
            source_min, source_max = lo.values, hi.values
            level += 1

    def decimate(self, x: np.ndarray, y: np.ndarray, first: int, last: int,
                 columns: int) -> tuple[np.ndarray, np.ndarray]:
        """Points to draw for ``x[first:last], y[first:last]`` on ``columns`` pixel columns: the points
        themselves when there are few, else each block's min and max (at the block's first x), then the
        points after the last whole block as they are."""
        n = last - first
        columns = max(int(columns), 16)
        if n <= 4 * columns or not self.levels:
            return x[first:last], y[first:last]
        block = 2
        level = 0
        while n / block > columns and level + 1 < len(self.levels):
            block *= 2
            level += 1
        lo, hi = self.levels[level]
        b0, b1 = first // block, min(last // block, len(lo))
        lows, highs = lo.values[b0:b1], hi.values[b0:b1]
        xs = np.repeat(x[b0 * block:b1 * block:block], 2)
        ys = np.empty(2 * (b1 - b0), dtype=np.float64)
        ys[0::2], ys[1::2] = lows, highs
        tail = slice(b1 * block, last)
        return np.concatenate([xs, x[tail]]), np.concatenate([ys, y[tail]])
