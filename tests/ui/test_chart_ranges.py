"""The live chart's own auto-range: every point in view, and axes that hold still while a run trains."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from ui.training import chart as chart_module
from ui.training.chart import TrainingChart
from ui.training.chart_ranges import following_x, nice_step, rounded_out, sticky_y


def test_round_steps() -> None:
    assert [nice_step(s) for s in (0.7, 1.0, 1.3, 2.2, 3.0, 7.0, 0.013)] == pytest.approx(
        [1.0, 1.0, 2.0, 2.5, 5.0, 10.0, 0.02])
    assert rounded_out(0.03, 2.31) == pytest.approx((0.0, 2.5))


def test_a_y_range_holds_while_the_data_stays_inside_and_fills_it() -> None:
    first = sticky_y(None, 0.2, 2.3)
    assert first[0] <= 0.2 and first[1] >= 2.3
    assert sticky_y(first, 0.1, 2.3) == first  # the loss fell a little: nothing moves
    assert sticky_y(first, 0.2, 9.0) != first  # a spike above: the range grows to hold it
    grown = sticky_y(first, 0.2, 9.0)
    assert grown[1] >= 9.0
    assert sticky_y(grown, 1.0, 1.2)[1] < 3  # the data shrank to a sliver: the range follows it down


def test_x_spans_the_planned_run_or_grows_in_round_steps() -> None:
    low, high = following_x(None, 0.0, 37.0, planned=900.0)
    assert low < 0 < 900 < high < 950
    grown = following_x(None, 0.0, 37.0, planned=None)
    assert 37 < grown[1] <= 100
    assert following_x(grown, 0.0, 41.0, planned=None) == grown  # still room ahead
    assert following_x(grown, 0.0, grown[1] + 1, planned=None)[1] > grown[1]


@pytest.fixture
def chart(qtbot):
    widget = TrainingChart()
    qtbot.addWidget(widget)
    widget.resize(1000, 500)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def feed(chart: TrainingChart, key, start: int, losses: np.ndarray) -> None:
    chart.append_steps(key, start, losses, (start + np.arange(1, len(losses) + 1)) / 45, start / 100)


def view(chart: TrainingChart):
    chart.redraw()
    chart.loss_plot.vb.updateAutoRange()
    return tuple(tuple(r) for r in chart.loss_plot.vb.viewRange())


def test_a_live_run_keeps_every_point_in_view_and_its_axes_still(chart) -> None:
    """While a run with a planned length trains, the x axis spans the whole run from the first report and
    the y axis changes only a few times: the axes (and the paint they cost) hold still, every point in view."""
    chart.add_run(1, "run 1")
    chart.set_planned(1, steps=2000, epochs=44)
    rng = np.random.default_rng(3)
    ranges = []
    for k in range(100):
        losses = 2.3 * np.exp(-(20 * k + np.arange(20)) / 400) + rng.uniform(0, 0.3, 20)
        if k == 60:
            losses[5] = 7.5  # one spike: the y axis must make room for it
        feed(chart, 1, 20 * k, losses)
        (x0, x1), (y0, y1) = view(chart)
        ys = chart._runs[1].steps.y
        assert x0 <= 0 and x1 >= 2000, "the x axis spans the planned run"
        assert y0 <= ys.min() and ys.max() <= y1, f"a point out of view after report {k}"
        ranges.append(((x0, x1), (y0, y1)))
    assert len({r[0] for r in ranges}) == 1  # x never moved
    # y moved a handful of times in 100 reports (the fast early fall, the spike), not on each one
    assert len({r[1] for r in ranges}) <= 8


def test_the_log_axis_range_is_in_decades_and_holds_the_positive_points(chart) -> None:
    chart.add_run(1, "run 1")
    feed(chart, 1, 0, np.array([5.0, 1.0, 0.2, 0.0, np.nan, 0.01]))
    chart.set_log_y(True)
    _, (y0, y1) = view(chart)
    assert y0 <= math.log10(0.01) and math.log10(5.0) <= y1 < 2  # decades, zero and NaN left out


def test_hiding_a_run_fits_the_axes_to_the_runs_still_shown(chart, qtbot) -> None:
    chart.add_run(1, "small", live=False)
    chart.add_run(2, "large", live=False)
    feed(chart, 1, 0, np.linspace(1.0, 0.5, 100))
    feed(chart, 2, 0, np.linspace(40.0, 20.0, 3000))
    (_, x1), (_, y1) = view(chart)
    assert x1 >= 3000 and y1 >= 40
    chart.set_run_visible(2, False)
    (_, x1), (_, y1) = view(chart)
    assert x1 < 300 and y1 < 2


def test_a_costly_frame_makes_the_next_wait_but_new_points_still_show(chart, qtbot, monkeypatch) -> None:
    """The frame budget: after a frame that cost more than its share of the window's time the chart waits
    before the next, yet what arrived meanwhile is drawn within MAX_FRAME_GAP_S."""
    chart.add_run(1, "run 1")

    def drawn() -> int:
        x = chart._runs[1].curves["raw"].getOriginalDataset()[0]
        return 0 if x is None else len(x)

    feed(chart, 1, 0, np.ones(10))
    qtbot.waitUntil(lambda: drawn() == 10, timeout=1000)
    monkeypatch.setattr(chart_module, "FRAME_BUDGET", 1e-5)  # any frame is too costly: the longest wait
    feed(chart, 1, 10, np.ones(10))
    qtbot.waitUntil(lambda: drawn() == 20, timeout=1000)
    drawn_at = time.perf_counter()
    feed(chart, 1, 20, np.ones(10))
    qtbot.wait(int(1000 / chart_module.REDRAW_HZ) * 4)  # four ticks: the budget holds the next frame back
    assert drawn() == 20
    qtbot.waitUntil(lambda: drawn() == 30,
                    timeout=int(1000 * chart_module.MAX_FRAME_GAP_S) + 500)
    assert time.perf_counter() - drawn_at <= chart_module.MAX_FRAME_GAP_S + 0.3
