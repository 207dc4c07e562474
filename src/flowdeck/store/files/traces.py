"""Trace reads for FileStore: ``<experiment>/traces/<trace_id>/`` folders."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flowdeck.core.assessments import assessment_from_dict, with_assessments
from flowdeck.core.entities import Assessment, Page, Trace, TraceInfo
from flowdeck.core.errors import CorruptStore, NotFound
from flowdeck.core.gc_pause import gc_paused
from flowdeck.core.paging import decode_offset_token, offset_page
from flowdeck.core.span_json import span_items_of_chunks
from flowdeck.core.spans import parse_span, parse_spans
from flowdeck.core.task_state import TaskState, check
from flowdeck.core.trace_filter import (
    TRACE_NAME_TAG,
    SpanRow,
    TraceExtras,
    filter_traces,
    needs_assessments,
    needs_spans,
    parse_trace_filter,
    sort_traces,
)
from flowdeck.core.trace_info import (
    ARTIFACT_LOCATION_TAG,
    REQUEST_PREVIEW_KEY,
    RESPONSE_PREVIEW_KEY,
    build_trace_info,
)
from flowdeck.store.files.fsread import read_bytes, read_chunks, read_text_folder
from flowdeck.store.files.meta import MetaError, parse_meta
from flowdeck.store.progress import Progress

PROGRESS_TEXT = "Reading traces…"


def _time_ms(value: Any) -> int:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, int | float):
        return int(value)
    text = str(value or "").replace("Z", "+00:00")
    return int(datetime.fromisoformat(text).timestamp() * 1000) if text else 0


def read_trace_info(folder: str, experiment_id: str) -> TraceInfo:
    """One trace folder's TraceInfo (raises ``CorruptStore`` for a damaged trace_info.yaml)."""
    try:
        meta = parse_meta(read_bytes(os.path.join(folder, "trace_info.yaml")))
    except (OSError, MetaError) as error:
        raise CorruptStore(f"trace_info.yaml of {os.path.basename(folder)}: {error}") from None
    tags = read_text_folder(os.path.join(folder, "tags"))
    metadata = read_text_folder(os.path.join(folder, "request_metadata"))
    duration = meta.get("execution_duration_ms", meta.get("execution_time_ms"))
    if meta.get("trace_name") is not None:
        tags.setdefault(TRACE_NAME_TAG, str(meta["trace_name"]))
    return build_trace_info(
        trace_id=str(meta.get("trace_id") or meta.get("request_id") or os.path.basename(folder)),
        experiment_id=experiment_id,
        timestamp_ms=_time_ms(meta.get("request_time", meta.get("timestamp_ms"))),
        execution_time_ms=None if duration is None else int(duration),
        status=str(meta.get("state") or meta.get("status") or "STATE_UNSPECIFIED"),
        tags=tags,
        metadata=metadata,
        request_preview=meta.get("request_preview", metadata.get(REQUEST_PREVIEW_KEY)),
        response_preview=meta.get("response_preview", metadata.get(RESPONSE_PREVIEW_KEY)),
        client_request_id=meta.get("client_request_id"),
    )


def read_assessments(folder: str, trace_id: str) -> list[Assessment]:
    found = []
    assessments = os.path.join(folder, "assessments")
    if not os.path.isdir(assessments):
        return found
    for entry in sorted(os.scandir(assessments), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        try:
            found.append(assessment_from_dict(parse_meta(read_bytes(entry.path)), trace_id))
        except (OSError, MetaError, CorruptStore):
            continue
    return found


def read_span_items(folder: str, info: TraceInfo) -> list[Any]:
    """Raw span JSON objects of ``artifacts/traces.json`` (or the artifact location tag)."""
    from flowdeck.store.artifacts import local_root

    candidates = [os.path.join(folder, "artifacts", "traces.json")]
    location = local_root(info.tags.get(ARTIFACT_LOCATION_TAG))
    if location is not None:
        candidates.append(os.path.join(location, "traces.json"))  # the folder's own first
    for path in candidates:
        if os.path.isfile(path):
            try:
                with gc_paused(freeze=True):
                    return span_items_of_chunks(read_chunks(path))
            except CorruptStore as exc:
                raise CorruptStore(
                    f"The spans of trace {info.trace_id} cannot be read: {exc.message}",
                    detail=path,
                ) from exc
    return []


class FileTracesMixin:
    """``search_traces`` and ``trace`` over the mlruns/ trace folders."""

    def note_problem(self, where: str, text: str) -> None:  # provided by FileStore
        raise NotImplementedError

    def _trace_folders(self, experiment_ids: Sequence[str]) -> list[tuple[str, str]]:
        wanted = {str(i) for i in experiment_ids}
        found = []
        for experiment in self.experiment_folders():  # type: ignore[attr-defined]
            if experiment.experiment_id not in wanted:
                continue
            traces = os.path.join(experiment.folder, "traces")
            if os.path.isdir(traces):
                found.extend(
                    (experiment.experiment_id, e.path) for e in os.scandir(traces) if e.is_dir()
                )
        return found

    def _trace_infos(
        self, experiment_ids: Sequence[str], state: TaskState | None = None
    ) -> list[tuple[TraceInfo, str]]:
        infos = []
        folders = self._trace_folders(experiment_ids)
        progress = Progress(state, len(folders), PROGRESS_TEXT)
        for experiment_id, folder in folders:
            try:
                infos.append((read_trace_info(folder, experiment_id), folder))
            except CorruptStore as error:
                self.note_problem(
                    f"trace:{folder}",
                    f"Trace in experiment {experiment_id}: {error.message}; skipped.",
                )
            progress.advance()
        return infos

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
        check(state)
        clauses = parse_trace_filter(filter_string)
        offset = decode_offset_token(page_token)
        pairs = self._trace_infos(experiment_ids, state)
        spans: dict[str, list[SpanRow]] = {}
        assessments: dict[str, list[Assessment]] = {}
        for info, folder in pairs:
            if clauses:
                check(state)
            if needs_spans(clauses):
                spans[info.trace_id] = _span_rows(read_span_items(folder, info))
            if needs_assessments(clauses):
                assessments[info.trace_id] = read_assessments(folder, info.trace_id)
        extras = TraceExtras(spans=spans, assessments=assessments)
        infos = sort_traces(filter_traces([i for i, _ in pairs], filter_string, extras), order_by)
        page = offset_page(infos, offset, max_results)
        folders = {info.trace_id: folder for info, folder in pairs}
        found = {
            info.trace_id: assessments.get(info.trace_id)
            or read_assessments(folders[info.trace_id], info.trace_id)
            for info in page.items
        }
        return Page(with_assessments(page.items, found), page.next_token)

    def trace(self, trace_id: str) -> Trace:
        experiments = [e.experiment_id for e in self.experiment_folders()]  # type: ignore[attr-defined]
        for experiment_id, folder in self._trace_folders(experiments):
            if os.path.basename(folder) != trace_id:
                continue
            info = read_trace_info(folder, experiment_id)
            spans, notes = parse_spans(read_span_items(folder, info))
            for index, note in enumerate(notes):
                self.note_problem(f"trace:{trace_id}:{index}", f"Trace {trace_id}: {note}")
            return Trace(
                info=info,
                spans=tuple(spans),
                assessments=tuple(read_assessments(folder, trace_id)),
                problems=tuple(f"Trace {trace_id}: {note}" for note in notes),
            )
        raise NotFound(f"Trace '{trace_id}' does not exist.")


def _span_rows(items: list[Any]) -> list[SpanRow]:
    rows = []
    for item in items:
        try:
            span = parse_span(item)
        except CorruptStore:
            continue
        rows.append(SpanRow(span.name, span.span_type, span.status, json.dumps(item)))
    return rows
