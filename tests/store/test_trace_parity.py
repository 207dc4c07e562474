"""Traces written by real MLflow tracing read identically from SQLite, files and a server.

The same agent (``@mlflow.trace``, ``start_span``, nested spans, a caught exception, a failing
trace, CHAT_MODEL and RETRIEVER spans, token usage, a 100 KB payload, assessments with an
override) is traced into each store; Flowdeck's reading of each equals the others' and
MLflow's own ``get_trace``. Damaged span rows and a truncated ``traces.json`` give plain
messages, and the 100,000-span benchmark trace reads the same from SQLite and files.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402

from flowdeck.core.assessments import assessment_badges  # noqa: E402
from flowdeck.core.errors import CorruptStore  # noqa: E402
from flowdeck.core.trace_tree import build_trace_tree  # noqa: E402
from flowdeck.store import open_store  # noqa: E402

BIG_TEXT = "lorem ipsum " * 8_700  # ~100 KB
VOLATILE_ATTRIBUTES = {"mlflow.traceRequestId"}


@mlflow.trace(span_type="RETRIEVER")
def retrieve(query: str) -> list[dict[str, Any]]:
    return [
        {"page_content": f"about {query}", "metadata": {"doc_uri": "doc://1", "score": 0.9}},
        {"page_content": "other", "metadata": {"doc_uri": "doc://2", "score": 0.4}},
    ]


@mlflow.trace(span_type="CHAT_MODEL")
def chat(messages: list[dict[str, str]]) -> dict[str, Any]:
    mlflow.get_current_active_span().set_attribute(
        "mlflow.chat.tokenUsage", {"input_tokens": 12, "output_tokens": 7, "total_tokens": 19}
    )
    return {"choices": [{"message": {"role": "assistant", "content": "Paris"}}]}


@mlflow.trace(span_type="TOOL")
def divide(a: int, b: int) -> float:
    return a / b


@mlflow.trace(span_type="AGENT", name="agent")
def agent(question: str) -> str:
    docs = retrieve(question)
    with contextlib.suppress(ZeroDivisionError):
        divide(1, 0)
    with mlflow.start_span(name="summarise", span_type="PARSER") as span:
        span.set_inputs({"text": BIG_TEXT})
        with mlflow.start_span(name="inner", span_type="CHAIN") as inner:
            inner.set_inputs({"n": len(docs)})
            inner.set_outputs([1, 2.5, None, True])
        span.set_outputs({"chars": len(BIG_TEXT)})
    reply = chat([{"role": "user", "content": question}])
    return reply["choices"][0]["message"]["content"]


def write_traces(uri: str) -> dict[str, str]:
    """Trace the agent into ``uri`` (plus a failing trace); returns {label: trace id}."""
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        client = MlflowClient(tracking_uri=uri)
        mlflow.set_experiment(experiment_id=client.create_experiment("parity"))
        agent("What is the capital of France?")
        ids = {"agent": mlflow.get_last_active_trace_id()}
        with contextlib.suppress(RuntimeError), mlflow.start_span("failing", span_type="CHAIN"):
            raise RuntimeError("boom")
        ids["failing"] = mlflow.get_last_active_trace_id()
        mlflow.flush_trace_async_logging()
        first = mlflow.log_feedback(trace_id=ids["agent"], name="correct", value="no")
        mlflow.override_feedback(
            trace_id=ids["agent"], assessment_id=first.assessment_id, value="yes"
        )
        mlflow.log_feedback(trace_id=ids["agent"], name="relevance", value=False, rationale="x")
        mlflow.log_feedback(trace_id=ids["agent"], name="score", value=0.75)
        mlflow.log_expectation(trace_id=ids["agent"], name="expected", value="Paris")
        return ids
    finally:
        mlflow.set_tracking_uri(previous)
        import mlflow.tracking.fluent as fluent

        fluent._active_experiment_id = None


def span_view(spans: Any, *, mlflow_spans: bool = False) -> list[tuple]:
    """Comparable spans: names for ids, attributes without the store-specific request id."""
    spans = list(spans)
    names = {s.span_id: s.name for s in spans}
    rows = []
    for s in spans:
        parent = s.parent_id if mlflow_spans else s.parent_span_id
        status = s.status.status_code.value if mlflow_spans else s.status
        message = s.status.description if mlflow_spans else s.status_message
        attributes = {k: v for k, v in s.attributes.items() if k not in VOLATILE_ATTRIBUTES}
        events = [(e.name, sorted(e.attributes)) for e in s.events]
        rows.append(
            (s.name, s.span_type, status, message or "", names.get(parent), s.inputs, s.outputs)
            + (json.dumps(attributes, sort_keys=True, default=str), json.dumps(events))
        )
    return sorted(rows, key=lambda row: json.dumps(row, default=str))


def info_view(trace: Any) -> dict[str, Any]:
    info = trace.info
    return {
        "status": info.status,
        "name": info.name,
        "request": info.request_preview,
        "response": info.response_preview,
        "tokens": info.token_usage,
        "assessments": sorted(
            (a.name, a.kind, json.dumps(a.value), a.valid, a.rationale) for a in trace.assessments
        ),
    }


@pytest.fixture(scope="module")
def sqlite_written(tmp_path_factory) -> tuple[str, dict[str, str]]:
    folder = tmp_path_factory.mktemp("parity-sqlite")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    return uri, write_traces(uri)


@pytest.fixture(scope="module")
def files_written(tmp_path_factory) -> tuple[str, dict[str, str]]:
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    uri = (tmp_path_factory.mktemp("parity-files") / "mlruns").as_uri()
    return uri, write_traces(uri)


def _store_location(uri: str) -> str:
    return uri.removeprefix("sqlite:///") if uri.startswith("sqlite:") else uri


@pytest.fixture(scope="module")
def readings(sqlite_written, files_written) -> dict[str, dict[str, Any]]:
    found = {}
    for label, (uri, ids) in (("sqlite", sqlite_written), ("files", files_written)):
        store = open_store(_store_location(uri))
        try:
            found[label] = {name: store.trace(trace_id) for name, trace_id in ids.items()}
        finally:
            store.close()
    return found


def test_sqlite_and_file_store_read_the_same_traces(readings):
    for name in ("agent", "failing"):
        sqlite, files = readings["sqlite"][name], readings["files"][name]
        assert span_view(sqlite.spans) == span_view(files.spans)
        assert info_view(sqlite) == info_view(files)


@pytest.mark.parametrize("label", ["sqlite", "files"])
def test_reading_matches_mlflow_get_trace(label, readings, sqlite_written, files_written):
    uri, ids = sqlite_written if label == "sqlite" else files_written
    client = MlflowClient(tracking_uri=uri)
    for name, trace_id in ids.items():
        theirs = client.get_trace(trace_id)
        ours = readings[label][name]
        assert span_view(ours.spans) == span_view(theirs.data.spans, mlflow_spans=True)
        assert ours.info.status == theirs.info.state.value
        assert sorted(a.name for a in ours.assessments) == sorted(
            a.name for a in theirs.info.assessments
        )


def test_the_agent_trace_has_what_was_traced(readings):
    trace = readings["sqlite"]["agent"]
    spans = {s.name: s for s in trace.spans}
    assert spans["agent"].span_type == "AGENT" and spans["retrieve"].span_type == "RETRIEVER"
    assert spans["chat"].span_type == "CHAT_MODEL"
    assert spans["chat"].attributes["mlflow.chat.tokenUsage"]["total_tokens"] == 19
    assert spans["divide"].status == "ERROR" and spans["divide"].events[0].name == "exception"
    assert spans["summarise"].inputs == {"text": BIG_TEXT}
    assert spans["inner"].outputs == [1, 2.5, None, True]
    assert readings["sqlite"]["failing"].info.status == "ERROR"
    assert assessment_badges(trace.assessments) == "correct ✓ · relevance ✗ · score 0.75"


@pytest.mark.parametrize("label", ["sqlite", "files"])
def test_search_traces_carries_assessments(label, sqlite_written, files_written):
    uri, ids = sqlite_written if label == "sqlite" else files_written
    store = open_store(_store_location(uri))
    try:
        experiments = store.experiments()
        experiment_ids = list(experiments["experiment_id"])
        infos = {i.trace_id: i for i in store.search_traces(experiment_ids).items}
    finally:
        store.close()
    badges = assessment_badges(infos[ids["agent"]].assessments)
    assert badges == "correct ✓ · relevance ✗ · score 0.75"
    assert infos[ids["failing"]].assessments == ()


def test_lazy_spans_decode_payloads_only_when_read(sqlite_written):
    uri, ids = sqlite_written
    store = open_store(_store_location(uri))
    try:
        trace = store.trace(ids["agent"])
    finally:
        store.close()
    assert not any(s.is_decoded for s in trace.spans)
    assert {s.name for s in trace.spans} >= {"agent", "chat"}  # names need no decoding
    assert not any(s.is_decoded for s in trace.spans)
    summarise = next(s for s in trace.spans if s.name == "summarise")
    assert len(summarise.inputs["text"]) == len(BIG_TEXT) and summarise.is_decoded


@pytest.mark.slow
@pytest.mark.server
def test_a_real_mlflow_server_reads_the_same(tmp_path, readings):
    from tests.helpers.servers import start_mlflow_server

    server = start_mlflow_server(tmp_path / "server")
    try:
        ids = write_traces(server.url)
        store = open_store(server.url)
        try:
            for name, trace_id in ids.items():
                ours = store.trace(trace_id)
                assert span_view(ours.spans) == span_view(readings["sqlite"][name].spans)
                assert info_view(ours) == info_view(readings["sqlite"][name])
            experiment_ids = list(store.experiments()["experiment_id"])
            infos = {i.trace_id: i for i in store.search_traces(experiment_ids).items}
            assert assessment_badges(infos[ids["agent"]].assessments) == (
                "correct ✓ · relevance ✗ · score 0.75"
            )
        finally:
            store.close()
    finally:
        server.stop()


# --- damaged stores ----------------------------------------------------------------------------


def test_a_damaged_span_row_is_a_plain_problem_of_that_span(sqlite_written, tmp_path):
    uri, ids = sqlite_written
    copy = tmp_path / "damaged.db"
    shutil.copy(uri.removeprefix("sqlite:///"), copy)
    with contextlib.closing(sqlite3.connect(copy)) as connection:
        connection.execute(
            'UPDATE spans SET content = \'{"name": "chat", "attri\' WHERE name = \'chat\''
        )
        connection.commit()
    store = open_store(str(copy))
    try:
        trace = store.trace(ids["agent"])
        other = store.trace(ids["failing"])
    finally:
        store.close()
    chat_span = next(s for s in trace.spans if s.name == "chat")
    assert chat_span.span_type == "CHAT_MODEL" and chat_span.status == "OK"
    assert chat_span.attributes == {} and chat_span.inputs is None
    assert "damaged" in chat_span.problem and "chat" in chat_span.problem
    agent_span = next(s for s in trace.spans if s.name == "agent")
    assert agent_span.problem is None and agent_span.inputs
    assert len(build_trace_tree(trace.spans)) == len(trace.spans)
    assert other.spans and other.spans[0].name == "failing"


def test_a_truncated_traces_json_names_the_trace(files_written, tmp_path):
    uri, ids = files_written
    root = tmp_path / "mlruns"
    shutil.copytree(Path(uri.removeprefix("file://")), root)
    path = next(root.rglob(f"traces/{ids['agent']}/artifacts/traces.json"))
    text = path.read_bytes()
    path.write_bytes(text[: len(text) // 2])
    store = open_store(str(root))
    try:
        with pytest.raises(CorruptStore) as caught:
            store.trace(ids["agent"])
        assert ids["agent"] in caught.value.message
        assert "not valid JSON" in caught.value.message
        assert store.trace(ids["failing"]).spans
    finally:
        store.close()


# --- the 100,000-span trace --------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_trace(tmp_path_factory) -> dict[str, str]:
    from benchmarks.gen_big_trace import generate_big_trace

    return generate_big_trace(tmp_path_factory.mktemp("big"))


def _shape(trace: Any) -> list[tuple]:
    tree = build_trace_tree(trace.spans)
    return [
        (trace.spans[i].name, trace.spans[i].span_type, trace.spans[i].status, tree.depth[i])
        for i in tree.order
    ]


@pytest.mark.slow
def test_the_big_trace_reads_the_same_from_sqlite_and_files(big_trace):
    found = {}
    for kind in ("sqlite", "files"):
        store = open_store(big_trace[kind])
        try:
            found[kind] = store.trace(big_trace[f"{kind}_trace"])
        finally:
            store.close()
    sqlite, files = found["sqlite"], found["files"]
    assert len(sqlite.spans) == len(files.spans) == 100_000
    assert _shape(sqlite) == _shape(files)
    assert max(build_trace_tree(sqlite.spans).depth) == 20
    for index in (0, 777, 54_321, 99_999):  # payloads, decoded on demand
        a = sorted(sqlite.spans, key=lambda s: s.name)[index]
        b = sorted(files.spans, key=lambda s: s.name)[index]
        assert (a.inputs, a.outputs, a.events) == (b.inputs, b.outputs, b.events)


@pytest.mark.slow
def test_the_big_trace_model_passes_the_model_tester(big_trace, qapp, qtmodeltester):
    from flowdeck.ui.traces.span_model import SpanTreeModel

    store = open_store(big_trace["sqlite"])
    try:
        trace = store.trace(big_trace["sqlite_trace"])
    finally:
        store.close()
    model = SpanTreeModel()
    model.set_tree(build_trace_tree(trace.spans))
    qtmodeltester.check(model)
