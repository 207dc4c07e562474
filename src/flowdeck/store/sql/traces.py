"""Trace reads for SqlStore: set-based trace search and one trace with spans and assessments."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from sqlalchemy import null, select

from flowdeck.core.assessments import assessment_from_row, with_assessments
from flowdeck.core.entities import Assessment, Page, Span, Trace, TraceInfo
from flowdeck.core.errors import CorruptStore, NotFound, Unsupported
from flowdeck.core.gc_pause import gc_paused
from flowdeck.core.paging import decode_offset_token, offset_page
from flowdeck.core.spans import parse_traces_json, span_from_columns
from flowdeck.core.task_state import TaskState, check
from flowdeck.core.trace_filter import (
    SOURCE_RUN_KEY,
    TRACE_NAME_TAG,
    SpanRow,
    TraceExtras,
    needs_assessments,
    needs_spans,
    parse_trace_filter,
    sort_traces,
    trace_matches,
)
from flowdeck.core.trace_info import (
    ARTIFACT_LOCATION_TAG,
    COST_KEY,
    REQUEST_PREVIEW_KEY,
    RESPONSE_PREVIEW_KEY,
    SESSION_KEY,
    SPANS_LOCATION_TAG,
    TOKEN_USAGE_KEY,
    build_trace_info,
)
from flowdeck.store.sql.schema import table_of

log = logging.getLogger(__name__)

TOKEN_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cache_creation_input_tokens_above_1hr",
)
COST_COLUMNS = ("input_cost", "output_cost", "total_cost")
_INFO_COLUMNS = (
    "request_id",
    "experiment_id",
    "timestamp_ms",
    "execution_time_ms",
    "status",
    "client_request_id",
    "request_preview",
    "response_preview",
    "trace_name",
    "session_id",
    *TOKEN_COLUMNS,
    *COST_COLUMNS,
)
_SPAN_COLUMNS = (
    "span_id",
    "parent_span_id",
    "name",
    "type",
    "status",
    "start_time_unix_nano",
    "end_time_unix_nano",
    "content",
)
_ASSESSMENT_COLUMNS = (
    "assessment_id",
    "trace_id",
    "name",
    "assessment_type",
    "value",
    "error",
    "created_timestamp",
    "last_updated_timestamp",
    "source_type",
    "source_id",
    "run_id",
    "span_id",
    "rationale",
    "overrides",
    "valid",
    "assessment_metadata",
)


def _build_info(
    row: Mapping[str, Any], tags: dict[str, str], metadata: dict[str, str]
) -> TraceInfo:
    """A TraceInfo with MLflow's compatibility tags/metadata added back from 3.17 columns."""
    if row.get("trace_name") is not None:
        tags[TRACE_NAME_TAG] = row["trace_name"]
    if row.get("session_id") is not None:
        metadata[SESSION_KEY] = row["session_id"]
    tokens = {c: int(row[c]) for c in TOKEN_COLUMNS if row.get(c) is not None}
    costs = {c: float(row[c]) for c in COST_COLUMNS if row.get(c) is not None}
    if tokens:
        metadata[TOKEN_USAGE_KEY] = json.dumps(tokens)
    if costs:
        metadata[COST_KEY] = json.dumps(costs)
    if "request_preview" in row:
        request_preview, response_preview = row["request_preview"], row["response_preview"]
    else:
        request_preview = metadata.get(REQUEST_PREVIEW_KEY)
        response_preview = metadata.get(RESPONSE_PREVIEW_KEY)
    duration = row["execution_time_ms"]
    return build_trace_info(
        trace_id=row["request_id"],
        experiment_id=str(row["experiment_id"]),
        timestamp_ms=int(row["timestamp_ms"]),
        execution_time_ms=None if duration is None else int(duration),
        status=str(row["status"]),
        tags=tags,
        metadata=metadata,
        request_preview=request_preview,
        response_preview=response_preview,
        client_request_id=row.get("client_request_id"),
    )


def _local_path(location: str) -> Path | None:
    if "://" not in location and not location.startswith("file:"):
        return Path(location)
    parsed = urlparse(location)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    return None


def read_traces_json(artifact_location: str) -> tuple[list[Span], list[str]]:
    """Spans of ``<artifact_location>/traces.json`` (local paths and ``file://`` only)."""
    root = _local_path(artifact_location)
    if root is None:
        raise Unsupported(
            f"Reading trace spans from {artifact_location} is not supported by this store yet."
        )
    path = root / "traces.json"
    if not path.is_file():
        return [], [f"The trace data file {path} is missing."]
    return parse_traces_json(path.read_bytes())


def _spans_of_rows(trace_id: str, rows: Sequence[Any]) -> tuple[list[Span], list[str]]:
    """Lazy spans from span rows (payloads decoded on first use), skipping unreadable rows."""
    spans: list[Span] = []
    notes: list[str] = []
    with gc_paused(freeze=True):
        for index, (span_id, parent, name, kind, status, start, end, text) in enumerate(rows):
            try:
                spans.append(
                    span_from_columns(
                        trace_id, span_id, parent, name, kind, status, start, end, text
                    )
                )
            except CorruptStore as exc:
                notes.append(f"Skipped span #{index}: {exc.message}")
    return spans, notes


def _int_ids(experiment_ids: Iterable[str]) -> list[int]:
    return [int(e) for e in experiment_ids if str(e).strip().lstrip("-").isdigit()]


class SqlTracesMixin:
    """Trace methods of SqlStore: ``search_traces`` and ``trace``.

    Uses ``self.connect()`` (a read-only connection whose driver errors become typed errors)
    and ``self.schema`` (a ``SqlSchema`` with ``has_table``/``has_column``/``revision``)
    provided by ``SqlStore``.
    """

    connect: Callable[[], AbstractContextManager[Any]]
    schema: Any

    def _read_infos(
        self,
        connection: Any,
        where_experiments: list[int] | None,
        trace_id: str | None = None,
        state: TaskState | None = None,
    ) -> list[TraceInfo]:
        info = self.schema.present_table("trace_info", *_INFO_COLUMNS)
        tags = table_of("trace_tags", "request_id", "key", "value")
        metadata = table_of("trace_request_metadata", "request_id", "key", "value")
        if trace_id is not None:
            scope = [info.c.request_id == trace_id]
        else:
            scope = [info.c.experiment_id.in_(where_experiments or [])]
        rows = connection.execute(select(info).where(*scope)).mappings().all()
        if not rows:
            return []
        tags_by_trace: dict[str, dict[str, str]] = {}
        metadata_by_trace: dict[str, dict[str, str]] = {}
        for table, target in ((tags, tags_by_trace), (metadata, metadata_by_trace)):
            if not self.schema.has_table(table.name):
                continue
            check(state)
            query = (
                select(table.c.request_id, table.c.key, table.c.value)
                .join(info, info.c.request_id == table.c.request_id)
                .where(*scope)
            )
            for request_id, key, value in connection.execute(query):
                target.setdefault(request_id, {})[key] = value
        return [
            _build_info(
                row,
                tags_by_trace.get(row["request_id"], {}),
                metadata_by_trace.get(row["request_id"], {}),
            )
            for row in rows
        ]

    def _filter_extras(
        self,
        connection: Any,
        experiments: list[int],
        clauses: Sequence[Any],
        state: TaskState | None = None,
    ) -> TraceExtras:
        info = table_of("trace_info", "request_id", "experiment_id")
        spans: dict[str, list[SpanRow]] = {}
        assessments: dict[str, list[Assessment]] = {}
        linked: dict[str, frozenset[str]] = {}
        if needs_spans(clauses) and self.schema.has_table("spans"):
            check(state)
            table = table_of(
                "spans", "trace_id", "experiment_id", "name", "type", "status", "content"
            )
            wants_content = any(
                c.kind == "span" and c.key not in ("name", "type", "status") for c in clauses
            )
            content = table.c.content if wants_content else table.c.name
            query = select(
                table.c.trace_id, table.c.name, table.c.type, table.c.status, content
            ).where(table.c.experiment_id.in_(experiments))
            for trace_id, name, span_type, status, text in connection.execute(query):
                spans.setdefault(trace_id, []).append(
                    SpanRow(
                        name or "", span_type or "", status or "", text if wants_content else ""
                    )
                )
        if needs_assessments(clauses) and self.schema.has_table("assessments"):
            check(state)
            table = self.schema.present_table("assessments", *_ASSESSMENT_COLUMNS)
            query = (
                select(table)
                .join(info, info.c.request_id == table.c.trace_id)
                .where(info.c.experiment_id.in_(experiments))
            )
            for row in connection.execute(query).mappings():
                try:
                    item = assessment_from_row(row)
                except CorruptStore as exc:
                    log.warning("%s", exc)
                    continue
                assessments.setdefault(item.trace_id, []).append(item)
        run_values = {
            c.value
            for c in clauses
            if c.kind == "metadata" and c.key == SOURCE_RUN_KEY and c.comparator == "="
        }
        if run_values and self.schema.has_table("entity_associations"):
            check(state)
            table = table_of(
                "entity_associations",
                "source_type",
                "source_id",
                "destination_type",
                "destination_id",
            )
            query = select(table.c.source_id, table.c.destination_id).where(
                table.c.source_type == "trace",
                table.c.destination_type == "run",
                table.c.destination_id.in_(run_values),
            )
            found: dict[str, set[str]] = {}
            for trace_id, run_id in connection.execute(query):
                found.setdefault(trace_id, set()).add(run_id)
            linked = {k: frozenset(v) for k, v in found.items()}
        return TraceExtras(spans=spans, assessments=assessments, linked_runs=linked)

    def search_traces(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        order_by: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
        *,
        state: TaskState | None = None,
    ) -> Page[TraceInfo]:
        """Trace infos of the experiments matching MLflow's trace filter, in MLflow's order.

        ``state`` is checked before each query; raises Cancelled.
        """
        check(state)
        clauses = parse_trace_filter(filter_string or "")
        offset = decode_offset_token(page_token)
        experiments = _int_ids(experiment_ids)
        if not experiments or not self.schema.has_table("trace_info"):
            sort_traces([], order_by)  # still reject a bad order_by
            return Page([], None)
        with self.connect() as connection:
            infos = self._read_infos(connection, experiments, state=state)
            extras = None
            if clauses:
                extras = self._filter_extras(connection, experiments, clauses, state)
            if clauses:
                infos = [info for info in infos if trace_matches(info, clauses, extras)]
            page = offset_page(sort_traces(infos, order_by), offset, max_results)
            check(state)
            found = self._assessments_of(connection, [info.trace_id for info in page.items])
        return Page(with_assessments(page.items, found), page.next_token)

    def _assessments_of(self, connection: Any, trace_ids: list[str]) -> dict[str, list[Any]]:
        """The assessments of these traces in one query (for the trace list's badges)."""
        found: dict[str, list[Assessment]] = {}
        if not trace_ids or not self.schema.has_table("assessments"):
            return found
        table = self.schema.present_table("assessments", *_ASSESSMENT_COLUMNS)
        query = select(table).where(table.c.trace_id.in_(trace_ids))
        for row in connection.execute(query).mappings():
            try:
                item = assessment_from_row(row)
            except CorruptStore as exc:
                log.warning("%s", exc)
                continue
            found.setdefault(item.trace_id, []).append(item)
        return found

    def trace(self, trace_id: str) -> Trace:
        """One trace with all its spans (table or ``traces.json``) and its assessments."""
        if not self.schema.has_table("trace_info"):
            raise NotFound(f"Trace {trace_id} does not exist: this database has no traces.")
        with self.connect() as connection:
            infos = self._read_infos(connection, None, trace_id=trace_id)
            if not infos:
                raise NotFound(f"Trace {trace_id} does not exist.")
            info = infos[0]
            in_table = info.tags.get(SPANS_LOCATION_TAG) == "TRACKING_STORE"
            rows: list[Any] = []
            if in_table and self.schema.has_table("spans"):
                with gc_paused(freeze=True):
                    rows = self._span_rows(connection, trace_id)
            assessments = self._trace_assessments(connection, trace_id)
        if in_table:
            spans, notes = _spans_of_rows(trace_id, rows)
        elif ARTIFACT_LOCATION_TAG in info.tags:
            try:
                spans, notes = read_traces_json(info.tags[ARTIFACT_LOCATION_TAG])
            except CorruptStore as exc:
                message = f"The spans of trace {trace_id} cannot be read: {exc.message}"
                raise CorruptStore(message, detail=exc.detail) from exc
        else:
            spans, notes = [], [f"Trace {trace_id} has no artifact location for its spans."]
        for note in notes:
            log.warning("Trace %s: %s", trace_id, note)
        return Trace(
            info=info,
            spans=tuple(spans),
            assessments=tuple(assessments),
            problems=tuple(f"Trace {trace_id}: {note}" for note in notes),
        )

    def _span_rows(self, connection: Any, trace_id: str) -> list[Any]:
        """The span rows of one trace: the header columns and the raw ``content`` JSON."""
        table = self.schema.present_table("spans", "trace_id", *_SPAN_COLUMNS)
        columns = [table.c[name] if name in table.c else null() for name in _SPAN_COLUMNS]
        query = select(*columns).where(table.c.trace_id == trace_id)
        rows = connection.execute(query).all()
        rows.sort(key=lambda row: (row[5] or 0, row[0] or ""))  # faster than ORDER BY here
        return rows

    def _trace_assessments(self, connection: Any, trace_id: str) -> list[Assessment]:
        if not self.schema.has_table("assessments"):
            return []
        table = self.schema.present_table("assessments", *_ASSESSMENT_COLUMNS)
        query = select(table).where(table.c.trace_id == trace_id)
        if "created_timestamp" in table.c:
            query = query.order_by(table.c.created_timestamp)
        result = []
        for row in connection.execute(query).mappings():
            try:
                result.append(assessment_from_row(row))
            except CorruptStore as exc:
                log.warning("%s", exc)
        return result
