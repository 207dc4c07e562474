"""Normalise spans from every encoding MLflow has used into ``entities.Span``."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from flowdeck.core.entities import Span, SpanEvent
from flowdeck.core.errors import CorruptStore

SPAN_TYPE_KEY = "mlflow.spanType"
SPAN_INPUTS_KEY = "mlflow.spanInputs"
SPAN_OUTPUTS_KEY = "mlflow.spanOutputs"
REQUEST_ID_KEY = "mlflow.traceRequestId"

_HEX_RE = re.compile(r"(?:0x)?([0-9a-fA-F]+)")
_PLAIN_HEX_RE = re.compile(r"[0-9a-fA-F]+")
_STATUS_BY_INT = {0: "UNSET", 1: "OK", 2: "ERROR"}
_OTLP_SCALARS = (
    "string_value",
    "bool_value",
    "double_value",
    "stringValue",
    "boolValue",
    "doubleValue",
)


def decode_attribute(value: Any) -> Any:
    """Decode one stored attribute value (JSON text in MLflow's format; plain text otherwise)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def decode_attributes(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Decode a span's attribute map; one JSON parse for the usual all-JSON-text case."""
    values = list(raw.values())
    if values and all(isinstance(v, str) for v in values):
        try:
            decoded = json.loads("[" + ",".join(values) + "]")
        except ValueError:
            decoded = None
        if decoded is not None and len(decoded) == len(values):
            return dict(zip(raw.keys(), decoded, strict=True))
    return {key: decode_attribute(value) for key, value in raw.items()}


def hex_id(value: Any, n_bytes: int) -> str | None:
    """A span or trace id as lowercase hex from hex, ``0x``-hex, base64, ``tr-`` or int forms."""
    if value is None or value == "":
        return None
    if type(value) is str:  # fast paths for the two common encodings
        if len(value) == 2 * n_bytes and _PLAIN_HEX_RE.fullmatch(value):
            return value.lower()
        if value.endswith("="):
            try:
                raw = binascii.a2b_base64(value, strict_mode=True)
            except (binascii.Error, ValueError):
                raw = b""
            if len(raw) == n_bytes:
                return raw.hex()
    if isinstance(value, int) and not isinstance(value, bool):
        return format(value, f"0{2 * n_bytes}x")
    if not isinstance(value, str):
        raise ValueError(f"id of unexpected type {type(value).__name__}")
    text = value.strip()
    if text.startswith("trace:/"):
        text = text.rsplit("/", 1)[-1]
    text = text.removeprefix("tr-")
    match = _HEX_RE.fullmatch(text)
    if match and (len(match.group(1)) == 2 * n_bytes or text.startswith("0x")):
        return match.group(1).lower().rjust(2 * n_bytes, "0")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == n_bytes:
        return raw.hex()
    if match:
        return match.group(1).lower().rjust(2 * n_bytes, "0")
    raise ValueError(f"{value!r} is neither a hex nor a base64 id")


def _status_code(code: Any) -> str:
    if code is None or code == "":
        return "UNSET"
    if isinstance(code, int):
        return _STATUS_BY_INT.get(code, "UNSET")
    name = str(code).upper().removeprefix("STATUS_CODE_")
    return name if name in ("OK", "ERROR", "UNSET") else "UNSET"


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _otlp_value(any_value: Any) -> Any:
    """Decode an OTLP ``AnyValue`` as JSON (snake_case or camelCase field names)."""
    if not isinstance(any_value, Mapping) or not any_value:
        return None
    for key in _OTLP_SCALARS:
        if key in any_value:
            return any_value[key]
    for key in ("int_value", "intValue"):
        if key in any_value:
            return int(any_value[key])
    for key in ("array_value", "arrayValue"):
        if key in any_value:
            return [_otlp_value(v) for v in (any_value[key] or {}).get("values", [])]
    for key in ("kvlist_value", "kvlistValue"):
        if key in any_value:
            return _otlp_attributes((any_value[key] or {}).get("values", []))
    for key in ("bytes_value", "bytesValue"):
        if key in any_value:
            return any_value[key]
    return None


def _otlp_attributes(items: Iterable[Any]) -> dict[str, Any]:
    return {item["key"]: _otlp_value(item.get("value")) for item in items}


def _events(raw_events: Any, *, otlp: bool, v2: bool) -> tuple[SpanEvent, ...]:
    events = []
    for event in raw_events or ():
        attributes = event.get("attributes") or {}
        if otlp and isinstance(attributes, list):
            attributes = _otlp_attributes(attributes)
        time_ns = event.get("timestamp") if v2 else event.get("time_unix_nano")
        if time_ns is None:
            time_ns = event.get("timeUnixNano", event.get("time_unix_nano", 0))
        events.append(SpanEvent(str(event.get("name", "")), int(time_ns or 0), dict(attributes)))
    return tuple(events)


def _build(
    *,
    trace_id: str,
    span_id: str | None,
    parent_id: str | None,
    name: Any,
    start_ns: Any,
    end_ns: Any,
    status: str,
    message: Any,
    attributes: dict[str, Any],
    events: tuple[SpanEvent, ...],
) -> Span:
    if span_id is None:
        raise ValueError("the span has no id")
    span_type = attributes.get(SPAN_TYPE_KEY)
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent_id,
        name=str(name) if name is not None else "",
        span_type=str(span_type) if span_type else "UNKNOWN",
        status=status,
        status_message=str(message or ""),
        start_time_ns=int(start_ns or 0),
        end_time_ns=_int_or_none(end_ns),
        inputs=attributes.get(SPAN_INPUTS_KEY),
        outputs=attributes.get(SPAN_OUTPUTS_KEY),
        attributes=attributes,
        events=events,
    )


def _mlflow_trace_id(attributes: Mapping[str, Any], otel_trace_hex: str | None) -> str:
    request_id = attributes.get(REQUEST_ID_KEY)
    if isinstance(request_id, str) and request_id:
        return request_id
    return f"tr-{otel_trace_hex}" if otel_trace_hex else ""


def _parse_v2(data: Mapping[str, Any]) -> Span:
    context = data["context"]
    attributes = decode_attributes(data.get("attributes") or {})
    return _build(
        trace_id=_mlflow_trace_id(attributes, hex_id(context.get("trace_id"), 16)),
        span_id=hex_id(context.get("span_id"), 8),
        parent_id=hex_id(data.get("parent_id"), 8),
        name=data.get("name"),
        start_ns=data.get("start_time"),
        end_ns=data.get("end_time"),
        status=_status_code(data.get("status_code")),
        message=data.get("status_message"),
        attributes=attributes,
        events=_events(data.get("events"), otlp=False, v2=True),
    )


def _parse_otlp(data: Mapping[str, Any]) -> Span:
    attributes = _otlp_attributes(data["attributes"])
    status = data.get("status") or {}
    return _build(
        trace_id=_mlflow_trace_id(
            attributes, hex_id(data.get("trace_id", data.get("traceId")), 16)
        ),
        span_id=hex_id(data.get("span_id", data.get("spanId")), 8),
        parent_id=hex_id(data.get("parent_span_id", data.get("parentSpanId")), 8),
        name=data.get("name"),
        start_ns=data.get("start_time_unix_nano", data.get("startTimeUnixNano")),
        end_ns=data.get("end_time_unix_nano", data.get("endTimeUnixNano")),
        status=_status_code(status.get("code")),
        message=status.get("message"),
        attributes=attributes,
        events=_events(data.get("events"), otlp=True, v2=False),
    )


def _parse_current(data: Mapping[str, Any]) -> Span:
    """The current span JSON (base64 ids) and the 3.5.0 variant (hex ids, plain codes)."""
    attributes = decode_attributes(data.get("attributes") or {})
    status = data.get("status") or {}
    if not isinstance(status, Mapping):
        status = {"code": status}
    return _build(
        trace_id=_mlflow_trace_id(attributes, hex_id(data.get("trace_id"), 16)),
        span_id=hex_id(data.get("span_id"), 8),
        parent_id=hex_id(data.get("parent_span_id"), 8),
        name=data.get("name"),
        start_ns=data.get("start_time_unix_nano"),
        end_ns=data.get("end_time_unix_nano"),
        status=_status_code(status.get("code")),
        message=status.get("message"),
        attributes=attributes,
        events=_events(data.get("events"), otlp=False, v2=False),
    )


def parse_span(data: Any) -> Span:
    """One span from any of MLflow's encodings; raises ``CorruptStore`` when it is malformed."""
    if not isinstance(data, Mapping):
        raise CorruptStore(f"A span is not a JSON object (got {type(data).__name__}).")
    try:
        if "context" in data:
            return _parse_v2(data)
        if isinstance(data.get("attributes"), list):
            return _parse_otlp(data)
        return _parse_current(data)
    except CorruptStore:
        raise
    except Exception as exc:  # any shape error in stored data is a corrupt span
        name = data.get("name", "?")
        raise CorruptStore(f"Span {name!r} is malformed: {exc}", detail=repr(exc)) from exc


def parse_span_json(text: str | bytes) -> Span:
    """One span from its JSON text (the ``spans.content`` column)."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError) as exc:
        raise CorruptStore(f"A span is not valid JSON: {exc}") from exc
    return parse_span(data)


def parse_spans(items: Iterable[Any]) -> tuple[list[Span], list[str]]:
    """Spans from decoded JSON objects, skipping malformed ones with a note for each."""
    spans: list[Span] = []
    notes: list[str] = []
    for index, item in enumerate(items):
        try:
            spans.append(parse_span(item))
        except CorruptStore as exc:
            notes.append(f"Skipped span #{index}: {exc.message}")
    return spans, notes


def parse_span_texts(texts: Iterable[str | bytes]) -> tuple[list[Span], list[str]]:
    """Spans from JSON texts (``spans.content`` rows), skipping malformed ones with a note."""
    texts = [t.decode("utf-8", "replace") if isinstance(t, bytes) else t for t in texts]
    try:  # one parse for the whole trace when every row is sound
        documents = json.loads("[" + ",".join(texts) + "]") if texts else []
    except (ValueError, TypeError):
        documents = None
    if documents is not None and len(documents) == len(texts):
        return parse_spans(documents)
    spans: list[Span] = []
    notes: list[str] = []
    for index, text in enumerate(texts):
        try:
            spans.append(parse_span_json(text))
        except CorruptStore as exc:
            notes.append(f"Skipped span #{index}: {exc.message}")
    return spans, notes


def parse_traces_json(text: str | bytes) -> tuple[list[Span], list[str]]:
    """Spans of a ``traces.json`` artifact (``{"spans": [...]}``, or a bare list)."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError) as exc:
        raise CorruptStore(f"traces.json is not valid JSON: {exc}") from exc
    if isinstance(data, Mapping):
        data = data.get("spans")
    if not isinstance(data, list):
        raise CorruptStore("traces.json has no list of spans.")
    return parse_spans(data)
