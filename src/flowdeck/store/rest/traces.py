"""Trace search and trace detail over a tracking server (v3 endpoints, v2 for older servers)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flowdeck.core.assessments import assessment_from_dict
from flowdeck.core.entities import Page, Trace, TraceInfo
from flowdeck.core.errors import CorruptStore, NotFound
from flowdeck.core.spans import parse_spans
from flowdeck.store.rest.client import EndpointMissing, RestClient
from flowdeck.store.rest.runs import key_values

TRACES_PAGE_MAX = 500
TRACE_NAME_TAG = "mlflow.traceName"
SPANS_LOCATION_TAG = "mlflow.trace.spansLocation"
SESSION_KEY = "mlflow.trace.session"
TOKEN_USAGE_KEY = "mlflow.trace.tokenUsage"
COST_KEY = "mlflow.trace.cost"
_STATUS_ALIASES = {"TRACE_STATUS_UNSPECIFIED": "STATE_UNSPECIFIED"}
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


def _json_numbers(text: str | None, kind: type) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {k: kind(v) for k, v in value.items() if isinstance(v, int | float)}


def _info(
    *,
    trace_id: str,
    experiment_id: str,
    timestamp_ms: int,
    execution_time_ms: int | None,
    status: str,
    tags: dict[str, str],
    metadata: dict[str, str],
    request_preview: str | None,
    response_preview: str | None,
    client_request_id: str | None,
) -> TraceInfo:
    return TraceInfo(
        trace_id=trace_id,
        experiment_id=experiment_id,
        timestamp_ms=timestamp_ms,
        execution_time_ms=execution_time_ms,
        status=_STATUS_ALIASES.get(status, status),
        request_preview=request_preview,
        response_preview=response_preview,
        client_request_id=client_request_id,
        name=tags.get(TRACE_NAME_TAG),
        session_id=metadata.get(SESSION_KEY),
        tags=tags,
        metadata=metadata,
        token_usage=_json_numbers(metadata.get(TOKEN_USAGE_KEY), int),
        cost=_json_numbers(metadata.get(COST_KEY), float),
    )


def trace_info_v3(item: dict[str, Any]) -> TraceInfo:
    """A TraceInfo from the v3 JSON (``traces/search`` and ``traces/get``)."""
    location = item.get("trace_location") or {}
    experiment = location.get("mlflow_experiment") or {}
    metadata = {str(k): str(v) for k, v in (item.get("trace_metadata") or {}).items()}
    return _info(
        trace_id=item["trace_id"],
        experiment_id=str(experiment.get("experiment_id", "")),
        timestamp_ms=rfc3339_ms(item.get("request_time")),
        execution_time_ms=duration_ms(item.get("execution_duration")),
        status=item.get("state") or "STATE_UNSPECIFIED",
        tags={str(k): str(v) for k, v in (item.get("tags") or {}).items()},
        metadata=metadata,
        request_preview=item.get("request_preview", metadata.get("mlflow.traceInputs")),
        response_preview=item.get("response_preview", metadata.get("mlflow.traceOutputs")),
        client_request_id=item.get("client_request_id"),
    )


def trace_info_v2(item: dict[str, Any]) -> TraceInfo:
    """A TraceInfo from the 2.x JSON (``request_id``, ``timestamp_ms``, key/value lists)."""
    metadata = key_values(item.get("request_metadata"))
    return _info(
        trace_id=item["request_id"],
        experiment_id=str(item.get("experiment_id", "")),
        timestamp_ms=int(item.get("timestamp_ms") or 0),
        execution_time_ms=duration_ms(item.get("execution_time_ms")),
        status=item.get("status") or "STATE_UNSPECIFIED",
        tags=key_values(item.get("tags")),
        metadata=metadata,
        request_preview=metadata.get("mlflow.traceInputs"),
        response_preview=metadata.get("mlflow.traceOutputs"),
        client_request_id=None,
    )


def search_traces(
    client: RestClient,
    experiment_ids: Sequence[str],
    filter_string: str,
    order_by: Sequence[str],
    max_results: int,
    page_token: str | None,
) -> Page[TraceInfo]:
    """One page of trace infos (at most 500, the server's limit)."""
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
        return _search_traces_v2(client, experiment_ids, filter_string, order_by, size, page_token)
    items = [trace_info_v3(item) for item in data.get("traces") or ()]
    return Page(items, data.get("next_page_token") or None)


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
    if page_token:
        params["page_token"] = page_token
    data = client.get("traces", params)
    items = [trace_info_v2(item) for item in data.get("traces") or ()]
    return Page(items, data.get("next_page_token") or None)


def get_trace(client: RestClient, trace_id: str) -> Trace:
    """One trace: info, spans (normalised by ``flowdeck.core.spans``) and assessments."""
    try:
        data = client.get("traces/get", {"trace_id": trace_id}, version="3.0")
    except EndpointMissing:
        return _get_trace_v2(client, trace_id)
    body = data.get("trace") or {}
    raw_info = body.get("trace_info") or {}
    if not raw_info:
        raise NotFound(f"Trace {trace_id} does not exist.")
    info = trace_info_v3(raw_info)
    raw_spans = body.get("spans") or []
    if not raw_spans and info.tags.get(SPANS_LOCATION_TAG) != "TRACKING_STORE":
        raw_spans = _artifact_spans(client, trace_id)
    spans, _notes = parse_spans(raw_spans)
    assessments = []
    for item in raw_info.get("assessments") or ():
        try:
            assessments.append(assessment_from_dict(item, info.trace_id))
        except CorruptStore:
            continue
    return Trace(info=info, spans=tuple(spans), assessments=tuple(assessments))


def _get_trace_v2(client: RestClient, trace_id: str) -> Trace:
    data = client.get(f"traces/{trace_id}/info")
    info = trace_info_v2(data.get("trace_info") or {"request_id": trace_id})
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
