"""Fuzz: 10,000 generated run filters give MLflow's run ids, or a typed InvalidFilter."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from filter_fuzz_data import FuzzStore, generate_filters, write_fuzz_store

from flowdeck.core.errors import InvalidFilter
from flowdeck.store import open_store

pytestmark = pytest.mark.slow  # about a minute per backend

FILTERS = 10_000
BATCH = 1_000


def _escape_ends_pattern(message: str) -> bool:
    # PostgreSQL and MySQL refuse a LIKE pattern ending in its escape character, but only
    # when a row reaches that point of the match; Flowdeck refuses it every time.
    return "ends with the escape character" in message


def compare(
    store_location: str,
    written: FuzzStore,
    mlflow_run_ids: Callable[[str], list[str]],
    mlflow_refuses: Callable[[str], bool],
    filters: list[str],
) -> list[str]:
    """The filters on which Flowdeck and MLflow disagree, described."""
    store = open_store(store_location)
    problems = []
    try:
        for filter_string in filters:
            try:
                theirs: list[str] | None = mlflow_run_ids(filter_string)
            except Exception:  # MlflowException, or a raw error of MLflow's parser
                theirs = None
            try:
                frame = store.runs(written.experiment_ids, filter_string)
                ours: list[str] | str = [str(r) for r in frame["run_id"]]
            except InvalidFilter as exc:
                ours = str(exc)
            if theirs is None or (isinstance(ours, str) and mlflow_refuses(filter_string)):
                if not isinstance(ours, str):
                    problems.append(
                        f"{filter_string!r}: MLflow refuses it, Flowdeck returns {ours}"
                    )
            elif ours != theirs and not (isinstance(ours, str) and _escape_ends_pattern(ours)):
                problems.append(f"{filter_string!r}: MLflow {theirs}, Flowdeck {ours}")
    finally:
        store.close()
    return problems


@pytest.fixture(scope="module")
def sqlite_fuzz(tmp_path_factory: pytest.TempPathFactory) -> FuzzStore:
    path = tmp_path_factory.mktemp("fuzz-sqlite") / "mlflow.db"
    return write_fuzz_store(f"sqlite:///{path}")


@pytest.fixture(scope="module")
def file_fuzz(tmp_path_factory: pytest.TempPathFactory) -> FuzzStore:
    root = tmp_path_factory.mktemp("fuzz-files") / "mlruns"
    return write_fuzz_store(root.as_uri())


@pytest.mark.parametrize("batch", range(FILTERS // BATCH))
def test_sqlite_filters_match_mlflow(sqlite_fuzz: FuzzStore, batch: int) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(sqlite_fuzz.tracking_uri)

    def run_ids(filter_string: str) -> list[str]:
        runs = client.search_runs(sqlite_fuzz.experiment_ids, filter_string, max_results=50_000)
        return [run.info.run_id for run in runs]

    filters = generate_filters(FILTERS, sqlite_fuzz.run_ids)[batch * BATCH : (batch + 1) * BATCH]
    location = sqlite_fuzz.tracking_uri
    problems = compare(location, sqlite_fuzz, run_ids, lambda _f: False, filters)
    assert not problems, "\n".join(problems[:10])


@pytest.mark.parametrize("batch", range(FILTERS // BATCH))
def test_file_store_filters_match_mlflow(file_fuzz: FuzzStore, batch: int) -> None:
    """MLflow's FileStore loads the runs and filters them with ``SearchUtils.filter``; that
    evaluation is called here directly on the runs the store loaded, once per filter."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    from mlflow import MlflowClient
    from mlflow.utils.search_utils import SearchUtils

    client = MlflowClient(file_fuzz.tracking_uri)
    runs = client.search_runs(file_fuzz.experiment_ids, "", max_results=50_000)

    def run_ids(filter_string: str) -> list[str]:
        found = SearchUtils.sort(SearchUtils.filter(runs, filter_string), [])
        return [run.info.run_id for run in found]

    def refuses(filter_string: str) -> bool:
        """MLflow refuses a clause (a comparator its type does not take) whenever a run
        reaches it; ``all()`` may stop before, so ask each clause of every run."""
        try:
            for clause in SearchUtils.parse_search_filter(filter_string):
                for run in runs:
                    SearchUtils._does_run_match_clause(run, clause)
        except Exception:
            return True
        return False

    filters = generate_filters(FILTERS, file_fuzz.run_ids)[batch * BATCH : (batch + 1) * BATCH]
    problems = compare(file_fuzz.tracking_uri, file_fuzz, run_ids, refuses, filters)
    assert not problems, "\n".join(problems[:10])
