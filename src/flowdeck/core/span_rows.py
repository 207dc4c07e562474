"""The rows a span tree shows: the depth-first order of the spans whose ancestors are expanded.

A flat list of rows (instead of a Qt tree) lets a 100,000-span trace expand in a few ms: the
rows are recomputed with numpy, level by level, and the view lays out nothing per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flowdeck.core.trace_tree import TraceTree

Mask = np.ndarray  # bool, one entry a span


@dataclass(frozen=True)
class TreeArrays:
    """A trace tree's structure as numpy arrays (built on a worker with the tree)."""

    parent: np.ndarray  # int64, -1 for a root
    depth: np.ndarray  # int64
    order: np.ndarray  # int64: span indices depth-first, parents first
    levels: tuple[np.ndarray, ...]  # levels[d]: the spans at depth d + 1 (the non-roots)

    def __len__(self) -> int:
        return len(self.parent)


def tree_arrays(tree: TraceTree) -> TreeArrays:
    parent = np.asarray(tree.parent, dtype=np.int64)
    depth = np.asarray(tree.depth, dtype=np.int64)
    order = np.asarray(tree.order, dtype=np.int64)
    by_depth = np.argsort(depth, kind="stable")
    bounds = np.searchsorted(depth[by_depth], np.arange(1, int(depth.max(initial=0)) + 2))
    levels = tuple(by_depth[bounds[i] : bounds[i + 1]] for i in range(len(bounds) - 1))
    return TreeArrays(parent, depth, order, levels)


def child_counts(arrays: TreeArrays, keep: Mask | None) -> np.ndarray:
    """How many (kept) children each span has."""
    parent = arrays.parent
    shown = parent >= 0 if keep is None else (parent >= 0) & keep
    return np.bincount(parent[shown], minlength=len(arrays)).astype(np.int64)


def shown_spans(arrays: TreeArrays, keep: Mask | None, expanded: Mask) -> Mask:
    """Which spans show: kept, with every ancestor kept and expanded."""
    shown = np.ones(len(arrays), dtype=bool) if keep is None else keep.copy()
    opened = shown & expanded
    for level in arrays.levels:  # parents first: one numpy step per depth
        parents = arrays.parent[level]
        shown[level] &= opened[parents]
        opened[level] = shown[level] & expanded[level]
    return shown


def visible_rows(arrays: TreeArrays, keep: Mask | None, expanded: Mask) -> np.ndarray:
    """Span index of each row (depth-first), for this filter and these expanded spans."""
    order = arrays.order
    return order[shown_spans(arrays, keep, expanded)[order]]


def row_numbers(count: int, rows: np.ndarray) -> np.ndarray:
    """Each span's row (-1 when it is not shown)."""
    found = np.full(count, -1, dtype=np.int64)
    found[rows] = np.arange(len(rows), dtype=np.int64)
    return found
