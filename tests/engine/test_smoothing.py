"""TensorBoard's debiased EMA: the vectorised form against the formula written as a loop."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from netbuilder.training.smoothing import EmaState, debiased_ema


def tensorboard_loop(values: list[float], weight: float) -> np.ndarray:
    """TensorBoard's resmoothDataset, line by line (vz_line_chart2/line-chart.ts)."""
    is_constant = all(v == values[0] for v in values)
    last, num_accum, out = 0.0, 0, []
    for next_val in values:
        if is_constant or not math.isfinite(next_val):
            out.append(next_val)
            continue
        last = last * weight + (1 - weight) * next_val
        num_accum += 1
        out.append(last / (1 - weight**num_accum))
    return np.array(out, dtype=np.float64)


def assert_same(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got) * np.sign(got), np.isinf(want) * np.sign(want))
    finite = np.isfinite(want)
    # Not bit-equal: near w = 1 the first points divide by 1 - w**n ~ 1e-5, which costs the loop
    # itself ~1e-11 of relative rounding; the two differ by about that.
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-10, atol=1e-12 * np.abs(want[finite]).max())


KNOWN = [1.0, 3.0, float("nan"), 2.0, 8.0, float("inf"), -4.0, 0.5, float("nan"), 6.0, 7.0, -float("inf"), 2.0]


@pytest.mark.parametrize("weight", [0.0, 0.1, 0.6, 0.9, 0.99, 0.999])
def test_a_known_series_with_nans_matches_the_loop(weight: float) -> None:
    assert_same(debiased_ema(KNOWN, weight), tensorboard_loop(KNOWN, weight))


def test_hand_worked_values() -> None:
    # w = 0.5: last = 0.5, 1.75, (nan skipped), 1.875; debias by 0.5, 0.75, 0.875.
    got = debiased_ema([1.0, 3.0, float("nan"), 2.0], 0.5)
    np.testing.assert_allclose(got[[0, 1, 3]], [1.0, 1.75 / 0.75, 1.875 / 0.875])
    assert math.isnan(got[2])


@pytest.mark.parametrize("weight", [1e-12, 0.3, 0.6, 0.95, 0.999, 0.99999])
@pytest.mark.parametrize("n", [1, 2, 3, 137, 5000, 40000])
def test_random_walks_match_the_loop(weight: float, n: int) -> None:
    rng = np.random.default_rng(n)
    values = rng.normal(size=n).cumsum() * 10 + 1e3 * rng.normal()
    values[rng.random(n) < 0.05] = np.nan
    assert_same(debiased_ema(values, weight), tensorboard_loop(values.tolist(), weight))


def test_first_point_is_the_first_value_as_tensorboard_shows_it() -> None:
    # Debiasing is why TensorBoard's smoothed line starts on the first point, not near 0.
    for weight in (0.6, 0.9, 0.999):
        got = debiased_ema([5.0, 1.0, 2.0], weight)
        assert got[0] == pytest.approx(5.0, rel=1e-14)
        # A leading nan is kept, and the first finite point takes its place as the start.
        got = debiased_ema([float("nan"), 5.0, 1.0], weight)
        assert math.isnan(got[0]) and got[1] == pytest.approx(5.0, rel=1e-14)


def test_weight_zero_returns_the_values() -> None:
    values = np.array([3.0, np.nan, -1.0, np.inf, 0.25])
    got = debiased_ema(values, 0.0)
    np.testing.assert_array_equal(got, values)
    assert got is not values


def test_a_flat_line_stays_exactly_flat() -> None:
    # TensorBoard #786: rounding in the debiasing must not make a constant curve wiggle.
    values = [0.1] * 1000
    np.testing.assert_array_equal(debiased_ema(values, 0.9), values)


def test_the_input_is_not_changed() -> None:
    values = np.array([1.0, np.nan, 2.0, 4.0])
    before = values.copy()
    debiased_ema(values, 0.6)
    np.testing.assert_array_equal(values, before)


def test_all_nan_and_empty() -> None:
    assert debiased_ema([], 0.6).shape == (0,)
    assert np.isnan(debiased_ema([np.nan, np.nan], 0.6)).all()


@pytest.mark.parametrize("weight", [1.0, 1.5, -0.1, float("nan")])
def test_weights_outside_0_1_are_refused(weight: float) -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        debiased_ema([1.0, 2.0], weight)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        EmaState(weight)


@pytest.mark.parametrize("weight", [0.0, 0.6, 0.99])
def test_extending_equals_smoothing_the_whole(weight: float) -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(size=3000).cumsum()
    values[[0, 10, 11, 500, 2999]] = np.nan
    state, parts, i = EmaState(weight), [], 0
    while i < len(values):
        step = int(rng.integers(1, 300))
        parts.append(state.extend(values[i:i + step]))
        i += step
    parts.append(state.extend([]))
    assert_same(np.concatenate(parts), tensorboard_loop(values.tolist(), weight))
    assert state.count == int(np.isfinite(values).sum())


def test_extending_a_flat_start_keeps_it_as_it_was() -> None:
    state = EmaState(0.9)
    np.testing.assert_array_equal(state.extend([2.0, 2.0]), [2.0, 2.0])
    got = state.extend([4.0])
    # From the true running average: last = 2 * (1 - 0.9**2) * 0.9 + 0.1 * 4, over 1 - 0.9**3.
    assert got[0] == pytest.approx((2 * (1 - 0.81) * 0.9 + 0.4) / (1 - 0.729))


def test_a_million_points_fit_a_redraw() -> None:
    values = np.random.default_rng(0).normal(size=1_000_000)
    debiased_ema(values, 0.6)
    best = min(_timed(debiased_ema, values, 0.6) for _ in range(3))
    # Measured 17-18 ms on the shared 2-core machine; the loop takes 0.4 s. Generous for a loaded CI.
    assert best < 0.25, f"smoothing 1e6 points took {best * 1000:.0f} ms"


def _timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t
