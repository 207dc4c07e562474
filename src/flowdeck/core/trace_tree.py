"""Parent→children tree of a trace's spans, with depth and timeline offsets (iterative)."""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from flowdeck.core.entities import Span
from flowdeck.core.gc_pause import gc_paused


@dataclass(frozen=True)
class TraceTree:
    """Spans of one trace arranged as a tree; every array is indexed by position in ``spans``.

    ``order`` lists span indices depth-first (parents before children, siblings by start
    time), which is the row order of a tree view with everything expanded. The per-span
    numbers are ``array('q')`` (8 bytes a span, no Python int per span).
    """

    spans: tuple[Span, ...]
    roots: tuple[int, ...]
    children: tuple[tuple[int, ...], ...]
    parent: Sequence[int]  # -1 for a root
    depth: Sequence[int]
    order: Sequence[int]
    offset_ns: Sequence[int]  # start relative to the earliest span
    duration_ns: tuple[int | None, ...]
    start_ns: int
    total_ns: int

    def __len__(self) -> int:
        return len(self.spans)

    @property
    def max_depth(self) -> int:
        return max(self.depth, default=-1)


def _parents(spans: tuple[Span, ...]) -> list[int]:
    index_by_id: dict[str, int] = {}
    for index, span in enumerate(spans):
        index_by_id.setdefault(span.span_id, index)
    get = index_by_id.get
    parent = [-1] * len(spans)
    for index, span in enumerate(spans):
        found = get(span.parent_span_id, -1) if span.parent_span_id else -1
        if found != index:
            parent[index] = found
    return parent


def build_trace_tree(spans: Sequence[Span]) -> TraceTree:
    """Build the tree; spans whose parent is missing (or in a cycle) become roots."""
    with gc_paused(freeze=True):
        return _build(tuple(spans))


def _build(spans: tuple[Span, ...]) -> TraceTree:
    count = len(spans)
    parent = _parents(spans)
    starts = [span.start_time_ns for span in spans]
    # siblings by (start, span id): sort by id, then stably by start, and fill children in order
    ranked = sorted(range(count), key=[span.span_id for span in spans].__getitem__)
    ranked.sort(key=starts.__getitem__)
    children_lists: list[list[int]] = [[] for _ in range(count)]
    roots: list[int] = []
    for index in ranked:
        parent_index = parent[index]
        (children_lists[parent_index] if parent_index >= 0 else roots).append(index)
    depth = array("q", bytes(8 * count))
    visited = bytearray(count)
    order: list[int] = []

    def walk(start_roots: list[int]) -> None:
        # every span has one parent, so a walk from roots meets each span once; spans in a
        # cycle are never reached from a root (handled below, one detached span at a time)
        start = len(order)
        stack = start_roots[::-1]
        pop, push, append = stack.pop, stack.extend, order.append
        while stack:
            index = pop()
            append(index)
            kids = children_lists[index]
            if kids:
                push(kids[::-1])
        for index in order[start:]:
            visited[index] = 1
            above = parent[index]
            depth[index] = depth[above] + 1 if above >= 0 else 0

    walk(roots)
    if len(order) < count:  # cycles: detach the earliest unvisited span of each one as a root
        key = [(span.start_time_ns, span.span_id) for span in spans].__getitem__
        for index in sorted((i for i in range(count) if not visited[i]), key=key):
            if not visited[index]:
                if parent[index] >= 0:
                    children_lists[parent[index]].remove(index)
                parent[index] = -1
                roots.append(index)
                walk([index])

    start_ns = min(starts, default=0)
    ends = [s.end_time_ns for s in spans]
    end_ns = max([*(e for e in ends if e is not None), *starts], default=start_ns)
    children = tuple(map(tuple, children_lists))
    return TraceTree(
        spans=spans,
        roots=tuple(roots),
        children=children,
        parent=array("q", parent),
        depth=depth,
        order=array("q", order),
        offset_ns=array("q", [start - start_ns for start in starts]),
        duration_ns=tuple(
            None if end is None else max(0, end - start)
            for start, end in zip(starts, ends, strict=True)
        ),
        start_ns=start_ns,
        total_ns=max(0, end_ns - start_ns),
    )
