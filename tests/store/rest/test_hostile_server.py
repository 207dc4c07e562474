"""RestStore against a fault-injecting server: bounded waits, no leaked secret, readable errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.helpers.fault_server import (
    FaultServer,
    Reply,
    Request,
    Trickle,
    by_endpoint,
    endpoint_of,
    fault_server,
    json_reply,
)
from tests.helpers.servers import free_port

from flowdeck.core.errors import FlowdeckError, ServerError, StoreTimeout, StoreUnreachable
from flowdeck.store import artifact_fetch, open_store
from flowdeck.store.artifact_fetch import TreeTooLarge
from flowdeck.store.rest import RestStore
from flowdeck.store.rest.client import EndlessPaging
from flowdeck.store.rest.fields import MalformedAnswer

DEADLINE_S = 2.0
EXPERIMENTS = {"experiments": [{"experiment_id": "0", "name": "Default"}]}
RUN = {
    "run": {
        "info": {
            "run_id": "r1",
            "experiment_id": "0",
            "artifact_uri": "mlflow-artifacts:/0/r1/artifacts",
            "end_time": 1700000000000,
        }
    }
}


@pytest.fixture(autouse=True)
def no_credentials_in_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def store_for(server: FaultServer, **options: Any) -> RestStore:
    return RestStore(server.url, timeout=DEADLINE_S, **options)


# --- class 4: every wait is bounded -------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(60)
@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers-and-body"])
def test_a_trickling_answer_stops_at_the_total_deadline(headers_too: bool) -> None:
    # 200 bytes, one every 0.2 s: each read is quick, the whole answer would take 40 s.
    body = json.dumps({**EXPERIMENTS, "padding": "x" * 120}).encode()
    trickle = Trickle(body, every_s=0.2, headers_too=headers_too)
    with fault_server(lambda _request: trickle) as server, pytest.raises(StoreTimeout) as caught:
        store_for(server).experiments()
    assert f"did not answer within {DEADLINE_S:g} s" in caught.value.message
    assert server.url in caught.value.message


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_trickling_artifact_download_stops(tmp_path: Path) -> None:
    def respond(request: Request) -> Reply | Trickle:
        endpoint = endpoint_of(request)
        if endpoint == "runs/get":
            return json_reply(RUN)
        if endpoint == "artifacts/list":
            return json_reply({"files": [{"path": "big.bin", "is_dir": False, "file_size": 400}]})
        return Trickle(b"x" * 400, every_s=0.2)  # the artifact itself

    with (
        fault_server(respond) as server,
        pytest.raises(StoreTimeout, match="did not answer within 2 s"),
    ):
        store_for(server).fetch_artifact("r1", "big.bin")


@pytest.mark.timeout(60)
def test_a_server_that_never_stops_paging_is_cut_off() -> None:
    def respond(request: Request) -> Reply:
        number = int(request.arg("page_token", "0") or 0)
        experiment = {"experiment_id": str(number), "name": f"e{number}"}
        return json_reply({"experiments": [experiment], "next_page_token": str(number + 1)})

    with fault_server(respond) as server:
        store = store_for(server)
        store.client.max_pages = 25
        with pytest.raises(EndlessPaging) as caught:
            store.experiments()
    assert "kept sending more pages of experiments/search" in caught.value.message
    assert "stopped reading after 25 pages" in caught.value.message
    assert len(server.requests) == 25


@pytest.mark.timeout(60)
def test_a_repeated_page_token_stops_the_listing() -> None:
    answer = {"metrics": [{"step": 0, "timestamp": 1, "value": 1.0}], "next_page_token": "again"}
    with (
        fault_server(by_endpoint({"metrics/get-history": answer})) as server,
        pytest.raises(EndlessPaging, match="sent the same page token twice"),
    ):
        store_for(server).metric_history(["r1"], ["loss"])
    assert len(server.requests) == 2


@pytest.mark.timeout(60)
def test_empty_model_pages_with_ever_new_tokens_stop() -> None:
    counter = iter(range(10**6))

    def endless(request: Request) -> Reply:
        return json_reply({"registered_models": [], "next_page_token": f"t{next(counter)}"})

    with fault_server(endless) as server:
        store = store_for(server)
        store.client.max_pages = 25
        with pytest.raises(EndlessPaging, match="registered models"):
            store.registered_models("")
    assert len(server.requests) <= 27


@pytest.mark.timeout(60)
def test_a_trace_page_that_points_at_itself_is_the_last() -> None:
    answer = {"traces": [], "next_page_token": "same"}
    with fault_server(by_endpoint({"traces/search": answer})) as server:
        page = store_for(server).search_traces(["0"], page_token="same")
    assert page.next_token is None


def _deep_listing(request: Request) -> Reply:
    endpoint = endpoint_of(request)
    if endpoint == "runs/get":
        return json_reply(RUN)
    path = request.arg("path")
    child = f"{path}/d" if path else "d"
    return json_reply({"files": [{"path": child, "is_dir": True}]})


@pytest.mark.timeout(120)
def test_an_endlessly_deep_artifact_folder_is_not_walked_forever() -> None:
    with fault_server(_deep_listing) as server, pytest.raises(TreeTooLarge) as caught:
        store_for(server).fetch_artifact("r1", "")
    assert "nested more than 64 levels deep" in caught.value.message
    assert server.hits("artifacts/list") <= artifact_fetch.MAX_TREE_DEPTH + 2


@pytest.mark.timeout(60)
def test_an_artifact_folder_with_too_many_entries_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(artifact_fetch, "MAX_TREE_ENTRIES", 100)
    files = [{"path": f"f{i}.txt", "is_dir": False, "file_size": 1} for i in range(150)]
    answers = {"runs/get": RUN, "artifacts/list": {"files": files}}
    with (
        fault_server(by_endpoint(answers)) as server,
        pytest.raises(TreeTooLarge, match="more than 100 files and folders"),
    ):
        store_for(server).fetch_artifact("r1", "")
    assert server.hits("get-artifact") == 0 and server.hits("mlflow-artifacts") == 0


# --- class 3: secrets stay out of messages --------------------------------------------------------


def _echo_authorization(request: Request) -> Reply:
    body = f"Internal error while handling headers {request.headers}"
    return Reply(500, body.encode(), "text/plain")


@pytest.mark.parametrize(
    ("options", "secret"),
    [
        ({"token": "tok-SECRET-4711"}, "tok-SECRET-4711"),
        ({"username": "alice", "password": "pw-SECRET-4711"}, "pw-SECRET-4711"),
    ],
    ids=["bearer", "basic"],
)
def test_an_error_page_echoing_the_authorization_header_is_scrubbed(
    options: dict[str, str], secret: str
) -> None:
    with fault_server(_echo_authorization) as server:
        with pytest.raises(ServerError) as caught:
            store_for(server, **options).experiments()
        sent = server.requests[0].headers["authorization"]
    error = caught.value
    assert "failed (500)" in error.message
    shown = f"{error.message}\n{error.detail}\n{error!s}\n{error!r}"
    assert secret not in shown
    assert sent.split(" ", 1)[1] not in shown  # nor its Basic base64 form
    assert "***" in error.message


def test_a_password_in_the_url_is_used_but_never_shown() -> None:
    with fault_server(_echo_authorization) as server:
        location = server.url.replace("http://", "http://alice:pw-SECRET-4711@")
        store = open_store(location)
        with pytest.raises(ServerError) as caught:
            store.experiments()
        sent = server.requests[0].headers["authorization"]
    assert sent.startswith("Basic ")  # the URL's credentials are still used
    shown = f"{caught.value.message}\n{caught.value.detail}"
    assert "pw-SECRET-4711" not in shown and sent.split(" ", 1)[1] not in shown
    assert "pw-SECRET-4711" not in store.display_name and "pw-SECRET" not in repr(store)
    assert store.display_name == server.url.removeprefix("http://")


def test_an_unreachable_server_message_holds_no_password() -> None:
    location = f"http://alice:pw-SECRET-4711@127.0.0.1:{free_port()}"
    with pytest.raises(StoreUnreachable) as caught:
        open_store(location).experiments()
    assert "connection refused" in caught.value.message
    assert "pw-SECRET-4711" not in f"{caught.value.message}\n{caught.value.detail}"


# --- class 5: malformed answers become messages -----------------------------------------------------

RUN_ITEM = {"info": {"run_id": "r1", "experiment_id": "0"}, "data": {}}


def _run_with(**parts: Any) -> dict[str, Any]:
    return {"runs": [{**RUN_ITEM, **parts}]}


MALFORMED = [
    ("experiments", "experiments/search", {"experiments": [{"name": "x"}]}, "experiments[0].experiment_id"),
    ("experiments", "experiments/search", {"experiments": {"a": 1}}, "experiments"),
    ("experiments", "experiments/search", {"experiments": [{"experiment_id": "1", "tags": "x"}]}, "experiments[0].tags"),
    ("experiments", "experiments/search", {**EXPERIMENTS, "next_page_token": 5}, "next_page_token"),
    ("runs", "runs/search", _run_with(info=[1]), "runs[0].info"),
    ("runs", "runs/search", _run_with(data={"metrics": [{"key": "m", "value": "abc"}]}), "runs[0].data.metrics[0].value"),
    ("runs", "runs/search", _run_with(info={"run_id": "r1", "start_time": "yesterday"}), "runs[0].info.start_time"),
    ("runs", "runs/search", _run_with(data={"params": [{"value": "1"}]}), "runs[0].data.params[0].key"),
    ("runs", "runs/search", {"runs": [{"info": {"experiment_id": "0"}}]}, "runs[0].info.run_uuid"),
    ("run", "runs/get", {"run": {"info": {"run_id": "r1", "end_time": {}}}}, "run.info.end_time"),
    ("run", "runs/get", {"run": {"info": {"run_id": "r1"}, "data": {"tags": [{"key": []}]}}}, "run.data.tags[0].key"),
    ("history", "metrics/get-history", {"metrics": [{"step": "x", "value": 1}]}, "metrics[0].step"),
    ("history", "metrics/get-history", {"metrics": [{"step": 1, "value": [1]}]}, "metrics[0].value"),
    ("artifacts", "artifacts/list", {"files": [{"path": "a", "file_size": "big"}]}, "files[0].file_size"),
    ("artifacts", "artifacts/list", {"files": [{"is_dir": True}]}, "files[0].path"),
    ("traces", "traces/search", {"traces": [{"trace_id": "t", "request_time": "not a time"}]}, "traces[0].request_time"),
    ("traces", "traces/search", {"traces": [{"request_time": "2025-01-01T00:00:00Z"}]}, "traces[0].trace_id"),
    ("trace", "traces/get", {"trace": {"trace_info": {"trace_id": "t", "tags": [1, 2]}}}, "trace.trace_info.tags"),
    ("trace", "traces/get", {"trace": {"trace_info": {"trace_id": "t"}, "spans": {}}}, "trace.spans"),
    ("logged_models", "logged-models/search", {"models": [{"info": {"name": "x"}}]}, "models[0].info.model_id"),
    ("logged_model", "logged-models/m-1", {"model": "nope"}, "model"),
    ("registered_models", "registered-models/search", {"registered_models": [{"tags": []}]}, "name"),
    ("model_versions", "model-versions/search", {"model_versions": [{"name": "m", "version": "one"}]}, "(unknown)", {"registered-models/get": {"registered_model": {"name": "m"}}}),
    ("logged_model", "logged-models/m-1", {"model": {"info": {"model_id": "m-1"}, "data": {"metrics": [{"key": "k", "value": {}}]}}}, "model.data.metrics[0].value"),
]  # fmt: skip

CALLS = {
    "experiments": lambda store: store.experiments(),
    "runs": lambda store: store.runs(["0"]),
    "run": lambda store: store.run("r1"),
    "history": lambda store: store.metric_history(["r1"], ["loss"]),
    "artifacts": lambda store: store.list_artifacts("r1"),
    "traces": lambda store: store.search_traces(["0"]),
    "trace": lambda store: store.trace("t"),
    "logged_models": lambda store: store.logged_models(["0"]),
    "logged_model": lambda store: store.logged_model("m-1"),
    "registered_models": lambda store: store.registered_models(),
    "model_versions": lambda store: store.model_versions("m"),
}


@pytest.mark.parametrize(
    ("call", "endpoint", "answer", "field", "sound"),
    [(*case, {})[:5] for case in MALFORMED],
    ids=[f"{case[1]}:{case[3]}" for case in MALFORMED],
)
def test_a_malformed_answer_is_a_message_naming_endpoint_and_field(
    call: str, endpoint: str, answer: dict[str, Any], field: str, sound: dict[str, Any]
) -> None:
    with (
        fault_server(by_endpoint({**sound, endpoint: answer})) as server,
        pytest.raises(FlowdeckError) as caught,
    ):
        CALLS[call](store_for(server))
    error = caught.value
    assert isinstance(error, MalformedAnswer), f"{type(error).__name__}: {error}"
    assert isinstance(error, ServerError)
    assert error.endpoint.startswith(endpoint.split("/m-1")[0])
    assert error.field == field
    assert f"'{field}'" in error.message and error.endpoint in error.message
