"""FileStore experiments and runs, compared with MLflow's own file store on the same folder."""

from __future__ import annotations

import math

import pytest
from tests.store.files.conftest import assert_same_runs, mlflow_search

from flowdeck.core.errors import StoreNotFound
from flowdeck.store import open_store
from flowdeck.store.base import EXPERIMENT_COLUMNS
from flowdeck.store.files import FileStore


def test_open_store_dispatches_folders_to_file_store(written):
    store = open_store(str(written.root))
    assert isinstance(store, FileStore)
    assert store.kind == "files"
    assert store.tracking_uri == written.root.resolve().as_uri()
    assert FileStore(written.root.as_uri()).root == written.root.resolve()


def test_read_only_reason_is_plain_text_or_the_guard(written):
    reason = FileStore(str(written.root)).read_only_reason
    assert reason is None or isinstance(reason, str) and reason


def test_experiments_views_tags_and_order(written):
    store = FileStore(str(written.root))
    active = store.experiments()
    assert list(active.columns) == EXPERIMENT_COLUMNS
    assert list(active["name"]) == ["alpha"]
    alpha = active[active["name"] == "alpha"].iloc[0]
    assert alpha["tags"] == {"team": "vision", "a/b": "nested"}
    assert alpha["lifecycle_stage"] == "active"
    assert alpha["creation_time"] > 0
    deleted = store.experiments("deleted")
    assert list(deleted["experiment_id"]) == [written.beta]
    assert list(deleted["lifecycle_stage"]) == ["deleted"]
    every = store.experiments("all")
    assert list(every["experiment_id"]) == sorted([written.alpha, written.beta], key=int)
    assert store.experiment(written.beta).name == "beta"


@pytest.mark.parametrize(
    ("filter_string", "order_by"),
    [
        ("", ()),
        ("metrics.loss < 0.5", ("metrics.loss DESC",)),
        ("params.lr = '0.1'", ()),
        ("tags.team = 'vision'", ("attributes.start_time ASC",)),
        ("attributes.status = 'FAILED'", ()),
        ("attributes.run_name LIKE 'par%'", ()),
        ("", ("params.lr ASC", "attributes.run_name DESC")),
        ("datasets.name = 'train-set'", ()),
    ],
)
def test_runs_equal_mlflow_search_runs(written, filter_string, order_by):
    store = FileStore(str(written.root))
    ours = store.runs([written.alpha], filter_string=filter_string, order_by=order_by)
    theirs = mlflow_search(
        written.root, [written.alpha], filter_string=filter_string, order_by=list(order_by)
    )
    assert len(ours) > 0
    assert_same_runs(ours, theirs)


@pytest.mark.parametrize("view", ["active", "deleted", "all"])
def test_runs_views_equal_mlflow(written, view):
    from mlflow.entities import ViewType

    store = FileStore(str(written.root))
    view_type = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY}.get(
        view, ViewType.ALL
    )
    ours = store.runs([written.alpha, written.beta], view=view)
    theirs = mlflow_search(written.root, [written.alpha, written.beta], run_view_type=view_type)
    assert_same_runs(ours, theirs)


def test_latest_metric_follows_mlflow_rule_and_keeps_nan_and_inf(written):
    frame = FileStore(str(written.root)).runs([written.alpha], filter_string="params.layers = '3'")
    row = frame.iloc[0]
    assert row["metrics.loss"] == 0.2  # step 4 beats the later-written step-2 point
    assert math.isnan(row["metrics.acc"])
    assert row["metrics.gain"] == math.inf
    assert row["metrics.drop"] == -math.inf  # step 3 wins over step 1
    assert row["params.opt/name"] == "adam"
    assert row["tags.stage/kind"] == "dev"


def test_deleted_experiment_runs_are_readable(written):
    frame = FileStore(str(written.root)).runs([written.beta], view="deleted")
    assert list(frame["run_id"]) == [written.beta_run]


def test_unknown_experiment_gives_no_runs(written):
    assert FileStore(str(written.root)).runs(["123456"]).empty


def test_max_results_limits_rows(written):
    frame = FileStore(str(written.root)).runs([written.alpha], max_results=2)
    assert len(frame) == 2


def test_second_read_sees_new_metric_and_tag(copied):
    from tests.store.files.filestore_data import mlflow_client

    store = FileStore(str(copied.root))
    first = store.runs([copied.alpha], filter_string=f"attributes.run_id = '{copied.child}'")
    assert first.iloc[0]["metrics.loss"] == 0.7
    client = mlflow_client(copied.root)
    client.log_metric(copied.child, "loss", 0.3, step=5)
    client.set_tag(copied.child, "note", "fresh")
    second = store.runs([copied.alpha], filter_string=f"attributes.run_id = '{copied.child}'")
    assert second.iloc[0]["metrics.loss"] == 0.3
    assert second.iloc[0]["tags.note"] == "fresh"
    assert_same_runs(store.runs([copied.alpha]), mlflow_search(copied.root, [copied.alpha]))


def test_new_and_removed_runs_are_noticed(copied):
    import shutil

    from tests.store.files.filestore_data import mlflow_client

    store = FileStore(str(copied.root))
    before = set(store.runs([copied.alpha])["run_id"])
    created = mlflow_client(copied.root).create_run(copied.alpha, run_name="late")
    shutil.rmtree(copied.root / copied.alpha / copied.failed_run)
    after = set(store.runs([copied.alpha])["run_id"])
    assert after == (before | {created.info.run_id}) - {copied.failed_run}


def test_not_a_store_raises_store_not_found(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"x")
    store = FileStore(str(tmp_path))
    with pytest.raises(StoreNotFound):
        store.experiments()
    with pytest.raises(StoreNotFound):
        FileStore(str(tmp_path / "missing")).runs(["0"])
