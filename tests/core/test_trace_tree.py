"""Trace trees: parent links, orphans, cycles, order, offsets and very deep traces."""

from __future__ import annotations

from flowdeck.core.entities import Span
from flowdeck.core.trace_tree import build_trace_tree


def span(span_id, parent=None, start=0, end=None, name=None):
    return Span(
        trace_id="tr-1",
        span_id=span_id,
        parent_span_id=parent,
        name=name or span_id,
        span_type="CHAIN",
        status="OK",
        status_message="",
        start_time_ns=start,
        end_time_ns=end,
    )


def test_tree_order_depth_and_offsets():
    spans = [
        span("c", "a", 30, 40),
        span("a", None, 10, 100),
        span("b", "a", 20, 25),
        span("d", "b", 21, 22),
    ]
    tree = build_trace_tree(spans)
    names = [tree.spans[i].name for i in tree.order]
    assert names == ["a", "b", "d", "c"]
    depth = {tree.spans[i].name: tree.depth[i] for i in range(len(spans))}
    assert depth == {"a": 0, "b": 1, "d": 2, "c": 1}
    assert tree.offset_ns[0] == 20 and tree.start_ns == 10 and tree.total_ns == 90
    assert tree.duration_ns[1] == 90
    assert tree.parent[0] == 1 and tree.roots == (1,)


def test_orphans_join_the_root_level_and_open_spans_have_no_duration():
    tree = build_trace_tree([span("a", None, 0, 10), span("x", "missing", 5, None)])
    assert sorted(tree.spans[i].name for i in tree.roots) == ["a", "x"]
    assert tree.duration_ns[1] is None
    assert tree.total_ns == 10


def test_cycles_and_self_parents_do_not_hang():
    tree = build_trace_tree([span("a", "b", 1), span("b", "a", 2), span("s", "s", 3)])
    assert len(tree.order) == 3
    assert sorted(tree.order) == [0, 1, 2]


def test_thirty_thousand_deep_spans_without_recursion():
    spans = [span(f"{i:016x}", f"{i - 1:016x}" if i else None, i, i + 1) for i in range(30_000)]
    tree = build_trace_tree(spans)
    assert tree.max_depth == 29_999
    assert list(tree.order) == list(range(30_000))


def test_empty_trace():
    tree = build_trace_tree([])
    assert len(tree) == 0 and tree.max_depth == -1 and tree.total_ns == 0
