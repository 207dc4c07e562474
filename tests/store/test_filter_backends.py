"""LIKE/ILIKE follow each backend as MLflow does; malformed filters raise InvalidFilter."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from tests.helpers import databases

from flowdeck.core.errors import InvalidFilter
from flowdeck.core.task_state import TaskState
from flowdeck.store import open_store

WHO = ["señor", "SEÑOR", "Straße", "100%", "1000", "back\\slash", "two\nlines"]


@dataclass
class Written:
    location: str
    experiment_id: str
    run_of: dict[str, str]  # param value -> run id


def _write(location: str, uri: str) -> Written:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment("backends")
    run_of = {}
    for value in WHO:
        run_id = client.create_run(experiment_id, run_name=value.replace("\n", " ")).info.run_id
        client.log_param(run_id, "who", value)
        run_of[value] = run_id
    return Written(location, experiment_id, run_of)


@pytest.fixture(
    scope="module",
    params=[
        "files",
        "sqlite",
        pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow]),
        pytest.param("mysql", marks=[pytest.mark.mysql, pytest.mark.slow]),
    ],
)
def written(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Written]:
    backend = request.param
    folder = tmp_path_factory.mktemp(f"backend-{backend}")
    if backend == "files":
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
        yield _write(str(folder / "mlruns"), (folder / "mlruns").as_uri())
        return
    if backend == "sqlite":
        uri = f"sqlite:///{folder / 'mlflow.db'}"
        yield _write(uri, uri)
        return
    name = databases.unique_database_name("flowdeck_like")
    if backend == "postgresql":
        reason = databases.postgres_unreachable_reason()
        create, drop = databases.create_postgres_database, databases.drop_postgres_database
    else:
        reason = databases.mysql_unreachable_reason()
        create, drop = databases.create_mysql_database, databases.drop_mysql_database
    if reason:
        pytest.skip(reason)
    uri = create(name)
    try:
        yield _write(uri, uri)
    finally:
        drop(name)


def backend_of(written: Written) -> str:
    location = written.location
    return next(
        (name for name in ("sqlite", "postgresql", "mysql") if location.startswith(name)), "files"
    )


def values_found(written: Written, filter_string: str) -> tuple[set[str], set[str]]:
    """(Flowdeck's, MLflow's) matching param values."""
    from mlflow import MlflowClient

    value_of = {run_id: value for value, run_id in written.run_of.items()}
    store = open_store(written.location)
    try:
        ours = {value_of[r] for r in store.runs([written.experiment_id], filter_string)["run_id"]}
    finally:
        store.close()
    uri = written.location if backend_of(written) != "files" else None
    client = MlflowClient(tracking_uri=uri or f"file:{written.location}")
    runs = client.search_runs([written.experiment_id], filter_string)
    return ours, {run.data.params["who"] for run in runs}


# Non-ASCII letters fold only where the backend folds them: not in SQLite's lower(); and
# MariaDB's utf8mb4_general_ci ignores accents too, so there Ñ also matches the n of "lines".
ILIKE_N = {
    "sqlite": {"SEÑOR"},
    "files": {"señor", "SEÑOR"},
    "postgresql": {"señor", "SEÑOR"},
    "mysql": {"señor", "SEÑOR", "two\nlines"},
}


def test_ilike_with_non_ascii_letters_follows_the_backend(written: Written) -> None:
    ours, theirs = values_found(written, "params.who ILIKE '%Ñ%'")
    assert ours == theirs == ILIKE_N[backend_of(written)]


@pytest.mark.parametrize(
    "filter_string",
    [
        "params.who ILIKE 'señor'",
        "params.who LIKE '%ñ%'",
        "params.who ILIKE 'STRASSE'",
        "params.who ILIKE '%straSSe'",
        "params.who LIKE '100%'",
        "params.who LIKE '100\\%'",
        "params.who LIKE '%\\\\%'",
        "params.who LIKE 'two_lines'",
        "params.who LIKE 'two%'",
        "params.who LIKE '%lines'",
        "params.who ILIKE '_e_or'",
    ],
)
def test_like_edges_match_mlflow(written: Written, filter_string: str) -> None:
    ours, theirs = values_found(written, filter_string)
    assert ours == theirs


def test_backslash_escapes_only_where_the_backend_escapes(written: Written) -> None:
    ours, theirs = values_found(written, "params.who LIKE '100\\%'")
    escapes = backend_of(written) in ("postgresql", "mysql")
    assert ours == theirs == ({"100%"} if escapes else set())


@pytest.mark.parametrize(
    "filter_string",
    [
        "datasets.x NOT IN ('a', nan)",
        "datasets.name NOT IN ('a', nan)",
        "attributes.run_id IN ('a', b)",
        "params.who = 'x' AND datasets.context IN (nan)",
    ],
)
def test_malformed_filters_raise_invalid_filter(written: Written, filter_string: str) -> None:
    store = open_store(written.location)
    try:
        with pytest.raises(InvalidFilter) as raised:
            store.runs([written.experiment_id], filter_string)
    finally:
        store.close()
    assert str(raised.value).startswith("Invalid filter: ")
    assert "ast." not in str(raised.value)  # no Python internals in the message


def test_a_cancelled_filter_stops(written: Written) -> None:
    from flowdeck.core.errors import Cancelled

    state = TaskState()
    state.cancel()
    store = open_store(written.location)
    try:
        with pytest.raises(Cancelled):
            store.runs([written.experiment_id], "params.who LIKE '%a%a%b'", state=state)
    finally:
        store.close()
