"""Span normalisation from every encoding MLflow has used."""

from __future__ import annotations

import base64
import json

import pytest

from flowdeck.core.errors import CorruptStore
from flowdeck.core.spans import hex_id, parse_span, parse_span_texts, parse_traces_json

TRACE_HEX = "0123456789abcdef0123456789abcdef"
SPAN_HEX = "00000000000000ff"
PARENT_HEX = "a1b2c3d4e5f60718"


def b64(hex_text: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_text)).decode()


def current_span(**overrides):
    span = {
        "trace_id": b64(TRACE_HEX),
        "span_id": b64(SPAN_HEX),
        "parent_span_id": b64(PARENT_HEX),
        "name": "call_llm",
        "start_time_unix_nano": 1_000,
        "end_time_unix_nano": 5_000,
        "status": {"code": "STATUS_CODE_ERROR", "message": "boom"},
        "attributes": {
            "mlflow.traceRequestId": json.dumps(f"tr-{TRACE_HEX}"),
            "mlflow.spanType": json.dumps("LLM"),
            "mlflow.spanInputs": json.dumps({"q": 3}),
            "mlflow.spanOutputs": json.dumps("hi"),
            "custom": json.dumps([1, 2]),
        },
        "events": [
            {
                "name": "exception",
                "time_unix_nano": 4_000,
                "attributes": {"exception.message": "boom"},
            }
        ],
    }
    span.update(overrides)
    return span


def test_current_format_decodes_ids_type_io_status_events():
    span = parse_span(current_span())
    assert span.trace_id == f"tr-{TRACE_HEX}"
    assert (span.span_id, span.parent_span_id) == (SPAN_HEX, PARENT_HEX)
    assert span.span_type == "LLM"
    assert span.inputs == {"q": 3} and span.outputs == "hi"
    assert span.attributes["custom"] == [1, 2]
    assert (span.status, span.status_message) == ("ERROR", "boom")
    assert (span.start_time_ns, span.end_time_ns) == (1_000, 5_000)
    assert span.events[0].name == "exception"
    assert span.events[0].time_unix_nano == 4_000
    assert span.events[0].attributes == {"exception.message": "boom"}


def test_root_span_and_plain_text_attribute():
    span = parse_span(
        current_span(
            parent_span_id=None,
            attributes={"mlflow.traceRequestId": json.dumps("tr-x"), "raw": "not json"},
        )
    )
    assert span.parent_span_id is None
    assert span.attributes["raw"] == "not json"
    assert span.span_type == "UNKNOWN"


def test_mlflow_350_variant_with_hex_ids_and_plain_status():
    span = parse_span(
        current_span(
            trace_id=f"tr-{TRACE_HEX}",
            span_id=SPAN_HEX,
            parent_span_id=PARENT_HEX.upper(),
            status={"code": "OK", "message": ""},
        )
    )
    assert (span.span_id, span.parent_span_id) == (SPAN_HEX, PARENT_HEX)
    assert span.status == "OK"


def test_v2_form():
    span = parse_span(
        {
            "name": "retrieve",
            "context": {"trace_id": "0x" + TRACE_HEX, "span_id": "0x" + SPAN_HEX},
            "parent_id": "0x" + PARENT_HEX,
            "start_time": 10,
            "end_time": 20,
            "status_code": "ERROR",
            "status_message": "bad",
            "attributes": {
                "mlflow.traceRequestId": json.dumps(TRACE_HEX),
                "mlflow.spanType": json.dumps("RETRIEVER"),
                "mlflow.spanOutputs": json.dumps([{"doc": 1}]),
            },
            "events": [{"name": "e", "timestamp": 15, "attributes": {"k": "v"}}],
        }
    )
    assert span.trace_id == TRACE_HEX  # 2.x request ids have no tr- prefix
    assert (span.span_id, span.parent_span_id) == (SPAN_HEX, PARENT_HEX)
    assert (span.status, span.status_message, span.span_type) == ("ERROR", "bad", "RETRIEVER")
    assert span.outputs == [{"doc": 1}]
    assert span.events[0].time_unix_nano == 15 and span.events[0].attributes == {"k": "v"}


def test_rest_otlp_json_form():
    span = parse_span(
        {
            "trace_id": b64(TRACE_HEX),
            "span_id": b64(SPAN_HEX),
            "name": "agent",
            "start_time_unix_nano": "100",
            "end_time_unix_nano": "300",
            "status": {"code": "STATUS_CODE_OK"},
            "attributes": [
                {"key": "mlflow.traceRequestId", "value": {"string_value": f"tr-{TRACE_HEX}"}},
                {"key": "mlflow.spanType", "value": {"string_value": "AGENT"}},
                {
                    "key": "mlflow.spanInputs",
                    "value": {
                        "kvlist_value": {
                            "values": [
                                {"key": "question", "value": {"string_value": "why"}},
                                {"key": "n", "value": {"int_value": "3"}},
                            ]
                        }
                    },
                },
                {"key": "tags", "value": {"array_value": {"values": [{"bool_value": True}]}}},
            ],
            "events": [
                {
                    "name": "e",
                    "time_unix_nano": "200",
                    "attributes": [{"key": "k", "value": {"double_value": 1.5}}],
                }
            ],
        }
    )
    assert span.parent_span_id is None and span.span_id == SPAN_HEX
    assert span.span_type == "AGENT" and span.status == "OK"
    assert span.inputs == {"question": "why", "n": 3}
    assert span.attributes["tags"] == [True]
    assert span.start_time_ns == 100 and span.end_time_ns == 300
    assert span.events[0].attributes == {"k": 1.5}


def test_missing_status_is_unset_and_missing_end_time_is_none():
    span = parse_span(current_span(status=None, end_time_unix_nano=None))
    assert span.status == "UNSET" and span.end_time_ns is None


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        3,
        "text",
        [],
        {"name": "x"},
        {"span_id": "not an id!", "attributes": {}},
        {"context": {}, "name": "v2 without ids"},
    ],
)
def test_malformed_span_raises_corrupt_store(garbage):
    with pytest.raises(CorruptStore):
        parse_span(garbage)


def test_bad_rows_are_skipped_with_a_note():
    good = json.dumps(current_span())
    spans, notes = parse_span_texts([good, "{not json", json.dumps({"name": "x"}), good])
    assert len(spans) == 2
    assert len(notes) == 2 and "#1" in notes[0] and "#2" in notes[1]


def test_traces_json_file_shapes():
    spans, notes = parse_traces_json(json.dumps({"spans": [current_span(), 5]}))
    assert len(spans) == 1 and len(notes) == 1
    with pytest.raises(CorruptStore):
        parse_traces_json(b"\x00garbage")
    with pytest.raises(CorruptStore):
        parse_traces_json('{"no_spans": 1}')


def test_hex_id_forms():
    assert hex_id(255, 8) == SPAN_HEX
    assert hex_id("0xFF", 8) == SPAN_HEX
    assert hex_id(b64(SPAN_HEX), 8) == SPAN_HEX
    assert hex_id(f"tr-{TRACE_HEX}", 16) == TRACE_HEX
    assert hex_id("", 8) is None
    with pytest.raises(ValueError):
        hex_id("zz??", 8)
