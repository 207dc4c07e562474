"""Hit-testing curves drawn as one item: the nearest run's line, in pixels, gaps respected."""

from __future__ import annotations

import numpy as np

from flowdeck.core.curve_hit import nearest_curve

X = np.arange(5, dtype=np.float64)


def test_the_curve_nearest_on_screen_wins_within_the_tolerance() -> None:
    curves = [(X, X * 0.0), (X, X * 0.0 + 1.0), (X, X * 0.0 + 2.0)]
    assert nearest_curve(curves, 2.5, 0.97, (100.0, 100.0), 6.0) == 1  # 3 px away
    assert nearest_curve(curves, 2.5, 1.5, (100.0, 100.0), 6.0) is None  # 50 px from both
    assert nearest_curve(curves, 2.5, 1.5, (100.0, 1.0), 6.0) in (1, 2)  # y squashed: both near


def test_points_between_samples_hit_the_segment_not_only_its_ends() -> None:
    rising = (X, X * 10.0)
    assert nearest_curve([rising], 2.5, 25.0, (50.0, 5.0), 3.0) == 0


def test_nan_breaks_the_line_and_lone_points_still_count() -> None:
    gap = (X, np.array([0.0, 0.0, np.nan, 0.0, 0.0]))
    assert nearest_curve([gap], 2.0, 0.0, (100.0, 100.0), 6.0) is None  # nothing drawn there
    assert nearest_curve([gap], 1.0, 0.0, (100.0, 100.0), 6.0) == 0
    lone = (np.array([3.0]), np.array([4.0]))
    assert nearest_curve([gap, lone], 3.0, 4.02, (100.0, 100.0), 6.0) == 1


def test_empty_curves_and_empty_lists_hit_nothing() -> None:
    assert nearest_curve([], 0.0, 0.0, (1.0, 1.0), 6.0) is None
    assert nearest_curve([(X[:0], X[:0])], 0.0, 0.0, (1.0, 1.0), 6.0) is None
