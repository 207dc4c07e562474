"""SqlStore on PostgreSQL and MariaDB databases written by real MLflow (throw-away databases)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sql_store_data import T0, WrittenStore, write_store
from tests.helpers import databases

from flowdeck.store.base import HISTORY_DTYPE
from flowdeck.store.sql import SqlStore

BACKENDS = [
    pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow]),
    pytest.param("mysql", marks=[pytest.mark.mysql, pytest.mark.slow]),
]


@pytest.fixture(scope="module", params=BACKENDS)
def server_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WrittenStore]:
    backend = request.param
    name = databases.unique_database_name("flowdeck_sql")
    if backend == "postgresql":
        reason = databases.postgres_unreachable_reason()
        if reason:
            pytest.skip(reason)
        uri = databases.create_postgres_database(name).replace(
            "postgresql://", "postgresql+psycopg2://", 1
        )
        drop = databases.drop_postgres_database
    else:
        reason = databases.mysql_unreachable_reason()
        if reason:
            pytest.skip(reason)
        uri = databases.create_mysql_database(name)
        drop = databases.drop_mysql_database
    try:
        yield write_store(uri, tmp_path_factory.mktemp(backend) / "artifacts")
    finally:
        drop(name)  # PostgreSQL's drop disconnects MLflow's pooled connections itself


@pytest.fixture
def store(server_store: WrittenStore) -> Iterator[SqlStore]:
    opened = SqlStore(server_store.uri)
    yield opened
    opened.close()


def test_identity(store: SqlStore, server_store: WrittenStore) -> None:
    assert store.tracking_uri == server_store.uri
    assert store.display_name.startswith("127.0.0.1:")
    assert store.schema.has_table("latest_metrics")


def test_experiments(store: SqlStore, server_store: WrittenStore) -> None:
    frame = store.experiments()
    assert list(frame["experiment_id"]) == ["0", server_store.experiment_id]
    assert frame.iloc[1]["tags"]["team"] == "vision"
    assert list(store.experiments("deleted")["name"]) == ["beta"]


def test_metric_history(store: SqlStore, server_store: WrittenStore) -> None:
    run, other = server_store.run_id, server_store.other_run_id
    histories = store.metric_history([run, other], ["loss", "acc"])
    loss = histories[(run, "loss")]
    assert loss.dtype == HISTORY_DTYPE
    assert list(loss["step"]) == [0, 1, 2, 3, 4, 5]
    assert list(loss["timestamp"])[:2] == [T0 + 2, T0 + 1]
    assert math.isnan(loss["value"][2])
    assert list(histories[(run, "acc")]["value"]) == [np.inf, -np.inf, 0.5]
    assert histories[(other, "acc")].size == 0
    single = store.metric_history([run], ["loss"])[(run, "loss")]
    assert math.isnan(single["value"][2]) and single["value"][5] == 0.7


def test_metric_summaries(store: SqlStore, server_store: WrittenStore) -> None:
    frame = store.metric_summaries([server_store.run_id])
    rows = {row.key: row for row in frame.itertuples(index=False)}
    assert set(rows) == {"loss", "acc", "only_nan"}
    loss = rows["loss"]
    assert (loss.last, loss.min, loss.max, loss.min_step, loss.max_step, loss.count) == (
        0.7,
        0.2,
        0.9,
        3,
        0,
        5,
    )
    assert (rows["acc"].min, rows["acc"].max) == (-np.inf, np.inf)
    assert rows["only_nan"].count == 0


def test_run_detail(store: SqlStore, server_store: WrittenStore) -> None:
    detail = store.run(server_store.run_id)
    assert detail.params == {"lr": "0.01", "layers": "3"}
    assert detail.inputs[0].context == "training"
    assert detail.outputs[0].step == 7
    assert isinstance(store.fetch_artifact(server_store.run_id, "notes.txt"), Path)


def test_connections_are_read_only(store: SqlStore) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError), store.engine.connect() as connection:
        connection.execute(text("UPDATE experiments SET name = 'hacked' WHERE experiment_id = 0"))
    assert "hacked" not in set(store.experiments()["name"])
