"""Min/max decimation keeps every spike, every NaN gap and the lines to the plot's edges."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowdeck.core.decimate import decimate_minmax, nonfinite_points

Y_VALUES = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.sampled_from([np.nan, np.inf, -np.inf, 0.0]),
)


@st.composite
def curves_and_views(draw):
    """A sorted x with repeats, y with NaN/±inf, a view range around or inside it, a width."""
    steps = draw(st.lists(st.integers(min_value=0, max_value=3), min_size=0, max_size=300))
    x = np.cumsum(np.asarray(steps, dtype=np.float64))
    y = np.asarray(draw(st.lists(Y_VALUES, min_size=len(x), max_size=len(x))), dtype=np.float64)
    top = float(x[-1]) if len(x) else 0.0
    bounds = st.floats(min_value=-10.0, max_value=top + 10.0, allow_nan=False)
    x_min, x_max = sorted((draw(bounds), draw(bounds)))
    columns = draw(st.integers(min_value=1, max_value=40))
    return x, y, x_min, x_max, columns


def kept_slice(x: np.ndarray, x_min: float, x_max: float) -> slice:
    inside_start = np.searchsorted(x, x_min, side="left")
    inside_stop = np.searchsorted(x, x_max, side="right")
    return slice(max(inside_start - 1, 0), min(inside_stop + 1, len(x)))


def buckets(x: np.ndarray, x_min: float, x_max: float, columns: int) -> list[np.ndarray]:
    """Boolean masks over x, one per equal-width bucket of [x_min, x_max]."""
    edges = np.linspace(x_min, x_max, columns + 1)
    masks = [(x >= edges[k]) & (x < edges[k + 1]) for k in range(columns)]
    masks[-1] = (x >= edges[-2]) & (x <= x_max)
    return masks


def contains_point(out_x, out_y, in_bucket, value) -> bool:
    same_value = np.isnan(out_y) if np.isnan(value) else out_y == value
    return bool(np.any(in_bucket(out_x) & same_value))


@settings(max_examples=300, deadline=None)
@given(curves_and_views())
def test_decimation_keeps_extremes_gaps_and_order(case):
    x, y, x_min, x_max, columns = case
    out_x, out_y = decimate_minmax(x, y, x_min, x_max, columns)
    kept = kept_slice(x, x_min, x_max)

    # every output point is an input point of the kept slice, in input order
    input_points = set(
        zip(x[kept].tolist(), np.nan_to_num(y[kept], nan=7.5e300).tolist(), strict=True)
    )
    assert (
        set(zip(out_x.tolist(), np.nan_to_num(out_y, nan=7.5e300).tolist(), strict=True))
        <= input_points
    )
    assert np.all(np.diff(out_x) >= 0)

    if len(x[kept]) <= 2 * columns:
        np.testing.assert_array_equal(out_x, x[kept])
        np.testing.assert_array_equal(out_y, y[kept])
        return

    # the points just beyond the view are kept, so lines run to the plot's edges
    if kept.start < np.searchsorted(x, x_min, side="left"):
        assert out_x[0] == x[kept.start]
    if kept.stop > np.searchsorted(x, x_max, side="right"):
        assert out_x[-1] == x[kept.stop - 1]

    nan_buckets = 0
    edges = np.linspace(x_min, x_max, columns + 1)
    for k, mask in enumerate(buckets(x, x_min, x_max, columns)):
        low, high = edges[k], edges[k + 1]
        last = k == columns - 1

        def in_bucket(values, low=low, high=high, last=last):
            return (values >= low) & ((values <= high) if last else (values < high))

        bucket_y = y[mask]
        finite = bucket_y[np.isfinite(bucket_y)]
        if finite.size:
            assert contains_point(out_x, out_y, in_bucket, finite.min())
            assert contains_point(out_x, out_y, in_bucket, finite.max())
        if np.isnan(bucket_y).any():
            nan_buckets += 1
            assert contains_point(out_x, out_y, in_bucket, np.nan)
    assert len(out_x) <= 2 * columns + nan_buckets + 2


@settings(max_examples=100, deadline=None)
@given(curves_and_views())
def test_without_nan_output_fits_two_points_per_column(case):
    x, y, x_min, x_max, columns = case
    y = np.nan_to_num(y, nan=1.0, posinf=np.inf, neginf=-np.inf)
    out_x, _ = decimate_minmax(x, y, x_min, x_max, columns)
    assert len(out_x) <= 2 * columns + 2


def test_a_single_spike_and_dip_in_a_million_points_survive():
    rng = np.random.default_rng(7)
    x = np.arange(1_000_000, dtype=np.float64)
    y = rng.normal(size=x.size)
    spike, dip = rng.choice(x.size, size=2, replace=False)
    y[spike], y[dip] = 1e6, -1e6
    out_x, out_y = decimate_minmax(x, y, 0, x[-1], 800)
    assert len(out_x) <= 2 * 800 + 2
    assert (x[spike], 1e6) in set(zip(out_x, out_y, strict=True))
    assert (x[dip], -1e6) in set(zip(out_x, out_y, strict=True))


def test_nan_run_becomes_a_gap_not_a_zero():
    x = np.arange(10_000, dtype=np.float64)
    y = np.full(x.size, 5.0)
    y[4_000:4_500] = np.nan
    out_x, out_y = decimate_minmax(x, y, 0, x[-1], 100)
    assert np.isnan(out_y).any()
    assert set(out_y[np.isfinite(out_y)]) == {5.0}
    gap_x = out_x[np.isnan(out_y)]
    assert np.all((gap_x >= 4_000) & (gap_x < 4_500))


def test_infinities_are_not_extremes():
    x = np.arange(10_000, dtype=np.float64)
    y = np.sin(x / 100)
    y[[10, 5_000]] = np.inf
    y[[20, 7_000]] = -np.inf
    _, out_y = decimate_minmax(x, y, 0, x[-1], 50)
    assert np.all(np.isfinite(out_y))
    assert out_y.max() == y[np.isfinite(y)].max()


def test_zoomed_view_keeps_one_point_beyond_each_edge():
    x = np.arange(100_000, dtype=np.float64) * 0.5
    y = np.cos(x)
    out_x, _ = decimate_minmax(x, y, 1_000.2, 2_000.2, 100)
    assert out_x[0] == 1_000.0 and out_x[-1] == 2_000.5
    assert np.all(out_x[1:-1] >= 1_000.2) and np.all(out_x[1:-1] <= 2_000.2)


def test_zooming_in_far_enough_returns_the_raw_points():
    x = np.arange(1_000, dtype=np.float64)
    y = np.tan(x)
    out_x, out_y = decimate_minmax(x, y, 100.5, 110.5, 400)
    np.testing.assert_array_equal(out_x, x[100:112])
    np.testing.assert_array_equal(out_y, y[100:112])


def test_infinite_bounds_mean_the_whole_curve():
    x = np.linspace(-50, 50, 5_000)
    y = x**2
    whole = decimate_minmax(x, y, -np.inf, np.inf, 100)
    assert whole[0][0] == -50 and whole[0][-1] == 50
    assert whole[1].max() == 2_500 and whole[1].min() == y.min()


def test_a_view_beside_the_data_keeps_the_nearest_point():
    x = np.arange(10, dtype=np.float64)
    out_x, _ = decimate_minmax(x, x * 2, 20, 30, 5)
    np.testing.assert_array_equal(out_x, [9.0])


def test_swapped_bounds_act_like_ordered_ones():
    x = np.arange(5_000, dtype=np.float64)
    y = np.sqrt(x)
    ordered = decimate_minmax(x, y, 100, 4_000, 60)
    swapped = decimate_minmax(x, y, 4_000, 100, 60)
    np.testing.assert_array_equal(ordered[0], swapped[0])


@pytest.mark.parametrize(
    ("x", "y", "x_min", "x_max", "columns"),
    [
        (np.arange(3.0), np.arange(3.0), 0, 2, 0),
        (np.arange(3.0), np.arange(2.0), 0, 2, 10),
        (np.arange(3.0), np.arange(3.0), np.nan, 2, 10),
    ],
)
def test_bad_arguments_are_rejected(x, y, x_min, x_max, columns):
    with pytest.raises(ValueError):
        decimate_minmax(x, y, x_min, x_max, columns)


def test_nonfinite_points_are_reported_by_kind():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    y = np.array([1.0, np.inf, np.nan, -np.inf, np.inf, 2.0])
    points = nonfinite_points(x, y)
    np.testing.assert_array_equal(points["+inf"][0], [1.0, 4.0])
    np.testing.assert_array_equal(points["+inf"][1], [1, 4])
    np.testing.assert_array_equal(points["-inf"][0], [3.0])
    np.testing.assert_array_equal(points["nan"][0], [2.0])
    assert all(len(xs) == 0 for xs, _ in nonfinite_points(x, np.ones(6)).values())
