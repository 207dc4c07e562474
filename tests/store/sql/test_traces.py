"""SqlStore trace reads against traces written by real MLflow 3.17 (parity with its client)."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import pytest

os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402

from flowdeck.core.errors import InvalidFilter, NotFound  # noqa: E402
from flowdeck.core.spans import parse_traces_json  # noqa: E402
from flowdeck.store.sql import SqlStore  # noqa: E402


@mlflow.trace(span_type="RETRIEVER")
def retrieve(query: str) -> list[str]:
    return [f"doc about {query}", "another doc"]


@mlflow.trace(span_type="TOOL")
def calculator(expression: str) -> float:
    if "/0" in expression:
        raise ZeroDivisionError("division by zero")
    return float(len(expression))


@mlflow.trace(span_type="LLM")
def call_llm(prompt: str) -> str:
    span = mlflow.get_current_active_span()
    span.set_attribute(
        "mlflow.chat.tokenUsage", {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
    )
    return f"answer to {prompt[:20]}"


@mlflow.trace(span_type="AGENT", name="agent")
def agent(question: str, use_tool: bool = False) -> str:
    docs = retrieve(question)
    if use_tool:
        with contextlib.suppress(ZeroDivisionError):
            calculator(question)
    with mlflow.start_span(name="postprocess", span_type="PARSER") as span:
        span.set_inputs({"docs": docs})
        span.set_outputs({"n": len(docs)})
    return call_llm(question + " " + docs[0])


def write_traces(client: MlflowClient, experiment_id: str) -> list[str]:
    """Five traces of a toy agent, tagged and assessed; returns their ids in creation order."""
    mlflow.set_experiment(experiment_id=experiment_id)
    questions = ["what is mlflow", "1/0 please", "tell me a joke", "weather today", "sum 2+2"]
    ids = []
    for index, question in enumerate(questions):
        with mlflow.start_run() if index == 3 else contextlib.nullcontext():
            agent(question, use_tool=index in (1, 4))
        trace_id = mlflow.get_last_active_trace_id()
        ids.append(trace_id)
        client.set_trace_tag(trace_id, "team", "alpha" if index % 2 == 0 else "beta")
        time.sleep(0.01)
    try:
        with mlflow.start_span(name="failing_root", span_type="CHAIN"):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    ids.append(mlflow.get_last_active_trace_id())
    mlflow.log_feedback(trace_id=ids[0], name="quality", value=True, rationale="fine")
    mlflow.log_feedback(trace_id=ids[1], name="quality", value=False)
    mlflow.log_feedback(trace_id=ids[2], name="score", value=0.8)
    mlflow.log_expectation(trace_id=ids[0], name="expected", value="MLflow is a platform")
    mlflow.log_expectation(trace_id=ids[3], name="facts", value={"a": [1, 2]})
    return ids


@pytest.fixture(scope="module")
def trace_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("traces")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        client = MlflowClient(tracking_uri=uri)
        experiment_id = client.create_experiment(
            "agents", artifact_location=(folder / "artifacts").as_uri()
        )
        ids = write_traces(client, experiment_id)
        other = client.create_experiment("other", artifact_location=(folder / "a2").as_uri())
        mlflow.set_experiment(experiment_id=other)
        agent("other experiment question")
        ids.append(mlflow.get_last_active_trace_id())
        mlflow.flush_trace_async_logging()
    finally:
        mlflow.set_tracking_uri(previous)
    yield {"uri": uri, "client": client, "experiments": [experiment_id, other], "ids": ids}


@pytest.fixture(scope="module")
def reader(trace_store):
    store = SqlStore(trace_store["uri"])
    yield store
    store.close()


PARITY_FILTERS = [
    "",
    "trace.status = 'OK'",
    "status = 'ERROR'",
    "trace.status != 'OK'",
    "name = 'agent'",
    "trace.name LIKE 'fail%'",
    "tags.team = 'alpha'",
    "tags.team != 'alpha'",
    "tags.team IS NULL",
    "tags.team IS NOT NULL",
    "metadata.`mlflow.user` IS NOT NULL",
    "metadata.`mlflow.traceInputs` LIKE '%joke%'",
    "span.type = 'TOOL'",
    "span.status = 'ERROR'",
    "span.name = 'calculator' AND span.status = 'ERROR'",
    "span.name = 'retrieve' AND span.status = 'ERROR'",
    "span.type IN ('TOOL', 'PARSER')",
    "span.name LIKE 'call%'",
    "trace.text LIKE '%joke%'",
    "trace.text ILIKE '%JOKE%'",
    "span.content LIKE '%division by zero%'",
    "feedback.quality = 'true'",
    "feedback.quality = 'false'",
    "feedback.quality IS NOT NULL",
    "feedback.quality IS NULL",
    "feedback.score > 0.5",
    "feedback.score < 0.5",
    "expectation.expected = 'MLflow is a platform'",
    "expectation.facts LIKE '%[1, 2]%'",
    "execution_time_ms >= 0",
    "trace.timestamp_ms > 0 AND tags.team = 'beta'",
    "trace.request_id IN ('{id0}', '{id2}')",
    "trace.status IN ('OK', 'ERROR')",
    "trace.request_id NOT IN ('{id0}')",
]

PARITY_ORDERS = [
    (),
    ("timestamp_ms ASC",),
    ("execution_time_ms DESC",),
    ("name ASC",),
    ("status DESC", "timestamp_ms ASC"),
    ("request_id",),
]


def _mlflow_ids(trace_store, filter_string: str = "", order_by=()) -> list[str]:
    client = trace_store["client"]
    found = client.search_traces(
        experiment_ids=trace_store["experiments"][:1],
        filter_string=filter_string,
        order_by=list(order_by),
        max_results=500,
        include_spans=False,
    )
    return [trace.info.trace_id for trace in found]


@pytest.mark.parametrize("template", PARITY_FILTERS)
def test_search_traces_matches_mlflow(trace_store, reader, template):
    ids = trace_store["ids"]
    filter_string = template.format(id0=ids[0], id2=ids[2])
    ours = reader.search_traces(trace_store["experiments"][:1], filter_string, max_results=500)
    assert [info.trace_id for info in ours.items] == _mlflow_ids(trace_store, filter_string)


def test_parity_filters_are_selective(trace_store, reader):
    """Guard against vacuous parity: most filters return a strict, non-empty subset."""
    total = len(reader.search_traces(trace_store["experiments"][:1]).items)
    assert total == 6
    sizes = [
        len(
            reader.search_traces(
                trace_store["experiments"][:1],
                f.format(id0=trace_store["ids"][0], id2=trace_store["ids"][2]),
            ).items
        )
        for f in PARITY_FILTERS
    ]
    assert sum(0 < size < total for size in sizes) >= 20


@pytest.mark.parametrize("order_by", PARITY_ORDERS)
def test_search_traces_order_matches_mlflow(trace_store, reader, order_by):
    ours = reader.search_traces(trace_store["experiments"][:1], order_by=order_by)
    assert [i.trace_id for i in ours.items] == _mlflow_ids(trace_store, "", order_by)


def test_search_traces_pages_and_experiment_scope(trace_store, reader):
    experiments = trace_store["experiments"]
    first = reader.search_traces(experiments, max_results=4)
    assert len(first.items) == 4 and first.next_token
    second = reader.search_traces(experiments, max_results=4, page_token=first.next_token)
    assert second.next_token is None
    all_ids = [i.trace_id for i in first.items + second.items]
    assert sorted(all_ids) == sorted(trace_store["ids"])
    only_other = reader.search_traces(experiments[1:])
    assert [i.trace_id for i in only_other.items] == trace_store["ids"][-1:]


def test_trace_infos_carry_name_tokens_previews(trace_store, reader):
    infos = {i.trace_id: i for i in reader.search_traces(trace_store["experiments"][:1]).items}
    first = infos[trace_store["ids"][0]]
    assert first.name == "agent"
    assert first.status == "OK"
    assert first.token_usage == {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
    assert "what is mlflow" in first.request_preview
    assert first.tags["team"] == "alpha"
    failing = infos[trace_store["ids"][5]]
    assert failing.status == "ERROR" and failing.name == "failing_root"


def test_bad_filter_and_order_raise_invalid_filter(trace_store, reader):
    with pytest.raises(InvalidFilter):
        reader.search_traces(trace_store["experiments"], "span.bogus = 'x'")
    with pytest.raises(InvalidFilter):
        reader.search_traces(trace_store["experiments"], "status = 'OK' OR status = 'ERROR'")
    with pytest.raises(InvalidFilter):
        reader.search_traces(trace_store["experiments"], order_by=["tokens DESC"])


def test_trace_spans_match_mlflow_get_trace(trace_store, reader):
    client = trace_store["client"]
    for trace_id in trace_store["ids"]:
        ours = reader.trace(trace_id)
        theirs = client.get_trace(trace_id)
        expected = {
            s.span_id: (
                s.name,
                s.parent_id,
                s.span_type,
                s.status.status_code.value,
                s.status.description,
                s.inputs,
                s.outputs,
                s.start_time_ns,
            )
            for s in theirs.data.spans
        }
        got = {
            s.span_id: (
                s.name,
                s.parent_span_id,
                s.span_type,
                s.status,
                s.status_message,
                s.inputs,
                s.outputs,
                s.start_time_ns,
            )
            for s in ours.spans
        }
        assert got == expected
        assert {s.trace_id for s in ours.spans} == {trace_id}


def test_trace_has_error_span_events_and_assessments(trace_store, reader):
    trace = reader.trace(trace_store["ids"][1])
    calculator = next(s for s in trace.spans if s.name == "calculator")
    assert calculator.status == "ERROR"
    assert calculator.events and calculator.events[0].name == "exception"
    assert "division by zero" in calculator.events[0].attributes["exception.message"]
    llm = next(s for s in trace.spans if s.span_type == "LLM")
    assert llm.attributes["mlflow.chat.tokenUsage"]["total_tokens"] == 15
    quality = [a for a in trace.assessments if a.name == "quality"]
    assert quality and quality[0].kind == "feedback" and quality[0].value is False
    first = reader.trace(trace_store["ids"][0])
    by_name = {a.name: a for a in first.assessments}
    assert by_name["quality"].value is True and by_name["quality"].rationale == "fine"
    assert by_name["expected"].kind == "expectation"
    assert by_name["expected"].value == "MLflow is a platform"


def test_unknown_trace_raises_not_found(reader):
    with pytest.raises(NotFound):
        reader.trace("tr-00000000000000000000000000000000")


def test_trace_spans_from_traces_json_artifact(trace_store, reader, tmp_path):
    """A trace whose spans live in its traces.json artifact (older MLflow, file store)."""
    import shutil
    import sqlite3

    source = Path(trace_store["uri"].removeprefix("sqlite:///"))
    copy = tmp_path / "copy.db"
    shutil.copy(source, copy)
    trace_id = trace_store["ids"][1]
    expected = {s.span_id for s in reader.trace(trace_id).spans}
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    connection = sqlite3.connect(copy)
    contents = [
        row[0]
        for row in connection.execute("SELECT content FROM spans WHERE trace_id = ?", (trace_id,))
    ]
    (artifacts / "traces.json").write_text('{"spans": [' + ",".join(contents) + "]}")
    connection.execute("DELETE FROM spans WHERE trace_id = ?", (trace_id,))
    connection.execute(
        "UPDATE trace_tags SET value = 'ARTIFACT_REPO' WHERE request_id = ? AND key = ?",
        (trace_id, "mlflow.trace.spansLocation"),
    )
    connection.execute(
        "UPDATE trace_tags SET value = ? WHERE request_id = ? AND key = ?",
        (artifacts.as_uri(), trace_id, "mlflow.artifactLocation"),
    )
    connection.commit()
    connection.close()
    copied = SqlStore(f"sqlite:///{copy}")
    try:
        assert {s.span_id for s in copied.trace(trace_id).spans} == expected
    finally:
        copied.close()


def test_thirty_thousand_spans_load_and_build_a_tree(trace_store, tmp_path):
    import json
    import shutil
    import sqlite3

    from flowdeck.core.trace_tree import build_trace_tree

    source = Path(trace_store["uri"].removeprefix("sqlite:///"))
    copy = tmp_path / "big.db"
    shutil.copy(source, copy)
    trace_id = trace_store["ids"][0]
    connection = sqlite3.connect(copy)
    row = connection.execute(
        "SELECT experiment_id, content FROM spans WHERE trace_id = ? AND parent_span_id IS NULL",
        (trace_id,),
    ).fetchone()
    template = json.loads(row[1])
    rows = []
    parent = None
    for index in range(30_000):
        span_hex = f"{index + 1:016x}"
        span = dict(template, span_id=span_hex, parent_span_id=parent, name=f"step {index}")
        span["start_time_unix_nano"] = template["start_time_unix_nano"] + index
        # a deep chain for the first 5,000 spans, then a wide fan-out
        parent = span_hex if index < 5_000 else f"{5_000:016x}"
        rows.append(
            (
                trace_id,
                row[0],
                span_hex,
                span["parent_span_id"],
                span["name"],
                "AGENT",
                "OK",
                span["start_time_unix_nano"],
                json.dumps(span),
            )
        )
    connection.execute("DELETE FROM spans WHERE trace_id = ?", (trace_id,))
    connection.executemany(
        "INSERT INTO spans (trace_id, experiment_id, span_id, parent_span_id, name, type, status,"
        " start_time_unix_nano, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    connection.commit()
    connection.close()
    big = SqlStore(f"sqlite:///{copy}")
    try:  # how fast is benchmarks' business (bench_traces.py); here: that it is whole
        trace = big.trace(trace_id)
        tree = build_trace_tree(trace.spans)
    finally:
        big.close()
    assert len(trace.spans) == 30_000
    assert tree.max_depth == 5_000
    assert len(tree.order) == 30_000


def test_file_store_traces_json_parses(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    store = tmp_path / "mlruns"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(store.as_uri())
    try:
        client = MlflowClient(tracking_uri=store.as_uri())
        experiment_id = client.create_experiment("files")
        mlflow.set_experiment(experiment_id=experiment_id)
        agent("1/0 in a file store", use_tool=True)
        trace_id = mlflow.get_last_active_trace_id()
        mlflow.flush_trace_async_logging()
        expected = client.get_trace(trace_id).data.spans
    finally:
        mlflow.set_tracking_uri(previous)
    files = list(store.rglob("traces.json"))
    assert len(files) == 1
    spans, notes = parse_traces_json(files[0].read_bytes())
    assert notes == []
    assert {(s.span_id, s.parent_span_id, s.name, s.span_type, s.status) for s in spans} == {
        (s.span_id, s.parent_id, s.name, s.span_type, s.status.status_code.value) for s in expected
    }
