"""Logged models on SQLite, file and REST stores: parity with MlflowClient, and artifacts."""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.helpers.servers import ServerProcess, start_mlflow_server

from flowdeck.core.entities import LoggedModel
from flowdeck.core.errors import InvalidFilter, NotFound
from flowdeck.core.logged_model_filter import like_match, search_logged_models
from flowdeck.store import open_store
from flowdeck.store.base import Store


@dataclass(frozen=True)
class Written:
    """A store filled by MLflow, its client and the ids MLflow gave."""

    uri: str
    location: str
    experiment_ids: list[str]
    ids: dict[str, str]  # model name -> model id (the deleted one too)


def _fill(uri: str, location: str, artifact_root: str | None) -> Written:
    """Five live models over two experiments (one with real pyfunc artifacts), one deleted."""
    import mlflow
    from mlflow import MlflowClient
    from tests.scenario import TinyModel

    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("lm", artifact_location=artifact_root and f"{artifact_root}/lm")
    other = client.create_experiment(
        "lm2", artifact_location=artifact_root and f"{artifact_root}/lm2"
    )
    run = client.create_run(exp).info.run_id
    ids = {}
    alpha = client.create_logged_model(
        exp,
        name="alpha-net",
        model_type="classifier",
        source_run_id=run,
        params={"lr": "0.1", "depth": "4"},
        tags={"team": "vision"},
    )
    ids["alpha-net"] = alpha.model_id
    for value, ts, step, dataset in ((0.9, 1000, 1, "train"), (0.8, 1001, 1, "eval")):
        digest = {"train": "d1", "eval": "d2"}[dataset]
        on_dataset = {"dataset_name": dataset, "dataset_digest": digest}
        client.log_metric(run, "acc", value, ts, step, model_id=alpha.model_id, **on_dataset)
    client.log_metric(run, "loss", 0.9, 1002, 0, model_id=alpha.model_id)
    client.log_metric(run, "loss", 0.3, 1003, 1, model_id=alpha.model_id)
    client.set_logged_model_tags(alpha.model_id, {"stage": "prod"})
    client.finalize_logged_model(alpha.model_id, "READY")

    beta = client.create_logged_model(exp, name="beta_net", model_type="regressor")
    ids["beta_net"] = beta.model_id
    client.log_model_params(beta.model_id, {"lr": "0.01"})
    client.set_logged_model_tags(beta.model_id, {"team": "Vision"})
    client.log_metric(
        run, "acc", 0.7, 1004, 2, model_id=beta.model_id, dataset_name="eval", dataset_digest="d2"
    )
    client.log_metric(run, "loss", 0.5, 1005, 2, model_id=beta.model_id)
    client.finalize_logged_model(beta.model_id, "FAILED")

    gamma = client.create_logged_model(exp, name="Gamma", tags={"team": "nlp"})
    ids["Gamma"] = gamma.model_id
    train = {"dataset_name": "train", "dataset_digest": "d1"}
    client.log_metric(run, "acc", 0.95, 1006, 0, model_id=gamma.model_id, **train)
    gone = client.create_logged_model(exp, name="deleted-one")
    ids["deleted-one"] = gone.model_id
    client.delete_logged_model(gone.model_id)
    elsewhere = client.create_logged_model(other, name="other")
    ids["other"] = elsewhere.model_id
    other_run = client.create_run(other).info.run_id  # a FileStore keeps metrics by run
    client.log_metric(other_run, "acc", 0.5, 1007, 0, model_id=elsewhere.model_id)

    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)  # the fluent log_model writes to the global tracking URI
    try:
        with mlflow.start_run(run_id=run):
            info = mlflow.pyfunc.log_model(
                name="pyfunc-model", python_model=TinyModel(), pip_requirements=["mlflow"]
            )
    finally:
        mlflow.set_tracking_uri(previous)
    ids["pyfunc-model"] = str(info.model_id)
    client.set_terminated(run)
    return Written(uri, location, [exp, other], ids)


@pytest.fixture(scope="module")
def sqlite_written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    folder = tmp_path_factory.mktemp("lm-sqlite")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    return _fill(uri, str(folder / "mlflow.db"), str(folder / "artifacts"))


@pytest.fixture(scope="module")
def files_written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3.13+ refuses file stores without it
    mlruns = tmp_path_factory.mktemp("lm-files") / "mlruns"
    return _fill(mlruns.as_uri(), str(mlruns), None)


@pytest.fixture(scope="module")
def server_written(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Written]:
    server: ServerProcess = start_mlflow_server(tmp_path_factory.mktemp("lm-server"))
    try:
        yield _fill(server.url, server.url, None)
    finally:
        server.stop()


BACKENDS = [
    "sqlite",
    "files",
    pytest.param("server", marks=[pytest.mark.server, pytest.mark.slow]),
]


@pytest.fixture(params=BACKENDS)
def written(request: pytest.FixtureRequest) -> Written:
    return request.getfixturevalue(f"{request.param}_written")


@pytest.fixture
def store(written: Written) -> Iterator[Store]:
    opened = open_store(written.location)
    try:
        yield opened
    finally:
        opened.close()


def _client(written: Written) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=written.uri)


def _mlflow_order(order_by: list[Any]) -> list[dict[str, Any]]:
    found = []
    for item in order_by:
        if isinstance(item, dict):
            found.append(item)
            continue
        field, _, direction = item.partition(" ")
        found.append({"field_name": field, "ascending": direction.strip() != "DESC"})
    return found


def _metric_rows(metrics: Any) -> list[tuple[Any, ...]]:
    rows = [
        (m.key, m.value, m.step, m.timestamp, m.dataset_name, m.dataset_digest, m.run_id)
        for m in metrics or ()
    ]
    return sorted(rows, key=repr)


def _assert_same_models(ours: list[LoggedModel], theirs: list[Any]) -> None:
    assert [m.model_id for m in ours] == [m.model_id for m in theirs]
    for mine, mlflows in zip(ours, theirs, strict=True):
        assert mine.name == mlflows.name
        assert mine.experiment_id == mlflows.experiment_id
        assert mine.status == mlflows.status.name
        assert (mine.model_type or None) == (mlflows.model_type or None)
        assert (mine.source_run_id or None) == (mlflows.source_run_id or None)
        assert mine.creation_time == mlflows.creation_timestamp
        assert mine.artifact_location == mlflows.artifact_location
        assert mine.params == mlflows.params
        assert mine.tags == mlflows.tags
        assert _metric_rows(mine.metrics) == _metric_rows(mlflows.metrics)


FILTERS = [
    "",
    "name = 'alpha-net'",
    "name != 'alpha-net'",
    "name LIKE '%net'",
    "name LIKE 'alpha_net'",
    "name ILIKE 'g%'",
    "name IN ('Gamma', 'other', 'nope')",
    "name NOT IN ('Gamma')",
    "model_id = '{alpha-net}'",
    "model_type = 'classifier'",
    "model_type IN ('classifier', 'regressor')",
    "model_type != 'classifier'",
    "source_run_id LIKE '%'",
    "creation_timestamp > 0",
    "last_updated_timestamp >= 1",
    "metrics.acc > 0.75",
    "metrics.acc < 0.85",
    "metrics.loss > 0.5",
    "metrics.loss <= 0.5 AND params.lr = '0.1'",
    "metrics.`acc` = 0.95",
    "metrics.missing > 0",
    "params.lr = '0.01'",
    "params.lr LIKE '0.%'",
    "params.depth != '5'",
    "tags.team = 'vision'",
    "tags.team ILIKE 'vision'",
    "tags.team LIKE 'V%' and name LIKE 'beta%'",
    "tags.`stage` = 'prod'",
]
ORDERS: list[list[Any]] = [
    [],
    ["name"],
    ["name DESC"],
    ["creation_timestamp"],
    ["creation_time DESC"],
    ["last_updated_timestamp DESC"],
    ["metrics.acc"],
    ["metrics.acc DESC"],
    ["metrics.loss", "name"],
    [{"field_name": "metrics.acc", "ascending": False, "dataset_name": "train"}],
    [{"field_name": "metrics.acc", "dataset_name": "eval", "dataset_digest": "d2"}],
    ["model_id DESC"],
]


@pytest.mark.parametrize("filter_string", FILTERS)
def test_filters_match_mlflow(store: Store, written: Written, filter_string: str) -> None:
    filter_string = filter_string.format(**written.ids)
    ours = store.logged_models(written.experiment_ids, filter_string)
    theirs = _client(written).search_logged_models(
        written.experiment_ids, filter_string=filter_string or None
    )
    _assert_same_models(ours, list(theirs))


@pytest.mark.parametrize("order_by", ORDERS, ids=repr)
def test_orders_match_mlflow(store: Store, written: Written, order_by: list[Any]) -> None:
    ours = store.logged_models(written.experiment_ids, "", order_by)
    theirs = _client(written).search_logged_models(
        written.experiment_ids, order_by=_mlflow_order(order_by)
    )
    _assert_same_models(ours, list(theirs))
    positional = store.logged_models(written.experiment_ids)
    assert {m.model_id for m in positional} == {m.model_id for m in ours}


def test_metrics_carry_datasets_and_runs(store: Store, written: Written) -> None:
    alpha = store.logged_model(written.ids["alpha-net"])
    on_data = {(m.key, m.dataset_name, m.dataset_digest, m.value) for m in alpha.metrics}
    assert {("acc", "train", "d1", 0.9), ("acc", "eval", "d2", 0.8)} <= on_data
    assert all(m.run_id for m in alpha.metrics)
    assert alpha.params == {"lr": "0.1", "depth": "4"}
    assert alpha.tags["stage"] == "prod"


def test_status_filter_reads_status_names(store: Store, written: Written) -> None:
    # MLflow's SQL store compares its integer status column with the text and finds nothing;
    # Flowdeck's local stores compare the status names, as MLflow's FileStore does.
    if written.location.startswith("http"):
        pytest.skip("a server answers as its own store does")
    ready = store.logged_models(written.experiment_ids, "status = 'READY'")
    assert {m.name for m in ready} == {"alpha-net", "pyfunc-model"}


def test_deleted_models_are_hidden(store: Store, written: Written) -> None:
    names = {m.name for m in store.logged_models(written.experiment_ids)}
    assert "deleted-one" not in names
    assert {"alpha-net", "beta_net", "Gamma", "other", "pyfunc-model"} == names
    with pytest.raises(NotFound, match="no logged model"):
        store.logged_model(written.ids["deleted-one"])
    with pytest.raises(NotFound, match="no logged model"):
        store.logged_model("m-" + "0" * 32)
    assert store.logged_models([]) == []


def test_logged_model_matches_mlflow(store: Store, written: Written) -> None:
    client = _client(written)
    for name, model_id in written.ids.items():
        if name == "deleted-one":
            continue
        _assert_same_models([store.logged_model(model_id)], [client.get_logged_model(model_id)])


BAD_FILTERS = [
    "name = 'a' OR name = 'b'",
    "experiment_id = '1'",
    "name > 'a'",
    "metrics.acc LIKE '0.9'",
    "metrics.acc = 'high'",
    "creation_timestamp = 'yesterday'",
    "tags.team IS NULL",
    "nonsense",
]


@pytest.mark.parametrize("filter_string", BAD_FILTERS)
def test_invalid_filters_raise(store: Store, written: Written, filter_string: str) -> None:
    with pytest.raises(InvalidFilter):
        store.logged_models(written.experiment_ids, filter_string)


@pytest.mark.parametrize("order_by", [["params.lr"], ["bogus"], ["name sideways"]])
def test_invalid_orders_raise(store: Store, written: Written, order_by: list[str]) -> None:
    with pytest.raises(InvalidFilter):
        store.logged_models(written.experiment_ids, "", order_by)


# --- artifacts --------------------------------------------------------------------------------


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


def test_artifacts_match_mlflow_download(store: Store, written: Written, tmp_path: Path) -> None:
    import mlflow

    model_id = written.ids["pyfunc-model"]
    mlflow.set_tracking_uri(written.uri)  # models:/ resolves through the global tracking URI
    expected = _tree(
        Path(
            mlflow.artifacts.download_artifacts(
                f"models:/{model_id}", dst_path=str(tmp_path / "mlflow"), tracking_uri=written.uri
            )
        )
    )
    expected.pop("registered_model_meta", None)  # written by MLflow's models:/ download itself
    assert "MLmodel" in expected

    root = store.list_logged_model_artifacts(model_id)
    top = {entry.path for entry in root if not entry.is_dir}
    assert top == {name for name in expected if "/" not in name}
    sizes = {entry.path: entry.file_size for entry in root if not entry.is_dir}
    assert sizes == {name: len(expected[name]) for name in top}
    assert [entry.is_dir for entry in root] == sorted((e.is_dir for e in root), reverse=True)

    folder = store.fetch_logged_model_artifact(model_id, "")
    assert _tree(folder) == expected
    mlmodel = store.fetch_logged_model_artifact(model_id, "./MLmodel")
    assert mlmodel.read_bytes() == expected["MLmodel"]
    if not written.location.startswith("http"):  # local artifacts are returned in place
        location = store.logged_model(model_id).artifact_location or ""
        assert folder.resolve() == Path(location.removeprefix("file://")).resolve()


def test_artifact_paths_are_checked(store: Store, written: Written) -> None:
    model_id = written.ids["pyfunc-model"]
    for bad in ("../x", "/etc/passwd", "a/../../b"):
        with pytest.raises(NotFound):
            store.list_logged_model_artifacts(model_id, bad)
        with pytest.raises(NotFound):
            store.fetch_logged_model_artifact(model_id, bad)
    with pytest.raises(NotFound):
        store.fetch_logged_model_artifact(model_id, "no-such-file.txt")
    with pytest.raises(NotFound):
        store.list_logged_model_artifacts("m-" + "0" * 32)


def test_model_without_artifacts_lists_nothing(store: Store, written: Written) -> None:
    assert store.list_logged_model_artifacts(written.ids["Gamma"]) == []


# --- LIKE without backtracking ------------------------------------------------------------------


def _reference_like(text: str, pattern: str) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


def test_like_agrees_with_a_reference_on_small_cases() -> None:
    rng = random.Random(7)
    for _ in range(20000):
        text = "".join(rng.choice("ab_%") for _ in range(rng.randint(0, 8)))
        pattern = "".join(rng.choice("ab%__") for _ in range(rng.randint(0, 7)))
        assert like_match(text, pattern) is _reference_like(text, pattern), (text, pattern)
    assert like_match("Alpha", "a%A", ignore_case=True)
    assert not like_match("Alpha", "a%A")


def test_like_is_linear_on_a_pathological_pattern() -> None:
    name = "a" * 10_000
    model = LoggedModel("m-1", "1", name, None, 1, 1, "READY", None, None)
    assert search_logged_models([model], "name LIKE '%a%a%a%a%a%b'") == []
    assert search_logged_models([model], "name LIKE '%a_a%a_a%a'") == [model]
    assert not like_match(name, "%a_a_a%a_a_b")
    assert like_match(name + "b", "%a%a%a%a%a%b")


@pytest.mark.server
@pytest.mark.slow
def test_server_search_pages(server_written: Written, monkeypatch: pytest.MonkeyPatch) -> None:
    from flowdeck.store.rest import logged_models as rest_logged_models

    monkeypatch.setattr(rest_logged_models, "LOGGED_MODELS_PAGE", 2)
    store = open_store(server_written.location)
    try:
        ours = store.logged_models(server_written.experiment_ids, "", ["name"])
    finally:
        store.close()
    theirs = _client(server_written).search_logged_models(
        server_written.experiment_ids, order_by=[{"field_name": "name"}]
    )
    assert len(ours) == 5
    _assert_same_models(ours, list(theirs))
