"""A trace as MLflow's own JSON (``Trace.to_json``), so ``mlflow.entities.Trace.from_json`` reads it."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from flowdeck.core.entities import Span, Trace

TRACE_ID_PREFIX = "tr-"
REQUEST_ID_ATTRIBUTE = "mlflow.traceRequestId"
INPUTS_ATTRIBUTE = "mlflow.spanInputs"
OUTPUTS_ATTRIBUTE = "mlflow.spanOutputs"
TYPE_ATTRIBUTE = "mlflow.spanType"
STATUS_CODES = {"OK": "STATUS_CODE_OK", "ERROR": "STATUS_CODE_ERROR"}
STATES = {"OK": "OK", "ERROR": "ERROR", "IN_PROGRESS": "IN_PROGRESS"}


def _b64_hex(hex_text: str, size: int) -> str:
    raw = bytes.fromhex(hex_text.rjust(size * 2, "0")[-size * 2 :])
    return base64.b64encode(raw).decode("ascii")


def _otel_trace_hex(trace_id: str) -> str:
    text = trace_id.removeprefix(TRACE_ID_PREFIX)
    try:
        bytes.fromhex(text)
        return text
    except ValueError:
        return text.encode("utf-8").hex()[:32]


def span_record(span: Span, trace_id: str) -> dict[str, Any]:
    """One span as ``mlflow.entities.Span.to_dict`` writes it (attribute values JSON-encoded)."""
    attributes = {key: json.dumps(value, default=str) for key, value in span.attributes.items()}
    attributes[REQUEST_ID_ATTRIBUTE] = json.dumps(trace_id)
    attributes[TYPE_ATTRIBUTE] = json.dumps(span.span_type)
    if span.inputs is not None:
        attributes[INPUTS_ATTRIBUTE] = json.dumps(span.inputs, default=str)
    if span.outputs is not None:
        attributes[OUTPUTS_ATTRIBUTE] = json.dumps(span.outputs, default=str)
    otel_trace = _otel_trace_hex(span.trace_id or trace_id)
    return {
        "trace_id": _b64_hex(otel_trace, 16),
        "span_id": _b64_hex(span.span_id, 8),
        "parent_span_id": _b64_hex(span.parent_span_id, 8) if span.parent_span_id else None,
        "name": span.name,
        "start_time_unix_nano": span.start_time_ns,
        "end_time_unix_nano": span.end_time_ns,
        "events": [
            {"name": e.name, "time_unix_nano": e.time_unix_nano, "attributes": e.attributes}
            for e in span.events
        ],
        "status": {
            "code": STATUS_CODES.get(span.status, "STATUS_CODE_UNSET"),
            "message": span.status_message,
        },
        "attributes": attributes,
        "links": [],
    }


def info_record(trace: Trace) -> dict[str, Any]:
    """The trace's info as ``mlflow.entities.TraceInfo.to_dict`` writes it."""
    info = trace.info
    stamp = datetime.fromtimestamp(info.timestamp_ms / 1000, tz=UTC)
    record: dict[str, Any] = {
        "trace_id": info.trace_id,
        "trace_location": {
            "type": "MLFLOW_EXPERIMENT",
            "mlflow_experiment": {"experiment_id": info.experiment_id},
        },
        "request_time": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
        "state": STATES.get(info.status, "STATE_UNSPECIFIED"),
        "trace_metadata": dict(info.metadata),
        "tags": dict(info.tags),
    }
    if info.execution_time_ms is not None:
        record["execution_duration_ms"] = info.execution_time_ms
    for key, value in (
        ("request_preview", info.request_preview),
        ("response_preview", info.response_preview),
        ("client_request_id", info.client_request_id),
    ):
        if value is not None:
            record[key] = value
    return record


def trace_json(trace: Trace) -> str:
    """The whole trace in MLflow's JSON format (without its assessments)."""
    record = {
        "info": info_record(trace),
        "data": {"spans": [span_record(span, trace.info.trace_id) for span in trace.spans]},
    }
    return json.dumps(record, ensure_ascii=False)
