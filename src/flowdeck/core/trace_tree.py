"""Parent→children tree of a trace's spans, with depth and timeline offsets (iterative)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flowdeck.core.entities import Span


@dataclass(frozen=True)
class TraceTree:
    """Spans of one trace arranged as a tree; every list is indexed by position in ``spans``.

    ``order`` lists span indices depth-first (parents before children, siblings by start
    time), which is the row order of a tree view with everything expanded.
    """

    spans: tuple[Span, ...]
    roots: tuple[int, ...]
    children: tuple[tuple[int, ...], ...]
    parent: tuple[int, ...]  # -1 for a root
    depth: tuple[int, ...]
    order: tuple[int, ...]
    offset_ns: tuple[int, ...]  # start relative to the earliest span
    duration_ns: tuple[int | None, ...]
    start_ns: int
    total_ns: int

    def __len__(self) -> int:
        return len(self.spans)

    @property
    def max_depth(self) -> int:
        return max(self.depth, default=-1)


def build_trace_tree(spans: Sequence[Span]) -> TraceTree:
    """Build the tree; spans whose parent is missing (or in a cycle) become roots."""
    spans = tuple(spans)
    count = len(spans)
    index_by_id: dict[str, int] = {}
    for index, span in enumerate(spans):
        index_by_id.setdefault(span.span_id, index)

    parent = [-1] * count
    for index, span in enumerate(spans):
        found = index_by_id.get(span.parent_span_id) if span.parent_span_id else None
        if found is not None and found != index:
            parent[index] = found

    children_lists: list[list[int]] = [[] for _ in range(count)]
    roots = []
    for index, parent_index in enumerate(parent):
        (children_lists[parent_index] if parent_index >= 0 else roots).append(index)

    key = [(span.start_time_ns, span.span_id) for span in spans].__getitem__
    roots.sort(key=key)
    for child_list in children_lists:
        if len(child_list) > 1:
            child_list.sort(key=key)

    depth = [0] * count
    visited = [False] * count
    order: list[int] = []

    def walk(start_roots: list[int]) -> None:
        stack = [(root, 0) for root in reversed(start_roots)]
        while stack:
            index, level = stack.pop()
            if visited[index]:
                continue
            visited[index] = True
            depth[index] = level
            order.append(index)
            stack.extend((child, level + 1) for child in reversed(children_lists[index]))

    walk(roots)
    if len(order) < count:  # cycles: detach the earliest unvisited span of each one as a root
        for index in sorted((i for i in range(count) if not visited[i]), key=key):
            if not visited[index]:
                if parent[index] >= 0:
                    children_lists[parent[index]].remove(index)
                parent[index] = -1
                roots.append(index)
                walk([index])

    start_ns = min((s.start_time_ns for s in spans), default=0)
    ends = [s.end_time_ns for s in spans if s.end_time_ns is not None]
    end_ns = max([*ends, *(s.start_time_ns for s in spans)], default=start_ns)
    return TraceTree(
        spans=spans,
        roots=tuple(roots),
        children=tuple(tuple(c) for c in children_lists),
        parent=tuple(parent),
        depth=tuple(depth),
        order=tuple(order),
        offset_ns=tuple(s.start_time_ns - start_ns for s in spans),
        duration_ns=tuple(
            None if s.end_time_ns is None else max(0, s.end_time_ns - s.start_time_ns)
            for s in spans
        ),
        start_ns=start_ns,
        total_ns=max(0, end_ns - start_ns),
    )
