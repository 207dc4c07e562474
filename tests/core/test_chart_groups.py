"""Group curves: mean and bands across runs, per step or per bin, NaN-safe."""

from __future__ import annotations

import numpy as np

from flowdeck.core.chart_groups import group_band


def test_shared_steps_give_exact_per_step_statistics():
    x = np.arange(4, dtype=float)
    a, b, c = np.array([1.0, 2, 3, 4]), np.array([3.0, 2, 1, 0]), np.array([2.0, 2, 2, 2])
    band = group_band([(x, a), (x, b), (x, c)])
    assert band.runs == 3
    np.testing.assert_allclose(band.x, x)
    np.testing.assert_allclose(band.mean, (a + b + c) / 3)
    np.testing.assert_allclose(band.low, np.minimum(np.minimum(a, b), c))
    np.testing.assert_allclose(band.high, np.maximum(np.maximum(a, b), c))
    np.testing.assert_allclose(band.std, np.std(np.vstack([a, b, c]), axis=0))


def test_a_step_logged_by_one_run_only_uses_that_run():
    band = group_band(
        [(np.array([0.0, 1.0]), np.array([1.0, 5.0])), (np.array([0.0]), np.array([3.0]))]
    )
    np.testing.assert_allclose(band.mean, [2.0, 5.0])
    np.testing.assert_allclose(band.low, [1.0, 5.0])


def test_nan_and_inf_are_left_out_not_averaged_as_numbers():
    x = np.array([0.0, 1.0, 2.0])
    band = group_band([(x, np.array([1.0, np.nan, np.inf])), (x, np.array([3.0, 4.0, 5.0]))])
    np.testing.assert_allclose(band.mean, [2.0, 4.0, 5.0])


def test_long_curves_are_binned_and_keep_their_extremes():
    x = np.arange(100_000, dtype=float)
    y = np.sin(x / 1000)
    band = group_band([(x, y), (x, -y)], bins=500)
    assert len(band.x) == 500
    assert band.high.max() <= 1.0 and band.high.max() > 0.99
    np.testing.assert_allclose(band.mean, 0.0, atol=1e-12)


def test_no_finite_values_give_an_empty_band():
    band = group_band([(np.array([0.0]), np.array([np.nan]))])
    assert band.runs == 0 and len(band.x) == 0
