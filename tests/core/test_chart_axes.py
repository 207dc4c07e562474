"""X values per axis mode, the outlier-proof y range and log-axis gaps."""

from __future__ import annotations

import numpy as np
import pytest

from flowdeck.core.chart_axes import curve_xy, log_safe, robust_range
from flowdeck.store.base import HISTORY_DTYPE


def history(rows: list[tuple[int, int, float]]) -> np.ndarray:
    return np.array(rows, dtype=HISTORY_DTYPE)


LOSS = history(
    [(0, 1_700_000_000_000, 2.0), (1, 1_700_000_001_500, 1.5), (2, 1_700_000_004_000, 1.0)]
)


def test_step_mode_plots_against_step():
    x, y = curve_xy(LOSS, "step")
    np.testing.assert_array_equal(x, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(y, LOSS["value"])
    assert x.dtype == np.float64


def test_wall_mode_is_seconds_since_the_epoch():
    x, _ = curve_xy(LOSS, "wall")
    np.testing.assert_allclose(x, [1_700_000_000.0, 1_700_000_001.5, 1_700_000_004.0])


def test_relative_mode_counts_from_the_first_point_or_the_run_start():
    x, _ = curve_xy(LOSS, "relative")
    np.testing.assert_allclose(x, [0.0, 1.5, 4.0])
    x, _ = curve_xy(LOSS, "relative", start_ms=1_699_999_999_000)
    np.testing.assert_allclose(x, [1.0, 2.5, 5.0])


def test_metric_mode_joins_on_step_with_the_last_value_winning():
    loss = history([(0, 1, 4.0), (1, 2, 3.0), (2, 3, 2.0), (3, 4, 1.0), (3, 5, 0.5)])
    lr = history([(0, 1, 0.3), (1, 2, 0.1), (1, 3, 0.2), (3, 4, 0.05)])  # no step 2
    x, y = curve_xy(loss, "metric", other=lr)
    np.testing.assert_allclose(x, [0.05, 0.05, 0.2, 0.3])
    np.testing.assert_allclose(y, [1.0, 0.5, 3.0, 4.0])


def test_metric_mode_does_not_rely_on_the_x_metric_being_sorted():
    loss = history([(0, 1, 4.0), (1, 2, 3.0), (2, 3, 2.0)])
    tokens = history([(2, 9, 300.0), (0, 1, 100.0), (1, 2, 150.0), (0, 5, 120.0)])
    x, y = curve_xy(loss, "metric", other=tokens)
    np.testing.assert_array_equal(x, [120.0, 150.0, 300.0])
    np.testing.assert_array_equal(y, [4.0, 3.0, 2.0])


def test_metric_mode_drops_points_whose_x_is_not_finite():
    loss = history([(0, 1, 4.0), (1, 2, 3.0), (2, 3, 2.0)])
    other = history([(0, 1, np.nan), (1, 2, 7.0), (2, 3, np.inf)])
    x, y = curve_xy(loss, "metric", other=other)
    np.testing.assert_array_equal(x, [7.0])
    np.testing.assert_array_equal(y, [3.0])


def test_metric_mode_with_an_empty_x_metric_plots_nothing():
    x, y = curve_xy(LOSS, "metric", other=history([]))
    assert len(x) == len(y) == 0


@pytest.mark.parametrize("mode", ["step", "wall", "relative"])
def test_empty_history_gives_empty_curves(mode):
    x, y = curve_xy(history([]), mode)
    assert len(x) == len(y) == 0


def test_metric_mode_without_x_metric_and_unknown_modes_are_rejected():
    with pytest.raises(ValueError):
        curve_xy(LOSS, "metric")
    with pytest.raises(ValueError):
        curve_xy(LOSS, "epoch")


def test_robust_range_ignores_a_wild_outlier_and_pads():
    bulk = np.arange(1001.0)
    low, high = robust_range([bulk, np.array([1e9, np.nan, -np.inf])], log=False)
    assert high < 2_000
    percentile_low, percentile_high = np.percentile(np.r_[bulk, 1e9], [0.5, 99.5])
    span = percentile_high - percentile_low
    assert low == pytest.approx(percentile_low - 0.05 * span)
    assert high == pytest.approx(percentile_high + 0.05 * span)


def test_robust_range_on_log_axis_uses_positive_values_and_stays_positive():
    low, high = robust_range([np.array([-5.0, 0.0, 1.0, 10.0, 100.0])], log=True)
    assert 0 < low < 1.0 and 100.0 < high < 1_000.0
    assert np.log10(high) - 2.0 == pytest.approx(0.0 - np.log10(low), rel=1e-6)


def test_robust_range_of_a_flat_curve_is_not_empty():
    low, high = robust_range([np.full(10, 3.0)], log=False)
    assert low < 3.0 < high
    low, high = robust_range([np.zeros(10)], log=False)
    assert low < 0.0 < high
    low, high = robust_range([np.full(10, 3.0)], log=True)
    assert 0 < low < 3.0 < high


def test_robust_range_without_usable_values_is_none():
    assert robust_range([], log=False) is None
    assert robust_range([np.array([np.nan, np.inf])], log=False) is None
    assert robust_range([np.array([-1.0, 0.0])], log=True) is None


def test_log_safe_turns_non_positive_values_into_gaps():
    y = np.array([2.0, 0.0, -1.0, np.nan, 1e-300])
    safe = log_safe(y)
    np.testing.assert_array_equal(np.isnan(safe), [False, True, True, True, False])
    np.testing.assert_array_equal(safe[[0, 4]], y[[0, 4]])
    assert y[1] == 0.0  # the input is not modified
