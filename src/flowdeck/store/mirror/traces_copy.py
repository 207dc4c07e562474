"""Mirror step "traces": trace infos, tags, metadata, spans and assessments of the experiments.

Change detection: each trace has a fingerprint (a digest of its info as the source's trace
listing gives it: state, times, previews, tags, metadata and assessments) kept in
``flowdeck_mirror_traces``; only new or changed traces are fetched whole (spans included) and
rewritten, a batch of traces per transaction.

Spans go into MLflow's ``spans`` table in the JSON form MLflow's SQL store writes
(``Span.to_dict``: base64 ids, JSON-encoded attribute values), and every mirrored trace has the
tag ``mlflow.trace.spansLocation = TRACKING_STORE``, so ``MlflowClient.get_trace`` on the
mirror reads them from there. Token counts, costs, the session and the trace name go into
their ``trace_info`` columns, as MLflow 3.17.2 keeps them.

Nothing is dropped: a trace the source no longer has keeps its rows and gets ``gone_at`` in the
state table. Not mirrored: span links and OTel resource attributes (a ``Store`` span carries
neither), and spans the source could not read (its ``Trace.problems`` say which).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from flowdeck.core.entities import Assessment, Span, Trace, TraceInfo
from flowdeck.core.errors import Unsupported
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import CAP_TRACES, Store
from flowdeck.store.mirror.database import mark_gone, now_ms, transaction
from flowdeck.store.mirror.registry_copy import fingerprint

STATE_TABLE = "flowdeck_mirror_traces"
STATE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (request_id TEXT PRIMARY KEY, "
    "experiment_id TEXT NOT NULL, fingerprint TEXT NOT NULL, synced_at INTEGER NOT NULL, "
    "gone_at INTEGER)"
)
BATCH_TRACES = 50
PAGE_SIZE = 500
TRACE_NAME_TAG = "mlflow.traceName"
SPANS_LOCATION_TAG = "mlflow.trace.spansLocation"
TRACKING_STORE = "TRACKING_STORE"
MODEL_KEY, PROVIDER_KEY, COST_KEY = "mlflow.llm.model", "mlflow.llm.provider", "mlflow.llm.cost"
_INFO_COLUMNS = (
    "request_id, experiment_id, timestamp_ms, execution_time_ms, status, client_request_id, "
    "request_preview, response_preview, db_payload_generation, trace_name, session_id"
)


def read_infos(
    source: Store, experiment_ids: Sequence[str], state: TaskState | None
) -> list[TraceInfo]:
    """Every trace info of the experiments (with assessments), all pages."""
    infos: list[TraceInfo] = []
    token: str | None = None
    while True:
        page = source.search_traces(
            list(experiment_ids), max_results=PAGE_SIZE, page_token=token, state=state
        )
        infos.extend(page.items)
        token = page.next_token
        if not token or not page.items:
            return infos


def trace_fingerprint(info: TraceInfo) -> str:
    """What the listing shows of a trace: enough to see a new state, tag or assessment."""
    data = dataclasses.asdict(info)
    data["assessments"] = sorted(
        (dataclasses.asdict(item) for item in info.assessments),
        key=lambda item: str(item["assessment_id"]),
    )
    return fingerprint(data)


def copy_traces(
    source: Store, conn: sqlite3.Connection, experiment_ids: list[str], state: TaskState | None
) -> int:
    """Copy new and changed traces of ``experiment_ids``; return how many were copied."""
    if CAP_TRACES not in source.capabilities or not experiment_ids:
        return 0
    try:
        infos = read_infos(source, experiment_ids, state)
    except Unsupported:
        return 0
    conn.execute(STATE_DDL)
    synced = dict(conn.execute(f"SELECT request_id, fingerprint FROM {STATE_TABLE}").fetchall())
    digests = {info.trace_id: trace_fingerprint(info) for info in infos}
    changed = [trace_id for trace_id, digest in digests.items() if synced.get(trace_id) != digest]
    for start in range(0, len(changed), BATCH_TRACES):
        if state is not None:
            state.check()
            state.progress(start, len(changed), f"Copying traces ({start:,} of {len(changed):,})…")
        traces = [source.trace(trace_id) for trace_id in changed[start : start + BATCH_TRACES]]
        with transaction(conn):
            for trace in traces:
                write_trace(conn, trace, digests[trace.info.trace_id])
    mark_gone(conn, STATE_TABLE, "request_id", experiment_ids, set(digests))
    return len(changed)


def write_trace(conn: sqlite3.Connection, trace: Trace, digest: str) -> None:
    """Replace one trace's rows (inside the caller's transaction)."""
    from mlflow.store.tracking.utils.trace_analytics import (
        PROMOTED_TRACE_METADATA_KEYS,
        analytics_columns_from_metadata,
    )

    info = trace.info
    trace_id = info.trace_id
    for table, column in (
        ("trace_tags", "request_id"),
        ("trace_request_metadata", "request_id"),
        ("spans", "trace_id"),
        ("assessments", "trace_id"),
    ):
        conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (trace_id,))
    tags = dict(info.tags)
    trace_name = tags.pop(TRACE_NAME_TAG, None)
    tags[SPANS_LOCATION_TAG] = TRACKING_STORE
    extra = analytics_columns_from_metadata(dict(info.metadata))
    session_id = extra.pop("session_id", None)
    names = ", ".join(extra)
    marks = ", ".join("?" * len(extra))
    conn.execute(
        f"INSERT OR REPLACE INTO trace_info ({_INFO_COLUMNS}{', ' + names if extra else ''}) "
        f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?{', ' + marks if extra else ''})",
        (
            trace_id,
            int(info.experiment_id),
            info.timestamp_ms,
            info.execution_time_ms,
            info.status,
            info.client_request_id,
            info.request_preview,
            info.response_preview,
            trace_name,
            session_id,
            *extra.values(),
        ),
    )
    conn.executemany(
        "INSERT INTO trace_tags (key, value, request_id) VALUES (?, ?, ?)",
        [(key, value, trace_id) for key, value in tags.items()],
    )
    conn.executemany(
        "INSERT INTO trace_request_metadata (key, value, request_id) VALUES (?, ?, ?)",
        [
            (key, value, trace_id)
            for key, value in info.metadata.items()
            if key not in PROMOTED_TRACE_METADATA_KEYS
        ],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO spans (trace_id, experiment_id, span_id, parent_span_id, name, "
        "type, status, start_time_unix_nano, end_time_unix_nano, content, input_cost, "
        "output_cost, total_cost, model_name, model_provider) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [_span_row(span, trace_id, int(info.experiment_id)) for span in trace.spans],
    )
    assessments = {item.assessment_id: item for item in (*info.assessments, *trace.assessments)}
    conn.executemany(
        "INSERT OR REPLACE INTO assessments (assessment_id, trace_id, name, assessment_type, "
        "value, error, created_timestamp, last_updated_timestamp, source_type, source_id, "
        "run_id, span_id, rationale, overrides, valid, assessment_metadata, experiment_id, "
        "trace_timestamp_ms, aggregate_value, is_numeric_value) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [_assessment_row(item, info) for item in assessments.values() if item.assessment_id],
    )
    conn.execute(
        f"INSERT OR REPLACE INTO {STATE_TABLE} (request_id, experiment_id, fingerprint, "
        "synced_at, gone_at) VALUES (?, ?, ?, ?, NULL)",
        (trace_id, str(info.experiment_id), digest, now_ms()),
    )


def span_content(span: Span) -> dict[str, Any]:
    """The span as MLflow's SQL store keeps it in ``spans.content`` (``Span.to_dict`` form)."""
    return {
        "trace_id": _base64(_otel_trace_id(span.trace_id)),
        "span_id": _base64(bytes.fromhex(span.span_id)),
        "parent_span_id": _base64(bytes.fromhex(span.parent_span_id))
        if span.parent_span_id
        else None,
        "name": span.name,
        "start_time_unix_nano": span.start_time_ns,
        "end_time_unix_nano": span.end_time_ns,
        "events": [
            {"name": e.name, "time_unix_nano": e.time_unix_nano, "attributes": e.attributes}
            for e in span.events
        ],
        "status": {"code": f"STATUS_CODE_{span.status}", "message": span.status_message},
        "attributes": {
            key: json.dumps(value, ensure_ascii=False, default=repr)
            for key, value in span.attributes.items()
        },
        "links": [],
    }


def _span_row(span: Span, trace_id: str, experiment_id: int) -> tuple:
    from mlflow.store.tracking.utils.trace_analytics import (
        bounded_model_dimension,
        finite_float_or_none,
    )

    attributes = span.attributes
    cost = attributes.get(COST_KEY)
    cost = cost if isinstance(cost, dict) else {}
    content = json.dumps(span_content(span), ensure_ascii=False)
    return (
        trace_id,
        experiment_id,
        span.span_id,
        span.parent_span_id,
        span.name,
        span.span_type,
        span.status,
        span.start_time_ns,
        span.end_time_ns,
        content,
        finite_float_or_none(cost.get("input_cost")),
        finite_float_or_none(cost.get("output_cost")),
        finite_float_or_none(cost.get("total_cost")),
        bounded_model_dimension(attributes.get(MODEL_KEY)),
        bounded_model_dimension(attributes.get(PROVIDER_KEY)),
    )


def _assessment_row(item: Assessment, info: TraceInfo) -> tuple:
    from mlflow.store.tracking.utils.trace_analytics import assessment_aggregate

    aggregate, is_numeric = assessment_aggregate(item.value)
    created = item.created_time or info.timestamp_ms
    return (
        item.assessment_id,
        info.trace_id,
        item.name,
        item.kind,
        json.dumps(item.value),
        json.dumps(item.error) if item.error else None,
        created,
        item.last_updated_time or created,
        item.source_type or "SOURCE_TYPE_UNSPECIFIED",
        item.source_id,
        item.run_id,
        item.span_id,
        item.rationale,
        item.overrides,
        int(item.valid),
        json.dumps(item.metadata) if item.metadata else None,
        int(info.experiment_id),
        info.timestamp_ms,
        aggregate,
        int(is_numeric),
    )


def _otel_trace_id(trace_id: str) -> bytes:
    """The 16-byte OTel trace id of an MLflow ``tr-<hex>`` id (a stable digest otherwise)."""
    text = trace_id.removeprefix("tr-")
    if len(text) == 32:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    return hashlib.md5(trace_id.encode(), usedforsecurity=False).digest()


def _base64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
