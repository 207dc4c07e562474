"""Metric names grouped into chart sections by prefix, in natural order."""

from __future__ import annotations

from flowdeck.core.chart_sections import metric_sections


def test_sections_by_prefix_with_unprefixed_first():
    sections = metric_sections(["train/loss", "val/loss", "loss", "train/acc", "lr"])
    assert sections == [
        ("", ["loss", "lr"]),
        ("train", ["train/acc", "train/loss"]),
        ("val", ["val/loss"]),
    ]


def test_nested_names_group_by_everything_before_the_last_slash():
    sections = metric_sections(["a/b/c", "a/d", "a/b/e"])
    assert sections == [("a", ["a/d"]), ("a/b", ["a/b/c", "a/b/e"])]


def test_numbers_sort_by_value():
    keys = ["grad/layer10", "grad/layer2", "grad/layer1", "block10/x", "block9/x"]
    sections = metric_sections(keys)
    assert sections == [
        ("block9", ["block9/x"]),
        ("block10", ["block10/x"]),
        ("grad", ["grad/layer1", "grad/layer2", "grad/layer10"]),
    ]


def test_case_does_not_split_the_order_and_repeats_collapse():
    sections = metric_sections(["Loss", "acc", "loss", "acc"])
    assert sections == [("", ["acc", "Loss", "loss"])]


def test_no_metrics_no_sections():
    assert metric_sections([]) == []
