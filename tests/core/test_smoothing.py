"""TensorBoard-style smoothing: same numbers as TensorBoard, gaps stay gaps."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowdeck.core.smoothing import ema

VALUES = st.lists(
    st.one_of(
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
        st.sampled_from([math.nan, math.inf, -math.inf]),
    ),
    max_size=200,
)
WEIGHTS = st.floats(min_value=0.0, max_value=0.999, exclude_max=False)


def tensorboard_ema(values: list[float], weight: float) -> list[float]:
    """TensorBoard's smoothing loop, with non-finite inputs giving NaN."""
    smoothed, last, seen = [], 0.0, 0
    for value in values:
        if not math.isfinite(value):
            smoothed.append(math.nan)
            continue
        last = last * weight + (1 - weight) * value
        seen += 1
        smoothed.append(last / (1 - weight**seen))
    return smoothed


@settings(max_examples=300, deadline=None)
@given(VALUES, WEIGHTS)
def test_matches_tensorboard(values, weight):
    expected = np.asarray(tensorboard_ema(values, weight), dtype=np.float64)
    scale = max((abs(v) for v in values if math.isfinite(v)), default=1.0)
    np.testing.assert_allclose(
        ema(np.asarray(values, dtype=np.float64), weight), expected, rtol=1e-9, atol=1e-9 * scale
    )


@given(VALUES)
def test_weight_zero_leaves_finite_values_alone(values):
    values = np.asarray(values, dtype=np.float64)
    smoothed = ema(values, 0.0)
    finite = np.isfinite(values)
    np.testing.assert_array_equal(smoothed[finite], values[finite])
    assert np.all(np.isnan(smoothed[~finite]))


def test_gaps_stay_gaps_and_do_not_disturb_the_average():
    values = np.array([1.0, np.nan, 3.0, np.inf, 2.0, -np.inf, 8.0])
    finite = np.isfinite(values)
    smoothed = ema(values, 0.7)
    assert np.all(np.isnan(smoothed[~finite]))
    np.testing.assert_allclose(smoothed[finite], ema(values[finite], 0.7))


def test_a_flat_curve_stays_flat_from_the_first_point():
    smoothed = ema(np.full(1_000, 3.25), 0.99)
    np.testing.assert_allclose(smoothed, 3.25)


def test_smoothing_calms_noise():
    rng = np.random.default_rng(3)
    noisy = rng.normal(size=5_000)
    assert ema(noisy, 0.9)[100:].std() < noisy.std() / 2


@pytest.mark.parametrize("weight", [-0.1, 1.0, 1.5, math.nan])
def test_weight_outside_zero_to_one_is_rejected(weight):
    with pytest.raises(ValueError):
        ema(np.arange(3.0), weight)


def test_empty_and_all_nan_inputs():
    assert ema(np.empty(0), 0.5).shape == (0,)
    assert np.all(np.isnan(ema(np.full(4, np.nan), 0.5)))
