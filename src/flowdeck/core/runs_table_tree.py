"""Nested-run trees and groups over runs-table rows: parent links, sibling order, group stats."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flowdeck.core.runs_table_format import format_numbers

NO_PARENT = -1


def parent_links(run_ids: list[str], parent_ids: list[str | None]) -> np.ndarray:
    """Parent row of every row (-1 for a root); unknown parents, self-links and cycles cut."""
    position = {run_id: row for row, run_id in enumerate(run_ids)}
    parent = np.fromiter(
        (position.get(p, NO_PARENT) if p else NO_PARENT for p in parent_ids),
        dtype=np.int64,
        count=len(run_ids),
    )
    rows = np.arange(len(parent))
    parent[parent == rows] = NO_PARENT
    for start in np.flatnonzero(_non_terminating(parent)):
        seen: set[int] = set()
        node = int(start)
        while node != NO_PARENT and node not in seen:
            seen.add(node)
            node = int(parent[node])
        if node != NO_PARENT:
            parent[node] = NO_PARENT  # cut the cycle where the walk closed it
    return parent


def _non_terminating(parent: np.ndarray) -> np.ndarray:
    """Rows whose chain of parents never reaches a root (they sit on or below a cycle)."""
    jump = parent.copy()
    steps = max(1, int(np.ceil(np.log2(max(len(parent), 2)))) + 1)
    for _ in range(steps):
        has = jump >= 0
        jump[has] = jump[jump[has]]
    return jump >= 0


def with_ancestors(parent: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``mask`` plus every ancestor of a row in it (so a matching child keeps its parents)."""
    out = mask.copy()
    frontier = parent[mask]
    while True:
        frontier = frontier[frontier >= 0]
        frontier = frontier[~out[frontier]]
        if len(frontier) == 0:
            return out
        out[frontier] = True
        frontier = parent[frontier]


@dataclass(frozen=True)
class RunTree:
    """Shown rows arranged as a forest; siblings keep the order they were given in."""

    parent: np.ndarray  # parent row per table row (-1: a root, or not shown)
    roots: np.ndarray
    children: dict[int, np.ndarray]
    row_in_parent: np.ndarray  # index among siblings per table row, -1 when not shown

    def children_of(self, row: int) -> np.ndarray:
        return self.children.get(row, _EMPTY)

    def parent_of(self, row: int) -> int:
        return int(self.parent[row])

    def depth_of(self, row: int) -> int:
        depth = 0
        while (row := int(self.parent[row])) != NO_PARENT:
            depth += 1
        return depth


_EMPTY = np.zeros(0, dtype=np.int64)


def _ends(starts: np.ndarray, total: int) -> np.ndarray:
    """Where each run that begins at ``starts`` ends (exclusive)."""
    return np.r_[starts[1:], total].astype(np.int64) if len(starts) else _EMPTY


def build_tree(parent: np.ndarray, order: np.ndarray, nested: bool = True) -> RunTree:
    """Arrange ``order`` (the shown rows, sorted) as a tree; with ``nested=False`` all are roots.

    Every parent of a shown row must be shown too (see ``with_ancestors``).
    """
    n = len(parent)
    order = np.asarray(order, dtype=np.int64)
    shown_parent = np.full(n, NO_PARENT, dtype=np.int64)
    if nested:
        shown_parent[order] = parent[order]
    by_parent = np.argsort(shown_parent[order], kind="stable")
    rows = order[by_parent]
    parents = shown_parent[rows]
    starts = np.flatnonzero(np.r_[True, parents[1:] != parents[:-1]]) if len(rows) else _EMPTY
    row_in_parent = np.full(n, -1, dtype=np.int64)
    ends = _ends(starts, len(rows))
    group_start = np.repeat(starts, ends - starts)
    row_in_parent[rows] = np.arange(len(rows)) - group_start
    children: dict[int, np.ndarray] = {}
    roots = _EMPTY
    for begin, end in zip(starts.tolist(), ends.tolist(), strict=True):
        owner = int(parents[begin])
        if owner == NO_PARENT:
            roots = rows[begin:end]
        else:
            children[owner] = rows[begin:end]
    return RunTree(shown_parent, roots, children, row_in_parent)


@dataclass(slots=True)
class RunGroup:
    """Rows that share one value of a column, with stats of a chosen metric."""

    key: str | None  # the shown value; None for rows where the column is missing
    label: str  # key, or '(none)'
    rows: np.ndarray
    count: int
    mean: float
    min: float
    max: float
    mean_text: str
    min_text: str
    max_text: str


def make_groups(
    rank: np.ndarray,
    present: np.ndarray,
    display: list[str],
    order: np.ndarray,
    metric: np.ndarray | None,
) -> list[RunGroup]:
    """Group ``order`` by equal ``rank`` (groups in rank order, missing last; members in order)."""
    order = np.asarray(order, dtype=np.int64)
    by_rank = np.argsort(rank[order], kind="stable")
    rows = order[by_rank]
    ranks = rank[rows]
    starts = np.flatnonzero(np.r_[True, ranks[1:] != ranks[:-1]]) if len(rows) else _EMPTY
    ends = _ends(starts, len(rows))
    n_groups = len(starts)
    if metric is not None:
        means, mins, maxs, counts = _group_stats(metric[rows], starts)
        has = counts > 0
        texts = [format_numbers(a, has) for a in (means, mins, maxs)]
        numbers = [np.where(has, a, np.nan).tolist() for a in (means, mins, maxs)]
    else:
        texts = [[""] * n_groups] * 3
        numbers = [[np.nan] * n_groups] * 3
    firsts = rows[starts].tolist()
    groups = []
    for index, (begin, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        first = firsts[index]
        key = display[first] if present[first] else None
        groups.append(
            RunGroup(
                key,
                "(none)" if key is None else key,
                rows[begin:end],
                end - begin,
                numbers[0][index],
                numbers[1][index],
                numbers[2][index],
                texts[0][index],
                texts[1][index],
                texts[2][index],
            )
        )
    return groups


def _group_stats(
    values: np.ndarray, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per group (contiguous from each start): mean, min, max ignoring NaN, and value count."""
    if len(values) == 0:
        empty = np.zeros(0)
        return empty, empty, empty, empty
    valid = ~np.isnan(values)
    counts = np.add.reduceat(valid.astype(np.int64), starts)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        sums = np.add.reduceat(np.where(valid, values, 0.0), starts)
        means = sums / counts
    mins = np.minimum.reduceat(np.where(valid, values, np.inf), starts)
    maxs = np.maximum.reduceat(np.where(valid, values, -np.inf), starts)
    return means, mins, maxs, counts
