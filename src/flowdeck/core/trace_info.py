"""TraceInfo entities built the same way from any backend's fields, tags and metadata."""

from __future__ import annotations

import json
from typing import Any

from flowdeck.core.entities import TraceInfo
from flowdeck.core.trace_filter import TRACE_NAME_TAG

SESSION_KEY = "mlflow.trace.session"
TOKEN_USAGE_KEY = "mlflow.trace.tokenUsage"
COST_KEY = "mlflow.trace.cost"
ARTIFACT_LOCATION_TAG = "mlflow.artifactLocation"
SPANS_LOCATION_TAG = "mlflow.trace.spansLocation"
REQUEST_PREVIEW_KEY = "mlflow.traceInputs"
RESPONSE_PREVIEW_KEY = "mlflow.traceOutputs"
_STATUS_ALIASES = {"TRACE_STATUS_UNSPECIFIED": "STATE_UNSPECIFIED"}


def json_numbers(text: str | None, kind: type) -> dict[str, Any]:
    """The numeric entries of a JSON object text, converted with ``kind``; {} for anything else."""
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {k: kind(v) for k, v in value.items() if isinstance(v, int | float)}


def build_trace_info(
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
    """A TraceInfo; name, session, token usage and cost are read from the tags and metadata."""
    return TraceInfo(
        trace_id=trace_id,
        experiment_id=experiment_id,
        timestamp_ms=timestamp_ms,
        execution_time_ms=execution_time_ms,
        status=_STATUS_ALIASES.get(status, status),
        request_preview=request_preview or None,
        response_preview=response_preview or None,
        client_request_id=client_request_id,
        name=tags.get(TRACE_NAME_TAG),
        session_id=metadata.get(SESSION_KEY),
        tags=tags,
        metadata=metadata,
        token_usage=json_numbers(metadata.get(TOKEN_USAGE_KEY), int),
        cost=json_numbers(metadata.get(COST_KEY), float),
    )
