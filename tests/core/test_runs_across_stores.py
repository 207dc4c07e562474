"""Runs of several stores in one frame, on a live store and its copy written by real MLflow."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from tests.helpers.two_stores import LIVE_LATER_LOSS, MIRROR_LATER_LOSS, SHARED_LOSS, two_stores

from flowdeck.core.across_stores import (
    StoreFailure,
    StorePart,
    by_store,
    combine_runs,
    failures_text,
    key_of,
    split_key,
    suggested_keys,
    unique_labels,
)
from flowdeck.core.addresses import BadAddress, across_address, parse_address
from flowdeck.core.errors import FlowdeckError
from flowdeck.core.runs_table import RunsTable
from flowdeck.store import open_store
from flowdeck.store.across import AcrossStores


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    return two_stores(tmp_path_factory)


@pytest.fixture
def across(data):  # noqa: ANN001, ANN201
    view = AcrossStores({1: open_store(str(data.live)), 2: open_store(str(data.mirror))})
    yield view
    for store in view.stores.values():
        store.close()


def test_keys_name_a_store_number_and_an_id():
    assert key_of(2, "abc") == "2:abc"
    assert split_key("2:abc") == (2, "abc")
    assert split_key("1:a:b") == (1, "a:b")  # ids may hold the separator
    for bad in ("abc", "0:abc", "x:abc", "1:"):
        with pytest.raises(ValueError):
            split_key(bad)
    assert by_store(["2:b", "1:a", "2:c", "2:b"]) == {2: ["b", "c"], 1: ["a"]}


def test_the_address_lists_store_numbers_and_experiment_ids():
    address = parse_address("across/1:0,2:0?filter=metrics.loss%20%3C%201")
    assert address.kind == "across" and address.ids == ("1:0", "2:0")
    assert address.filter == "metrics.loss < 1"
    assert parse_address(str(address)) == address
    assert str(across_address(["1:7", "3:7"])) == "across/1:7,3:7"
    for bad in ("across/1", "across/0:1", "across/one:1", "across/"):
        with pytest.raises(BadAddress):
            parse_address(bad)


def test_the_same_run_id_in_two_stores_gets_two_rows(across, data):
    frame = across.runs([key_of(1, data.experiment_id), key_of(2, data.experiment_id)])

    assert len(frame) == 4 and frame["run_id"].is_unique
    assert list(frame.columns[:3]) == ["run_id", "store", "source_run_id"]
    shared = frame[frame["source_run_id"] == data.shared_run_id]
    assert list(shared["store"]) == ["live.db", "mirror.db"]
    assert list(shared["run_id"]) == [f"1:{data.shared_run_id}", f"2:{data.shared_run_id}"]
    # each row has its own store's values: the latest loss differs since the copy
    assert list(shared["metrics.loss"]) == [LIVE_LATER_LOSS, MIRROR_LATER_LOSS]
    by_run = dict(zip(frame["source_run_id"], frame["store"], strict=False))
    assert by_run[data.live_only_run_id] == "live.db"
    assert by_run[data.mirror_only_run_id] == "mirror.db"
    # a param only one store's runs logged is a column, empty for the other runs
    lr = dict(zip(frame["run_id"], frame["params.lr"], strict=True))
    assert lr[f"2:{data.mirror_only_run_id}"] == "0.01"
    assert pd.isna(lr[f"1:{data.live_only_run_id}"])


def test_each_store_evaluates_the_filter_on_its_own_runs(across, data):
    frame = across.runs(
        [key_of(1, data.experiment_id), key_of(2, data.experiment_id)], "metrics.loss < 0.7"
    )
    # live: shared (0.25) but not live-only (0.9); mirror: mirror-only (0.6), not shared (0.75)
    assert sorted(frame["run_id"]) == sorted(
        [f"1:{data.shared_run_id}", f"2:{data.mirror_only_run_id}"]
    )
    assert across.failures == []


def test_histories_come_from_each_run_s_own_store(across, data):
    keys = [key_of(1, data.shared_run_id), key_of(2, data.shared_run_id)]
    histories = across.metric_history(keys, ["loss"])
    assert list(histories[(keys[0], "loss")]["value"]) == [*SHARED_LOSS, LIVE_LATER_LOSS]
    assert list(histories[(keys[1], "loss")]["value"]) == [*SHARED_LOSS, MIRROR_LATER_LOSS]
    summaries = across.metric_summaries(keys)
    assert sorted(summaries["run_id"]) == sorted(keys)


def test_a_store_that_cannot_answer_is_left_out_and_says_why(data, tmp_path):
    doomed = tmp_path / "doomed.db"
    shutil.copyfile(data.mirror, doomed)
    live, lost = open_store(str(data.live)), open_store(str(doomed))
    doomed.unlink()
    view = AcrossStores({1: live, 2: lost})

    frame = view.runs([key_of(1, data.experiment_id), key_of(2, data.experiment_id)])
    assert set(frame["store"]) == {"live.db"} and len(frame) == 2
    assert [failure.label for failure in view.failures] == ["doomed.db"]
    assert "no database file" in failures_text(view.failures)

    with pytest.raises(FlowdeckError, match="doomed.db could not answer"):
        AcrossStores({1: lost}).runs([key_of(1, data.experiment_id)])
    live.close()


def test_the_runs_table_shows_a_store_column_and_each_run_s_own_id(across, data):
    frame = across.runs([key_of(1, data.experiment_id), key_of(2, data.experiment_id)])
    table = RunsTable.build(frame)

    ids = [spec.id for spec in table.specs()]
    assert ids.index("store") == ids.index("name") + 1
    store_spec = table.specs()[ids.index("store")]
    assert store_spec.title == "Store" and store_spec.default_visible
    rows = [table.row_of(key_of(n, data.shared_run_id)) for n in (1, 2)]
    assert [table.column("store").display[r] for r in rows] == ["live.db", "mirror.db"]
    assert [table.column("run_id").display[r] for r in rows] == [data.shared_run_id] * 2
    order = table.sort_order("store", descending=True)
    assert table.column("store").display[int(order[0])] == "mirror.db"


def test_parent_links_stay_within_a_store():
    def runs(parent: str | None) -> pd.DataFrame:
        return pd.DataFrame(
            {"run_id": ["p", "c"], "tags.mlflow.parentRunId": [None, parent], "status": "FINISHED"}
        )

    frame = combine_runs([StorePart(1, "a", runs("p")), StorePart(2, "b", runs("p"))])
    parents = [None if pd.isna(v) else v for v in frame["tags.mlflow.parentRunId"]]
    assert parents == [None, "1:p", None, "2:p"]
    table = RunsTable.build(frame)
    assert table.parent_of(table.row_of("2:c")) == table.row_of("2:p")
    assert list(np.sort(table.roots())) == [table.row_of("1:p"), table.row_of("2:p")]


def test_no_runs_anywhere_is_an_empty_frame():
    empty = pd.DataFrame({"run_id": pd.Series([], dtype=object)})
    frame = combine_runs([StorePart(1, "a", empty), StorePart(2, "b", empty)])
    assert len(frame) == 0 and {"run_id", "store", "source_run_id"} <= set(frame.columns)
    assert RunsTable.build(frame).n_rows == 0


def test_labels_and_suggestions():
    assert unique_labels(["mlflow.db", "mirror.db", "mlflow.db"]) == [
        "mlflow.db (1)",
        "mirror.db",
        "mlflow.db (3)",
    ]
    experiments = [[("0", "Default"), ("1", "training")], [("4", "training"), ("5", "other")]]
    # one store's experiment: its namesakes in the other stores come along
    assert suggested_keys(experiments, ["1:1"]) == ["1:1", "2:4"]
    # experiments of several stores already: kept as chosen
    assert suggested_keys(experiments, ["1:0", "2:5"]) == ["1:0", "2:5"]
    assert suggested_keys(experiments, []) == []
    assert str(StoreFailure("b.db", "rejected")) == "b.db: rejected"
