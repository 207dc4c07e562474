"""RestStore against a real ``mlflow server`` filled by MLflow: every read, and parity with MLflow."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from flowdeck.core.errors import InvalidFilter, NotFound
from flowdeck.store import open_store
from flowdeck.store.base import EXPERIMENT_COLUMNS, HISTORY_DTYPE, SUMMARY_COLUMNS
from flowdeck.store.rest import RestStore

pytestmark = [pytest.mark.server, pytest.mark.slow]

VIEW_TYPES = {"active": 1, "deleted": 2, "all": 3}
PARITY_CASES = [
    ("", (), "active"),
    ("", (), "all"),
    ("metrics.loss < 0.2", ("metrics.loss DESC",), "all"),
    ("params.optimizer = 'adam'", ("params.lr",), "active"),
    ("tags.team = 'red'", ("metrics.acc ASC", "attributes.start_time"), "active"),
    ("", ("metrics.peak ASC", "attributes.run_name DESC"), "all"),
    ("attributes.status = 'RUNNING'", (), "active"),
    ("", (), "deleted"),
    ("metrics.loss > 100", (), "active"),
]


@pytest.fixture(scope="module")
def store(rich_server) -> RestStore:
    rest = open_store(rich_server.url)
    assert isinstance(rest, RestStore)
    return rest


def reference_runs(url: str, experiment_ids, filter_string, order_by, view, max_results=None):
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(url)
    try:
        kwargs = {} if max_results is None else {"max_results": max_results}
        return mlflow.search_runs(
            experiment_ids,
            filter_string,
            run_view_type=VIEW_TYPES[view],
            order_by=list(order_by),
            **kwargs,
        )
    finally:
        mlflow.set_tracking_uri(previous)


def assert_same_runs(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    """Equal frames; MLflow orders new key columns of one row by set order, so align columns."""
    assert list(ours.columns[:6]) == list(theirs.columns[:6])
    assert set(ours.columns) == set(theirs.columns)
    pd.testing.assert_frame_equal(ours, theirs[list(ours.columns)])


def test_identity_and_capabilities(store: RestStore, rich_server) -> None:
    assert store.kind == "rest"
    assert store.tracking_uri == rich_server.url
    assert store.read_only_reason is None
    assert {"registry", "traces", "logged_models", "artifacts", "write"} <= store.capabilities


def test_experiments_by_view(store: RestStore, rich_server) -> None:
    active = store.experiments()
    assert list(active.columns) == EXPERIMENT_COLUMNS
    assert list(active["experiment_id"]) == ["0", *rich_server.experiment_ids]
    alpha = active[active["name"] == "alpha"].iloc[0]
    assert alpha["tags"] == {"mlflow.note.content": "first"}
    assert alpha["artifact_location"] == f"mlflow-artifacts:/{alpha['experiment_id']}"
    assert alpha["creation_time"] > 0
    deleted = store.experiments("deleted")
    assert list(deleted["experiment_id"]) == [rich_server.deleted_experiment_id]
    assert len(store.experiments("all")) == len(active) + 1
    assert store.experiment(rich_server.deleted_experiment_id).lifecycle_stage == "deleted"


@pytest.mark.parametrize(("filter_string", "order_by", "view"), PARITY_CASES)
def test_runs_equal_mlflow_search_runs(
    store: RestStore, rich_server, filter_string: str, order_by: tuple[str, ...], view: str
) -> None:
    ids = rich_server.experiment_ids
    ours = store.runs(ids, filter_string, order_by, view)
    theirs = reference_runs(rich_server.url, ids, filter_string, order_by, view)
    assert_same_runs(ours, theirs)


@pytest.mark.parametrize(("filter_string", "order_by", "view"), PARITY_CASES[:6])
def test_runs_read_in_pages_several_at_a_time_equal_mlflow(
    store: RestStore, rich_server, monkeypatch, filter_string: str, order_by, view: str
) -> None:
    """Pages of 2 runs, 4 asked for at once, arrive in any order: the frame is MLflow's, in
    its order, and the progress counts the runs as they come."""
    from flowdeck.core.task_state import TaskState
    from flowdeck.store.rest import run_pages

    monkeypatch.setattr(run_pages, "RUNS_PER_PAGE", 2)
    monkeypatch.setattr("flowdeck.store.rest.runs.RUNS_PER_PAGE", 2)
    asked: list[str | None] = []
    post = store.client.post
    monkeypatch.setattr(
        store.client,
        "post",
        lambda endpoint, payload, **kw: (
            asked.append(payload.get("page_token")) or post(endpoint, payload, **kw)
        ),
    )
    said: list[str] = []
    state = TaskState(lambda _done, _total, text: said.append(text))
    ids = rich_server.experiment_ids
    ours = store.runs(ids, filter_string, order_by, view, state=state)
    theirs = reference_runs(rich_server.url, ids, filter_string, order_by, view)
    assert_same_runs(ours, theirs)
    if len(theirs) > 4:
        assert len(asked) >= 3 and asked[0] is None  # the first page, then the window
        assert said[-1] == f"Reading runs… {len(theirs)} so far"


def test_runs_content_a_user_sees(store: RestStore, rich_server) -> None:
    frame = store.runs(rich_server.experiment_ids)
    assert len(frame) == 9  # 8 runs + a nested one; the deleted run is hidden
    by_id = frame.set_index("run_id")
    nan_run = by_id.loc[rich_server.run_ids["run-3"]]
    assert np.isnan(nan_run["metrics.loss"])
    assert by_id.loc[rich_server.run_ids["run-4"], "metrics.peak"] > 1e308
    assert by_id.loc[rich_server.run_ids["run-5"], "metrics.peak"] < -1e308
    assert by_id.loc[rich_server.run_ids["run-7"], "status"] == "RUNNING"
    child = by_id.loc[rich_server.run_ids["child"]]
    assert child["tags.mlflow.parentRunId"] == rich_server.run_ids["run-0"]
    deleted = store.runs(rich_server.experiment_ids, view="deleted")
    assert list(deleted["run_id"]) == [rich_server.deleted_run_id]


def test_runs_max_results_keeps_the_servers_first_rows(store: RestStore, rich_server) -> None:
    ids = rich_server.experiment_ids
    order = ("metrics.acc DESC",)
    ours = store.runs(ids, order_by=order, max_results=3)
    theirs = reference_runs(rich_server.url, ids, "", order, "active", max_results=3)
    assert len(ours) == 3
    assert_same_runs(ours, theirs)
    assert store.runs(ids, max_results=0).empty


def test_runs_of_no_experiment_and_bad_filter(store: RestStore, rich_server) -> None:
    assert store.runs([]).empty
    with pytest.raises(InvalidFilter):
        store.runs(rich_server.experiment_ids, "metrics.loss >>> 1")


def test_metric_history_keeps_nan_and_infinity(store: RestStore, rich_server) -> None:
    nan_run, inf_run = rich_server.run_ids["run-3"], rich_server.run_ids["run-4"]
    histories = store.metric_history([nan_run, inf_run], ["loss", "peak"])
    assert set(histories) == {(r, k) for r in (nan_run, inf_run) for k in ("loss", "peak")}
    loss = histories[(nan_run, "loss")]
    assert loss.dtype == HISTORY_DTYPE
    assert list(loss["step"]) == [0, 1, 2, 3, 4]
    assert np.isnan(loss["value"][-1]) and loss["value"][0] == pytest.approx(0.25)
    assert histories[(inf_run, "peak")]["value"][0] == np.inf
    assert len(histories[(nan_run, "peak")]) == 0


def test_metric_summaries(store: RestStore, rich_server) -> None:
    nan_run, neg_run = rich_server.run_ids["run-3"], rich_server.run_ids["run-5"]
    summaries = store.metric_summaries([nan_run, neg_run])
    assert list(summaries.columns) == SUMMARY_COLUMNS
    rows = {(r.run_id, r.key): r for r in summaries.itertuples()}
    loss = rows[(nan_run, "loss")]
    assert np.isnan(loss.last)  # the latest point is NaN
    assert loss.min == pytest.approx(1 / 7) and loss.min_step == 3
    assert loss.max == pytest.approx(0.25) and loss.max_step == 0
    assert loss.count == 4
    assert rows[(neg_run, "peak")].min == -np.inf
    only_acc = store.metric_summaries([neg_run], ["acc"])
    assert list(only_acc["key"]) == ["acc"]


def test_run_detail_with_inputs_and_outputs(store: RestStore, rich_server) -> None:
    detail = store.run(rich_server.run_ids["run-1"])
    assert detail.info.run_name == "run-1"
    assert detail.params["lr"] == "0.05"
    assert detail.metrics["loss"].step == 4
    assert detail.tags["team"] == "red"
    (dataset,) = detail.inputs
    assert dataset.name == "train-set" and dataset.context == "train"
    producer = store.run(rich_server.run_ids["run-0"])
    assert [(o.model_id, o.step) for o in producer.outputs] == [(rich_server.logged_model_id, 3)]
    with pytest.raises(NotFound):
        store.run("0" * 32)


def test_artifacts_list_and_download_into_the_cache(
    store: RestStore, rich_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    run_id = rich_server.artifact_run_id
    top = store.list_artifacts(run_id)
    assert [(e.path, e.is_dir) for e in top] == [("plots", True), ("notes.txt", False)]
    assert top[1].file_size == len("hello flowdeck\n")
    assert [e.path for e in store.list_artifacts(run_id, "plots")] == [
        "plots/deep",
        "plots/curve.csv",
    ]
    notes = store.fetch_artifact(run_id, "notes.txt")
    assert notes.read_text() == "hello flowdeck\n"
    assert (tmp_path / "cache") in notes.parents
    folder = store.fetch_artifact(run_id, "plots")
    assert (folder / "deep" / "x.json").read_text() == '{"a": 1}'
    assert (folder / "curve.csv").read_text().startswith("step,loss")
    everything = store.fetch_artifact(run_id, "")
    assert (everything / "notes.txt").is_file()
    with pytest.raises(NotFound):
        store.fetch_artifact(run_id, "missing.txt")


def test_registered_models_and_paging(store: RestStore, rich_server) -> None:
    page = store.registered_models()
    names = [m.name for m in page.items]
    assert rich_server.model_name in names and page.next_token is None
    model = next(m for m in page.items if m.name == rich_server.model_name)
    assert model.tags == {"owner": "ml"} and model.aliases == {"champion": 2}
    assert model.description == "the model"
    first = store.registered_models(max_results=2)
    assert len(first.items) == 2 and first.next_token
    second = store.registered_models(page_token=first.next_token, max_results=2)
    assert {m.name for m in second.items}.isdisjoint(m.name for m in first.items)
    filtered = store.registered_models("name LIKE 'bulk-%'")
    assert [m.name for m in filtered.items] == ["bulk-00", "bulk-01", "bulk-02"]


def test_registered_models_include_prompts_flagged(store: RestStore, rich_server) -> None:
    """The server hides prompts from a plain search; RestStore lists them, merged by name."""
    everything = store.registered_models().items
    names = [m.name for m in everything]
    assert rich_server.prompt_name in names and names == sorted(names)
    assert [m.name for m in everything if m.is_prompt] == [rich_server.prompt_name]
    walked: list[str] = []
    token = None
    while True:
        page = store.registered_models(page_token=token, max_results=2)
        assert len(page.items) <= 2
        walked += [m.name for m in page.items]
        token = page.next_token
        if token is None:
            break
    assert walked == names
    by_name = store.registered_models(f"name = '{rich_server.prompt_name}'").items
    assert [(m.name, m.is_prompt) for m in by_name] == [(rich_server.prompt_name, True)]
    only_prompts = store.registered_models("tags.`mlflow.prompt.is_prompt` = 'true'").items
    assert [m.name for m in only_prompts] == [rich_server.prompt_name]
    assert rich_server.prompt_name not in [
        m.name for m in store.registered_models("tags.`mlflow.prompt.is_prompt` != 'true'").items
    ]


def test_model_versions_newest_first_without_deleted(store: RestStore, rich_server) -> None:
    versions = store.model_versions(rich_server.model_name)
    assert [v.version for v in versions] == [2, 1]  # version 3 was deleted
    assert versions[0].aliases == ("champion",) and versions[1].aliases == ()
    assert versions[0].tags == {"k": "v"}
    assert versions[0].model_id == rich_server.logged_model_id
    assert versions[0].run_id == rich_server.run_ids["run-0"]
    assert [v.version for v in store.model_versions(rich_server.quoted_model_name)] == [1]
    assert [v.version for v in store.model_versions(rich_server.both_quotes_name)] == [2, 1]
    with pytest.raises(NotFound):
        store.model_versions("no such model")


def test_trace_search_paging_and_detail(store: RestStore, rich_server) -> None:
    experiment = rich_server.experiment_ids[1]
    page = store.search_traces([experiment])
    assert [t.trace_id for t in page.items] == rich_server.trace_ids[::-1]  # newest first
    info = page.items[-1]
    assert info.name == "agent-0" and info.status == "OK"
    assert info.experiment_id == experiment and info.timestamp_ms > 1_600_000_000_000
    assert info.request_preview == '{"question": "q0"}'
    first = store.search_traces([experiment], max_results=2)
    rest = store.search_traces([experiment], max_results=2, page_token=first.next_token)
    assert len(first.items) == 2 and [t.trace_id for t in rest.items] == [info.trace_id]
    named = store.search_traces([experiment], "trace.name = 'agent-1'")
    assert [t.name for t in named.items] == ["agent-1"]
    with pytest.raises(InvalidFilter):
        store.search_traces([experiment], "trace.nonsense ~~ 1")

    trace = store.trace(rich_server.trace_ids[0])
    root = next(s for s in trace.spans if s.parent_span_id is None)
    child = next(s for s in trace.spans if s.parent_span_id is not None)
    assert (root.name, root.span_type, root.inputs) == ("agent-0", "AGENT", {"question": "q0"})
    assert child.parent_span_id == root.span_id and child.outputs == [0, 1]
    (feedback,) = trace.assessments
    assert (feedback.name, feedback.value, feedback.rationale) == ("quality", True, "good")
    with pytest.raises(NotFound):
        store.trace("tr-" + "0" * 32)


def test_logged_models(store: RestStore, rich_server) -> None:
    (model,) = store.logged_models(rich_server.experiment_ids)
    assert model.model_id == rich_server.logged_model_id
    assert (model.name, model.status, model.model_type) == ("clf", "READY", "demo")
    assert model.source_run_id == rich_server.run_ids["run-0"]
    assert store.logged_models([rich_server.experiment_ids[1]]) == []
