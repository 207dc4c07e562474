"""Trace filter evaluation over TraceInfos (MLflow's grammar, our evaluation)."""

from __future__ import annotations

import pytest

from flowdeck.core.entities import Assessment, TraceInfo
from flowdeck.core.errors import InvalidFilter
from flowdeck.core.trace_filter import (
    SpanRow,
    TraceExtras,
    filter_traces,
    parse_trace_filter,
    sort_traces,
)


def info(trace_id, ts, status="OK", duration=10, tags=None, metadata=None):
    return TraceInfo(
        trace_id=trace_id,
        experiment_id="1",
        timestamp_ms=ts,
        execution_time_ms=duration,
        status=status,
        tags=tags or {},
        metadata=metadata or {},
    )


def feedback(trace_id, name, value, valid=True, kind="feedback"):
    return Assessment(
        assessment_id=f"a-{trace_id}-{name}",
        trace_id=trace_id,
        name=name,
        kind=kind,
        value=value,
        source_type="HUMAN",
        source_id=None,
        created_time=0,
        last_updated_time=0,
        valid=valid,
    )


INFOS = [
    info(
        "tr-a",
        100,
        tags={"mlflow.traceName": "agent", "team": "Alpha"},
        metadata={"mlflow.sourceRun": "run1"},
    ),
    info("tr-b", 300, status="ERROR", duration=None, tags={"mlflow.traceName": "agent"}),
    info("tr-c", 200, tags={"mlflow.traceName": "chat", "team": "beta"}),
]
EXTRAS = TraceExtras(
    spans={
        "tr-a": [
            SpanRow("retrieve", "RETRIEVER", "OK", '{"q": "joke"}'),
            SpanRow("tool", "TOOL", "ERROR", '{"q": "calc"}'),
        ],
        "tr-c": [SpanRow("tool", "TOOL", "OK", '{"q": "Joke"}')],
    },
    assessments={
        "tr-a": [feedback("tr-a", "quality", True), feedback("tr-a", "score", 0.9)],
        "tr-b": [feedback("tr-b", "quality", False), feedback("tr-b", "old", "x", valid=False)],
        "tr-c": [feedback("tr-c", "label", "yes", kind="expectation")],
    },
    linked_runs={"tr-c": frozenset({"run1"})},
)


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("", ["tr-a", "tr-b", "tr-c"]),
        ("status = 'ERROR'", ["tr-b"]),
        ("trace.name = 'agent'", ["tr-a", "tr-b"]),
        ("tags.team LIKE 'a%'", []),
        ("tags.team ILIKE 'a%'", ["tr-a"]),
        ("tags.team != 'beta'", ["tr-a"]),
        ("tags.team IS NULL", ["tr-b"]),
        ("tags.team RLIKE '^b'", ["tr-c"]),
        ("execution_time_ms > 5", ["tr-a", "tr-c"]),
        ("end_time_ms = 300", ["tr-b"]),
        ("timestamp_ms >= 200 AND status = 'OK'", ["tr-c"]),
        ("request_id IN ('tr-a', 'tr-c')", ["tr-a", "tr-c"]),
        ("request_id NOT IN ('tr-a')", ["tr-b", "tr-c"]),
        ("run_id = 'run1'", ["tr-a", "tr-c"]),
        ("span.type = 'TOOL'", ["tr-a", "tr-c"]),
        ("span.type = 'TOOL' AND span.status = 'ERROR'", ["tr-a"]),
        ("span.name = 'retrieve' AND span.status = 'ERROR'", []),
        ("trace.text LIKE '%joke%'", ["tr-a"]),
        ("trace.text ILIKE '%joke%'", ["tr-a", "tr-c"]),
        ("feedback.quality = 'true'", ["tr-a"]),
        ("feedback.quality != 'true'", ["tr-b"]),
        ("feedback.quality IS NULL", ["tr-c"]),
        ("feedback.old IS NOT NULL", []),
        ("feedback.score > 0.5", ["tr-a"]),
        ("expectation.label = 'yes'", ["tr-c"]),
        ("expectation.label LIKE '%ye%'", ["tr-c"]),
    ],
)
def test_filter(filter_string, expected):
    found = filter_traces(INFOS, filter_string, EXTRAS)
    assert sorted(i.trace_id for i in found) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "status = 'OK' OR status = 'ERROR'",
        "span.bogus = 'x'",
        "nonsense",
        "feedback.q ~ 1",
        "metadata.k > 'x'",
    ],
)
def test_bad_filters_raise_invalid_filter(bad):
    with pytest.raises(InvalidFilter):
        parse_trace_filter(bad)


def test_default_order_is_newest_first_then_id():
    infos = [*INFOS, info("tr-0", 300)]
    assert [i.trace_id for i in sort_traces(infos)] == ["tr-0", "tr-b", "tr-c", "tr-a"]


def test_order_by_puts_missing_values_last_in_both_directions():
    asc = sort_traces(INFOS, ["execution_time_ms ASC"])
    desc = sort_traces(INFOS, ["execution_time_ms DESC"])
    assert asc[-1].trace_id == "tr-b" and desc[-1].trace_id == "tr-b"
    by_name = sort_traces(INFOS, ["name DESC"])
    assert [i.trace_id for i in by_name] == ["tr-c", "tr-b", "tr-a"]


def test_bad_order_by_raises_invalid_filter():
    with pytest.raises(InvalidFilter):
        sort_traces(INFOS, ["tokens DESC"])
    with pytest.raises(InvalidFilter):
        sort_traces(INFOS, ["status", "status DESC"])
