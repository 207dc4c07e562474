"""Normalise spans from every encoding MLflow has used into ``entities.Span``."""

from __future__ import annotations

import base64
import binascii
import json
import re
from binascii import a2b_base64
from collections.abc import Iterable, Mapping
from typing import Any

from flowdeck.core.entities import Span, SpanEvent, SpanPayload
from flowdeck.core.errors import CorruptStore
from flowdeck.core.gc_pause import gc_paused
from flowdeck.core.span_json import span_items

__all__ = ["parse_span", "parse_spans", "parse_traces_json", "span_items"]

SPAN_TYPE_KEY = "mlflow.spanType"
SPAN_INPUTS_KEY = "mlflow.spanInputs"
SPAN_OUTPUTS_KEY = "mlflow.spanOutputs"
REQUEST_ID_KEY = "mlflow.traceRequestId"

_HEX_RE = re.compile(r"(?:0x)?([0-9a-fA-F]+)")
_HEX_DIGITS = "0123456789abcdefABCDEF"
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
        if len(value) == 2 * n_bytes and not value.strip(_HEX_DIGITS):
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


def _header_attribute(raw: Any, key: str, *, otlp: bool) -> Any:
    """One attribute decoded on its own (the span type, the request id), the rest left raw."""
    if otlp:
        for item in raw:
            if item.get("key") == key:
                return _otlp_value(item.get("value"))
        return None
    if not isinstance(raw, Mapping):
        return None
    value = raw.get(key)
    if type(value) is str and len(value) > 1 and value[0] == value[-1] == '"' and "\\" not in value:
        return value[1:-1]  # a plain JSON string, without a parse
    return decode_attribute(value)


def _span_type(value: Any) -> str:
    return str(value) if value else "UNKNOWN"


def _mlflow_trace_id(request_id: Any, otel_trace_hex: str | None) -> str:
    if isinstance(request_id, str) and request_id:
        return request_id
    return f"tr-{otel_trace_hex}" if otel_trace_hex else ""


def _payload_v2(data: Mapping[str, Any]) -> SpanPayload:
    attributes = decode_attributes(data.get("attributes") or {})
    events = _events(data.get("events"), otlp=False, v2=True)
    return str(data.get("status_message") or ""), attributes, events


def _payload_otlp(data: Mapping[str, Any]) -> SpanPayload:
    status = data.get("status") or {}
    events = _events(data.get("events"), otlp=True, v2=False)
    return str(status.get("message") or ""), _otlp_attributes(data["attributes"]), events


def _current_status(data: Mapping[str, Any]) -> Mapping[str, Any]:
    status = data.get("status") or {}
    return status if isinstance(status, Mapping) else {"code": status}


def _payload_current(data: Mapping[str, Any]) -> SpanPayload:
    attributes = decode_attributes(data.get("attributes") or {})
    events = _events(data.get("events"), otlp=False, v2=False)
    return str(_current_status(data).get("message") or ""), attributes, events


def _payload_of(data: Any) -> SpanPayload:
    if not isinstance(data, Mapping):
        raise CorruptStore(f"A span is not a JSON object (got {type(data).__name__}).")
    if "context" in data:
        return _payload_v2(data)
    if isinstance(data.get("attributes"), list):
        return _payload_otlp(data)
    return _payload_current(data)


def _payload_text(text: str | bytes) -> SpanPayload:
    """The payload of a ``spans.content`` row (decoded when the span is first looked into)."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError) as exc:
        raise CorruptStore(f"its stored JSON is invalid ({exc})") from exc
    return _payload_of(data)


def _lazy(data: Mapping[str, Any], decoder: Any, **header: Any) -> Span:
    if header["span_id"] is None:
        raise ValueError("the span has no id")
    name, end_ns = header["name"], header["end_ns"]
    return Span.lazy(
        trace_id=header["trace_id"],
        span_id=header["span_id"],
        parent_span_id=header["parent_id"],
        name=str(name) if name is not None else "",
        span_type=_span_type(header["span_type"]),
        status=header["status"],
        start_time_ns=int(header["start_ns"] or 0),
        end_time_ns=_int_or_none(end_ns),
        raw=data,
        decoder=decoder,
    )


def _parse_v2(data: Mapping[str, Any]) -> Span:
    context = data["context"]
    raw = data.get("attributes") or {}
    return _lazy(
        data,
        _payload_v2,
        trace_id=_mlflow_trace_id(
            _header_attribute(raw, REQUEST_ID_KEY, otlp=False), hex_id(context.get("trace_id"), 16)
        ),
        span_id=hex_id(context.get("span_id"), 8),
        parent_id=hex_id(data.get("parent_id"), 8),
        name=data.get("name"),
        start_ns=data.get("start_time"),
        end_ns=data.get("end_time"),
        status=_status_code(data.get("status_code")),
        span_type=_header_attribute(raw, SPAN_TYPE_KEY, otlp=False),
    )


def _parse_otlp(data: Mapping[str, Any]) -> Span:
    raw = data["attributes"]
    status = data.get("status") or {}
    return _lazy(
        data,
        _payload_otlp,
        trace_id=_mlflow_trace_id(
            _header_attribute(raw, REQUEST_ID_KEY, otlp=True),
            hex_id(data.get("trace_id", data.get("traceId")), 16),
        ),
        span_id=hex_id(data.get("span_id", data.get("spanId")), 8),
        parent_id=hex_id(data.get("parent_span_id", data.get("parentSpanId")), 8),
        name=data.get("name"),
        start_ns=data.get("start_time_unix_nano", data.get("startTimeUnixNano")),
        end_ns=data.get("end_time_unix_nano", data.get("endTimeUnixNano")),
        status=_status_code(status.get("code")),
        span_type=_header_attribute(raw, SPAN_TYPE_KEY, otlp=True),
    )


def _parse_current(data: Mapping[str, Any]) -> Span:
    """The current span JSON (base64 ids) and the 3.5.0 variant (hex ids, plain codes)."""
    raw = data.get("attributes") or {}
    return _lazy(
        data,
        _payload_current,
        trace_id=_mlflow_trace_id(
            _header_attribute(raw, REQUEST_ID_KEY, otlp=False), hex_id(data.get("trace_id"), 16)
        ),
        span_id=hex_id(data.get("span_id"), 8),
        parent_id=hex_id(data.get("parent_span_id"), 8),
        name=data.get("name"),
        start_ns=data.get("start_time_unix_nano"),
        end_ns=data.get("end_time_unix_nano"),
        status=_status_code(_current_status(data).get("code")),
        span_type=_header_attribute(raw, SPAN_TYPE_KEY, otlp=False),
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
    quick = _QuickParser()
    with gc_paused(freeze=True):
        for index, item in enumerate(items):
            try:
                spans.append(quick(item) or parse_span(item))
            except CorruptStore as exc:
                notes.append(f"Skipped span #{index}: {exc.message}")
    return spans, notes


_STATUS_NAMES = {"STATUS_CODE_OK": "OK", "STATUS_CODE_ERROR": "ERROR", "STATUS_CODE_UNSET": "UNSET"}


class _QuickParser:
    """``parse_span`` for the usual shape (the current span JSON), in a third of the time.

    Ids, the span type and the request id repeat across a trace's spans (every parent id is
    some span's id), so their decoded forms are cached. Any other shape, or anything odd,
    returns None and the general parser decides (and says what is wrong).
    """

    def __init__(self) -> None:
        self._span_ids: dict[str, str] = {}
        self._trace_ids: dict[str, str] = {}
        self._texts: dict[str, Any] = {}

    def _id(self, value: Any, cache: dict[str, str], n_bytes: int) -> str | None:
        if type(value) is not str:
            return hex_id(value, n_bytes)
        found = cache.get(value)
        if found is None:
            found = cache[value] = hex_id(value, n_bytes)  # type: ignore[assignment]
        return found

    def _text(self, value: Any) -> Any:
        if type(value) is not str:
            return decode_attribute(value)
        found = self._texts.get(value, self)
        if found is self:
            found = self._texts[value] = _header_attribute({"": value}, "", otlp=False)
        return found

    def __call__(self, data: Any) -> Span | None:
        try:
            if type(data) is not dict or "context" in data:
                return None
            raw, status = data["attributes"], data["status"]
            if type(raw) is not dict or type(status) is not dict:
                return None
            ids, value = self._span_ids, data["span_id"]
            if type(value) is str and len(value) == 12 and value[11] == "=":  # base64: unique
                span_id = ids[value] = a2b_base64(value, strict_mode=True).hex()
            else:
                span_id = self._id(value, ids, 8)
                if span_id is None:
                    return None
            value = data["parent_span_id"]
            parent_id = ids[value] if value in ids else self._id(value, ids, 8)
            trace_hex = self._id(data["trace_id"], self._trace_ids, 16)
            texts = self._texts
            value = raw.get(REQUEST_ID_KEY)
            request = texts[value] if value in texts else self._text(value)
            value = raw.get(SPAN_TYPE_KEY)
            span_type = texts[value] if value in texts else self._text(value)
            name, code = data["name"], status["code"]
            end_ns = data["end_time_unix_nano"]
            return Span.lazy(
                request if type(request) is str and request else _mlflow_trace_id("", trace_hex),
                span_id,
                parent_id,
                name if type(name) is str else "" if name is None else str(name),
                span_type if type(span_type) is str and span_type else _span_type(span_type),
                _STATUS_NAMES[code] if code in _STATUS_NAMES else _status_code(code),
                int(data["start_time_unix_nano"] or 0),
                None if end_ns is None or end_ns == "" else int(end_ns),
                data,
                _payload_current,
            )
        except Exception:  # noqa: BLE001 - the general parser reports it
            return None


def parse_span_texts(texts: Iterable[str | bytes]) -> tuple[list[Span], list[str]]:
    """Spans from JSON texts (``spans.content`` rows), skipping malformed ones with a note."""
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
    with gc_paused(freeze=True):
        items = span_items(text)
    return parse_spans(items)


def span_from_columns(
    trace_id: str,
    span_id: Any,
    parent_span_id: Any,
    name: Any,
    span_type: Any,
    status: Any,
    start_ns: Any,
    end_ns: Any,
    content: str | bytes,
) -> Span:
    """A span from the ``spans`` table's columns; its ``content`` JSON is decoded on first use."""
    found = hex_id(span_id, 8)
    if found is None:
        raise CorruptStore("A span row has no span id.")
    try:
        return Span.lazy(
            trace_id=trace_id,
            span_id=found,
            parent_span_id=hex_id(parent_span_id, 8),
            name=str(name) if name is not None else "",
            span_type=_span_type(span_type),
            status=_status_code(status),
            start_time_ns=int(start_ns or 0),
            end_time_ns=_int_or_none(end_ns),
            raw=content,
            decoder=_payload_text,
        )
    except (TypeError, ValueError) as exc:
        raise CorruptStore(f"Span row {found} is malformed: {exc}") from exc
