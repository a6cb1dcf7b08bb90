"""The training chart's auto-range from what the chart already knows, in round numbers that hold still.

pyqtgraph's auto-range asks every curve for its bounds after each ``setData`` and applies the new
range while the scene prepares to paint; a range that moved then repaints the axes and every item a
second time. On a live run whose x end and y extremes moved with every report, that was two paints
per report and 14 % of a core for the window (``benchmarks/bench_gui_training.py``), which the worker
lost twice over on a two-core machine (its two threads wait for the one the window preempted).

The chart keeps each series' extremes as points arrive (:class:`ui.training.series.Series`) and knows a
live run's planned length, so :class:`FollowingViewBox` asks the chart instead of its items; the
functions here turn those extremes into a range that moves a few times a run: the x axis spans the
planned run from the start (as MATLAB's training-progress plot does) or grows to the next round
number with room to spare, and the y axis keeps its round-number range while the data stays inside
it and fills at least :data:`KEEP_FILL` of it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import pyqtgraph as pg

from ui.training.chart_run import ChartRun

Range = tuple[float, float]
Bounds = list  # [x range or None, y range or None], in the view's coordinates (log10 on a log axis)
PAD = 0.04  # of the data's span, on each side of a y range
KEEP_FILL = 0.4  # a y range stays while the data spans at least this fraction of it
GROW = 0.3  # of the data's span (or the range's, if wider): the room a new y range leaves on a side the data crossed
X_HEADROOM = 1.25  # a growing x axis (no planned end) reaches this far past the last point
_NICE = (1.0, 2.0, 2.5, 5.0, 10.0)


def nice_step(span: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least ``span`` (> 0)."""
    if not span > 0 or not math.isfinite(span):
        return 1.0
    power = 10.0 ** math.floor(math.log10(span))
    return next(m * power for m in _NICE if m * power >= span * (1 - 1e-12))


def rounded_out(low: float, high: float, ticks: int = 5) -> Range:
    """``low``..``high`` widened to multiples of a round step about a ``ticks``-th of the span."""
    step = nice_step((high - low) / ticks)
    return math.floor(low / step) * step, math.ceil(high / step) * step


def sticky_y(current: Range | None, low: float, high: float) -> Range:
    """A y range for data spanning ``low``..``high``: ``current`` while it holds the padded data and the data
    fills at least :data:`KEEP_FILL` of it, else the padded data rounded out to round numbers, with room to
    spare on a side the data crossed (a falling loss keeps falling) and never below zero for data that is not."""
    if low > high:
        low, high = high, low
    span = high - low
    if span <= 0:  # one value, or a flat curve: a band around it
        half = abs(high) * 0.1 or 0.5
        low, high, span = low - half, high + half, 2 * half
    floor = 0.0 if low >= 0 else -math.inf
    low_p, high_p = max(low - PAD * span, floor), high + PAD * span
    if current is not None:
        c0, c1 = current
        if c0 <= low_p and high_p <= c1 and span >= KEEP_FILL * (c1 - c0):
            return current
        room = GROW * max(span, c1 - c0)
        if low_p < c0 and span >= KEEP_FILL * (c1 - c0):
            low_p = max(low - room, floor)  # it left at the bottom: leave it room to go on
        if high_p > c1 and span >= KEEP_FILL * (c1 - c0):
            high_p = high + room
    return rounded_out(low_p, high_p)


def following_x(current: Range | None, first: float, last: float, planned: float | None) -> Range:
    """An x range from ``first`` to the planned end (or past ``last``, growing by round steps when nothing is
    planned), with a sliver of room on each side so the end points are not cut by the frame."""
    if planned is not None and planned >= last:
        end = planned
    elif current is not None and current[0] <= first and last <= current[1] \
            and current[1] - current[0] <= 3 * max(last - first, 1.0):
        return current  # still room ahead, and not so much that the data sits in a corner
    else:
        end = first + nice_step(X_HEADROOM * max(last - first, 1.0))
    span = max(end - first, 1e-9)
    return first - 0.01 * span, end + 0.01 * span


def loss_bounds(runs: Iterable[ChartRun], x_mode: str, log_y: bool, x_now: Range, y_now: Range) -> Bounds | None:
    """The loss plot's auto-range: x over every run given (to a live run's planned end), y over their step
    and epoch losses, each kept while the data stays comfortably inside it (``x_now``, ``y_now``: the view's
    range now)."""
    first, last, planned = math.inf, -math.inf, None
    y_low, y_high = math.inf, -math.inf
    for run in runs:
        for series in (run.steps, run.epochs.get("train/loss"), run.epochs.get("val/loss")):
            if series is None or not len(series):
                continue
            xs = series.x(x_mode)
            first, last = min(first, float(xs[0])), max(last, float(xs[-1]))
            bounds = series.y_bounds(log=log_y)
            if bounds is not None:
                y_low, y_high = min(y_low, bounds[0]), max(y_high, bounds[1])
        end = run.planned.get(x_mode)
        if end is not None:
            planned = max(planned or end, end)
    if first > last:
        return None
    if planned is not None:
        first = min(first, 0.0)
    x = following_x(x_now, first, last, planned)
    if y_low > y_high:
        return [list(x), None]
    if log_y:
        y_low, y_high = math.log10(y_low), math.log10(y_high)
    return [list(x), list(sticky_y(y_now, y_low, y_high))]


def epoch_bounds(runs: Iterable[ChartRun], y_now: Range, prefixes: tuple[str, ...], name: str | None) -> Bounds | None:
    """A lower-plot view's y auto-range over the runs' ``prefix + name`` epoch series (``y_now``: its range now)."""
    low, high = math.inf, -math.inf
    for run in runs:
        for prefix in prefixes:
            series = run.epochs.get(f"{prefix}{name}")
            bounds = series.y_bounds() if series is not None else None
            if bounds is not None:
                low, high = min(low, bounds[0]), max(high, bounds[1])
    if low > high:
        return None
    return [None, list(sticky_y(y_now, low, high))]


class FollowingViewBox(pg.ViewBox):
    """A ViewBox whose auto-range asks :attr:`hint` for the bounds instead of its items.

    ``hint`` returns ``[x range | None, y range | None]`` in view coordinates (``None`` leaves that axis where it
    is), or ``None`` for the items' own bounds. It is asked only for the whole range: a fit to the visible
    part (``setAutoVisible``, after the user zooms x) goes to pyqtgraph's own bounds of what is in view. The
    hint carries its own padding, so pyqtgraph adds none.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.hint: Callable[[], Bounds | None] | None = None
        self._hinted = False  # whether the last bounds asked for came from the hint (padded already)

    def childrenBounds(self, frac=None, orthoRange=(None, None), items=None):
        self._hinted = False
        if self.hint is not None and items is None and all(r is None for r in orthoRange):
            bounds = self.hint()
            if bounds is not None:
                self._hinted = True
                return bounds
        return super().childrenBounds(frac=frac, orthoRange=orthoRange, items=items)

    def suggestPadding(self, axis):
        return 0.0 if self._hinted else super().suggestPadding(axis)
