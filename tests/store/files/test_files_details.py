"""FileStore metric histories, run detail, artifacts, registry, logged models and traces."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flowdeck.core.errors import NotFound
from flowdeck.store.base import HISTORY_DTYPE, SUMMARY_COLUMNS
from flowdeck.store.files import FileStore


@pytest.fixture
def store(written) -> FileStore:
    return FileStore(str(written.root))


def test_metric_history_sorted_with_nan_inf_and_empty_pairs(store, written):
    from tests.store.files.filestore_data import mlflow_client

    histories = store.metric_history([written.parent, written.child], ["loss", "acc", "nope"])
    assert set(histories) == {
        (r, k) for r in (written.parent, written.child) for k in ("loss", "acc", "nope")
    }
    loss = histories[(written.parent, "loss")]
    assert loss.dtype == HISTORY_DTYPE
    assert list(loss["step"]) == [0, 1, 2, 2, 3, 4]
    assert list(loss["timestamp"][2:4]) == sorted(loss["timestamp"][2:4])
    expected = mlflow_client(written.root).get_metric_history(written.parent, "loss")
    assert sorted(loss["value"]) == sorted(m.value for m in expected)
    assert math.isnan(histories[(written.parent, "acc")]["value"][0])
    assert len(histories[(written.child, "nope")]) == 0
    assert len(histories[(written.child, "acc")]) == 0
    assert (
        store.metric_history([written.parent], ["gain"])[(written.parent, "gain")]["value"][0]
        == math.inf
    )


def test_metric_history_of_unknown_run_is_not_found(store):
    with pytest.raises(NotFound):
        store.metric_history(["0123456789abcdef0123456789abcdef"], ["loss"])


def test_metric_summaries(store, written):
    frame = store.metric_summaries([written.parent])
    assert list(frame.columns) == SUMMARY_COLUMNS
    loss = frame[frame["key"] == "loss"].iloc[0]
    assert loss["last"] == 0.2 and loss["min"] == 0.05 and loss["max"] == 1.0
    assert loss["min_step"] == 2 and loss["max_step"] == 0 and loss["count"] == 6
    acc = frame[frame["key"] == "acc"].iloc[0]
    assert math.isnan(acc["last"]) and acc["count"] == 0
    only = store.metric_summaries([written.parent, written.child], ["loss"])
    assert list(only["run_id"]) == [written.parent, written.child]


def test_run_detail(store, written):
    detail = store.run(written.parent)
    assert detail.info.run_name == "parent"
    assert detail.info.status == "FINISHED"
    assert detail.info.end_time == 1_700_000_100_000
    assert detail.params == {"layers": "3", "lr": "0.1", "opt/name": "adam"}
    assert detail.metrics["loss"].value == 0.2 and detail.metrics["loss"].step == 4
    assert detail.tags["team"] == "vision"
    assert [(d.name, d.context) for d in detail.inputs] == [("train-set", "training")]
    assert detail.inputs[0].digest and detail.inputs[0].source_type
    child = store.run(written.child)
    assert child.parent_run_id == written.parent
    assert store.run(written.deleted_run).info.lifecycle_stage == "deleted"
    with pytest.raises(NotFound):
        store.run("ffffffffffffffffffffffffffffffff")


def test_run_outputs_list_logged_model(store, written):
    models = store.logged_models([written.alpha])
    assert [m.model_id for m in models] == [written.logged_model]
    model = models[0]
    assert model.name == "clf-model" and model.source_run_id == written.parent
    assert model.params == {"depth": "4"} and model.tags["owner"] == "me"
    assert model.model_type == "sklearn"


def test_artifacts_list_and_fetch_in_place(store, written):
    entries = store.list_artifacts(written.parent)
    assert [(e.path, e.is_dir) for e in entries] == [("notes", True), ("readme.md", False)]
    assert [e.path for e in store.list_artifacts(written.parent, "notes")] == ["notes/a.txt"]
    path = store.fetch_artifact(written.parent, "notes/a.txt")
    assert path.read_text() == "hello"
    assert str(path).startswith(str(written.root))
    with pytest.raises(NotFound):
        store.fetch_artifact(written.parent, "../meta.yaml")
    with pytest.raises(NotFound):
        store.list_artifacts(written.parent, "notes/../../params")


def test_registry_models_versions_aliases(store):
    page = store.registered_models()
    assert [m.name for m in page.items] == ["clf", "other"]
    assert page.next_token is None
    clf = page.items[0]
    assert clf.tags == {"domain": "tabular"} and clf.description == "a classifier"
    assert clf.aliases == {"champion": 2}
    versions = store.model_versions("clf")
    assert [v.version for v in versions] == [3, 2]  # version 1 was deleted
    assert versions[1].aliases == ("champion",) and versions[1].tags == {"quality": "good"}
    assert store.registered_models("name = 'other'").items[0].name == "other"
    assert [m.name for m in store.registered_models("tags.domain = 'tabular'").items] == ["clf"]
    first = store.registered_models(max_results=1)
    assert [m.name for m in first.items] == ["clf"]
    assert [m.name for m in store.registered_models(page_token=first.next_token).items] == ["other"]
    with pytest.raises(NotFound):
        store.model_versions("missing")


def test_traces_search_and_detail(store, written):
    if written.trace_id is None:
        pytest.skip("this MLflow wrote no trace to the file store")
    page = store.search_traces([written.alpha])
    assert [t.trace_id for t in page.items] == [written.trace_id]
    info = page.items[0]
    assert info.status == "OK" and info.name == "answer" and info.timestamp_ms > 0
    assert store.search_traces([written.alpha], "trace.status = 'ERROR'").items == []
    assert len(store.search_traces([written.alpha], "span.name = 'lookup'").items) == 1
    trace = store.trace(written.trace_id)
    assert sorted(s.name for s in trace.spans) == ["answer", "lookup"]
    lookup = next(s for s in trace.spans if s.name == "lookup")
    assert lookup.span_type == "RETRIEVER" and lookup.inputs == {"q": "why?"}
    with pytest.raises(NotFound):
        store.trace("tr-00000000000000000000000000000000")


def test_history_arrays_are_independent_copies(store, written):
    history = store.metric_history([written.parent], ["loss"])[(written.parent, "loss")]
    assert isinstance(history, np.ndarray) and history.flags.owndata
