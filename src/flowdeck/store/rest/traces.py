"""Trace search and trace detail over a tracking server (v3 endpoints, v2 for older servers)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flowdeck.core.assessments import assessment_from_dict, with_assessments
from flowdeck.core.entities import Assessment, Page, Trace, TraceInfo
from flowdeck.core.errors import CorruptStore, NotFound
from flowdeck.core.spans import parse_spans
from flowdeck.core.task_state import TaskState, check
from flowdeck.core.trace_info import (
    REQUEST_PREVIEW_KEY,
    RESPONSE_PREVIEW_KEY,
    SPANS_LOCATION_TAG,
    build_trace_info,
)
from flowdeck.store.rest.client import EndpointMissing, RestClient
from flowdeck.store.rest.fields import Fields

TRACES_PAGE_MAX = 500
_FRACTION = re.compile(r"\.(\d+)")


def rfc3339_ms(text: str | None) -> int:
    """Epoch ms of an RFC 3339 timestamp such as ``2025-01-01T10:00:00.123456789Z``."""
    if not text:
        return 0
    match = _FRACTION.search(text)
    fraction_ms = int((match.group(1) + "000")[:3]) if match else 0
    plain = _FRACTION.sub("", text, count=1).replace("Z", "+00:00")
    return int(datetime.fromisoformat(plain).timestamp()) * 1000 + fraction_ms


def duration_ms(text: Any) -> int | None:
    """Milliseconds of a protobuf JSON duration such as ``"0.016s"``."""
    if text is None or text == "":
        return None
    if isinstance(text, int | float):
        return int(text)
    return int(round(float(str(text).rstrip("s")) * 1000))


def _checked(item: Fields, key: str, convert: Any) -> Any:
    """``convert(item[key])``; a value it cannot read is a ``MalformedAnswer`` naming the field."""
    value = item.raw(key)
    if isinstance(value, dict | list | bool):
        raise item.fail(key, "is not a time")
    try:
        return convert(value)
    except (TypeError, ValueError, OverflowError):
        raise item.fail(key, "is not a time") from None


def trace_info_v3(item: Fields) -> TraceInfo:
    """A TraceInfo from the v3 JSON (``traces/search`` and ``traces/get``)."""
    experiment = item.obj("trace_location").obj("mlflow_experiment")
    metadata = item.mapping("trace_metadata")
    info = build_trace_info(
        trace_id=item.required_text("trace_id"),
        experiment_id=experiment.text("experiment_id"),
        timestamp_ms=_checked(item, "request_time", rfc3339_ms),
        execution_time_ms=_checked(item, "execution_duration", duration_ms),
        status=item.text("state") or "STATE_UNSPECIFIED",
        tags=item.mapping("tags"),
        metadata=metadata,
        request_preview=item.text("request_preview", metadata.get(REQUEST_PREVIEW_KEY, "")) or None,
        response_preview=item.text("response_preview", metadata.get(RESPONSE_PREVIEW_KEY, ""))
        or None,
        client_request_id=item.optional_text("client_request_id"),
    )
    found = _assessments(item, info.trace_id)
    return with_assessments([info], {info.trace_id: found})[0] if found else info


def _assessments(item: Fields, trace_id: str) -> list[Assessment]:
    """The trace info's assessments (skipping any that cannot be read)."""
    found = []
    for raw in item.objects("assessments"):
        try:
            found.append(assessment_from_dict(raw.data, trace_id))
        except CorruptStore:
            continue
    return found


def trace_info_v2(item: Fields) -> TraceInfo:
    """A TraceInfo from the 2.x JSON (``request_id``, ``timestamp_ms``, key/value lists)."""
    metadata = item.key_values("request_metadata")
    return build_trace_info(
        trace_id=item.required_text("request_id"),
        experiment_id=item.text("experiment_id"),
        timestamp_ms=item.integer("timestamp_ms", 0) or 0,
        execution_time_ms=_checked(item, "execution_time_ms", duration_ms),
        status=item.text("status") or "STATE_UNSPECIFIED",
        tags=item.key_values("tags"),
        metadata=metadata,
        request_preview=metadata.get(REQUEST_PREVIEW_KEY),
        response_preview=metadata.get(RESPONSE_PREVIEW_KEY),
        client_request_id=None,
    )


def search_traces(
    client: RestClient,
    experiment_ids: Sequence[str],
    filter_string: str,
    order_by: Sequence[str],
    max_results: int,
    page_token: str | None,
    state: TaskState | None = None,
) -> Page[TraceInfo]:
    """One page of trace infos (at most 500, the server's limit).

    ``state`` is checked before each request; raises Cancelled.
    """
    check(state)
    size = max(1, min(int(max_results), TRACES_PAGE_MAX))
    body: dict[str, Any] = {
        "locations": [
            {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": str(e)}}
            for e in experiment_ids
        ],
        "filter": filter_string or "",
        "max_results": size,
        "order_by": list(order_by),
    }
    if page_token:
        body["page_token"] = page_token
    try:
        data = client.post("traces/search", body, version="3.0", is_search=True)
    except EndpointMissing:
        check(state)
        return _search_traces_v2(client, experiment_ids, filter_string, order_by, size, page_token)
    answer = Fields(data, "traces/search")
    items = [trace_info_v3(item) for item in answer.objects("traces")]
    token = answer.optional_text("next_page_token")
    return Page(items, None if token == page_token else token)


def _search_traces_v2(
    client: RestClient,
    experiment_ids: Sequence[str],
    filter_string: str,
    order_by: Sequence[str],
    size: int,
    page_token: str | None,
) -> Page[TraceInfo]:
    params: dict[str, Any] = {
        "experiment_ids": [str(e) for e in experiment_ids],
        "max_results": size,
        "order_by": list(order_by),
    }
    if filter_string:
        params["filter"] = filter_string
    items, next_token = client.get_page("traces", params, "traces", page_token)
    return Page(
        [trace_info_v2(Fields(item, "traces", f"traces[{i}]")) for i, item in enumerate(items)],
        next_token,
    )


def get_trace(client: RestClient, trace_id: str) -> Trace:
    """One trace: info, spans (normalised by ``flowdeck.core.spans``) and assessments."""
    try:
        data = client.get("traces/get", {"trace_id": trace_id}, version="3.0")
    except EndpointMissing:
        return _get_trace_v2(client, trace_id)
    body = Fields(data, "traces/get").obj("trace")
    raw_info = body.obj("trace_info")
    if not raw_info.data:
        raise NotFound(f"Trace {trace_id} does not exist.")
    info = trace_info_v3(raw_info)
    raw_spans = body.raw("spans", [])
    if not isinstance(raw_spans, list):
        raise body.fail("spans", "is not a list")
    if not raw_spans and info.tags.get(SPANS_LOCATION_TAG) != "TRACKING_STORE":
        raw_spans = _artifact_spans(client, trace_id)
    spans, _notes = parse_spans(raw_spans)
    assessments = _assessments(raw_info, info.trace_id)
    return Trace(info=info, spans=tuple(spans), assessments=tuple(assessments))


def _get_trace_v2(client: RestClient, trace_id: str) -> Trace:
    endpoint = "traces/info"
    raw = Fields(client.get(f"traces/{trace_id}/info"), endpoint).raw("trace_info")
    info = trace_info_v2(Fields(raw or {"request_id": trace_id}, endpoint, "trace_info"))
    spans, _notes = parse_spans(_artifact_spans(client, trace_id))
    return Trace(info=info, spans=tuple(spans))


def _artifact_spans(client: RestClient, trace_id: str) -> list[Any]:
    """Spans from the trace's ``traces.json`` artifact, served by ``get-trace-artifact``."""
    url = f"{client.base_url}/ajax-api/2.0/mlflow/get-trace-artifact"
    try:
        response = client.request("GET", url, params={"request_id": trace_id})
    except NotFound:
        return []
    try:
        data = response.json()
    except ValueError:
        return []
    spans = data.get("spans") if isinstance(data, dict) else data
    return spans if isinstance(spans, list) else []
