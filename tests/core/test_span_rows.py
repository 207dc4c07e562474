"""The rows a span tree shows (numpy, level by level) against a plain depth-first walk."""

from __future__ import annotations

import random

import numpy as np

from flowdeck.core.entities import Span
from flowdeck.core.span_rows import child_counts, row_numbers, tree_arrays, visible_rows
from flowdeck.core.trace_tree import TraceTree, build_trace_tree
from flowdeck.core.trace_view import SpanFilter, filter_keep


def random_tree(count: int, seed: int) -> TraceTree:
    rng = random.Random(seed)
    spans = []
    for index in range(count):
        parent = f"{rng.randrange(index):016x}" if index and rng.random() < 0.95 else None
        spans.append(
            Span("tr-1", f"{index:016x}", parent, f"s{index}", "CHAIN", "OK", start_time_ns=index)
        )
    spans.append(Span("tr-1", "f" * 16, "e" * 16, "cycle-a", "TOOL", "OK"))  # a cycle: detached
    spans.append(Span("tr-1", "e" * 16, "f" * 16, "cycle-b", "TOOL", "OK"))
    rng.shuffle(spans)
    return build_trace_tree(spans)


def walked(tree: TraceTree, keep: bytearray | None, expanded: set[int]) -> list[int]:
    rows: list[int] = []

    def visit(index: int) -> None:
        if keep is not None and not keep[index]:
            return
        rows.append(index)
        if index in expanded:
            for child in tree.children[index]:
                visit(child)

    for root in tree.roots:
        visit(root)
    return rows


def test_rows_match_a_depth_first_walk_for_any_expansion_and_filter() -> None:
    tree = random_tree(3_000, seed=1)
    arrays = tree_arrays(tree)
    rng = random.Random(2)
    for text in ("", "s1", "s27", "cycle"):
        keep, _ = filter_keep(tree, SpanFilter(text))
        mask = None if keep is None else np.frombuffer(bytes(keep), dtype=bool)
        for share in (0.0, 0.3, 0.9, 1.0):
            expanded = {i for i in range(len(tree)) if rng.random() < share}
            flags = np.zeros(len(tree), dtype=bool)
            flags[list(expanded)] = True
            rows = visible_rows(arrays, mask, flags)
            assert rows.tolist() == walked(tree, keep, expanded)
            numbers = row_numbers(len(tree), rows)
            assert all(numbers[span] == row for row, span in enumerate(rows.tolist()))
            assert (numbers >= 0).sum() == len(rows)
    everything = visible_rows(arrays, None, np.ones(len(tree), dtype=bool))
    assert everything.tolist() == list(tree.order) and len(everything) == len(tree)


def test_child_counts_follow_the_filter() -> None:
    tree = random_tree(500, seed=3)
    arrays = tree_arrays(tree)
    assert child_counts(arrays, None).tolist() == [len(kids) for kids in tree.children]
    keep, _ = filter_keep(tree, SpanFilter("s4"))
    mask = np.frombuffer(bytes(keep), dtype=bool)
    expected = [sum(keep[c] for c in kids) for kids in tree.children]
    assert child_counts(arrays, mask).tolist() == expected


def test_an_empty_tree_has_no_rows() -> None:
    arrays = tree_arrays(build_trace_tree(()))
    assert visible_rows(arrays, None, np.zeros(0, dtype=bool)).tolist() == []
