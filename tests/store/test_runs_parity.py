"""Parity: build_runs_frame(load_run_tables(...)) equals mlflow.search_runs() on the same store."""

from __future__ import annotations

import shutil
import uuid

import pandas as pd
import pytest
import sqlalchemy
from runs_parity_data import WrittenStore, write_store
from tests.helpers.realworld import HOUSING_DB as REALWORLD_DB

from flowdeck.core.run_tables import RunTables
from flowdeck.core.runs_frame import build_runs_frame
from flowdeck.store.sql.run_tables import load_run_tables

VIEWS = {"active": 1, "deleted": 2, "all": 3}  # mlflow.entities.ViewType values

FILTERS = [
    "",
    "metrics.loss < 0.5",
    "metrics.loss <= 0.5",
    "metrics.loss > 0.3",
    "metrics.loss >= 0.4",
    "metrics.loss = 0.5",
    "metrics.loss != 0.5",
    "metrics.loss > 1e300",
    "metrics.acc != 0.8",
    "metrics.acc = 0.8",
    "metrics.acc < 0",
    "metric.`val/loss` > 0",
    "metrics.`val/loss` != 1",
    'metrics."val/loss" <= 0.6',
    "params.lr = '0.01'",
    "params.lr != '0.01'",
    "param.optimizer LIKE 'a%'",
    "params.optimizer like '%D%'",
    "params.optimizer ILIKE '%D%'",
    "params.optimizer ILIKE 'adam_'",
    "params.lr LIKE '0._'",
    "params.`learning rate` = 'ümlaut'",
    "params.`learning rate` IS NULL",
    "params.optimizer IS NOT NULL",
    "parameters.\"path/with slash\" = 'a/b'",
    "tags.team = 'core'",
    "tags.team != 'core'",
    "tags.team ILIKE 'core'",
    "tags.team LIKE 'C%'",
    "tags.team = 'he said \"hi\"'",
    "tag.`team name` LIKE '%ï%'",
    "tags.note LIKE '100%'",
    "tags.note LIKE '%\\_%'",
    "tags.`mlflow.parentRunId` IS NOT NULL",
    "tags.`mlflow.parentRunId` is null",
    "tags.`mlflow.runName` = 'parent'",
    "attributes.status = 'FINISHED'",
    "attribute.status != 'FINISHED'",
    "run.status ILIKE 'fail%'",
    "run_name = 'parent'",
    "attributes.run_name LIKE 'child%'",
    "`Run name` ILIKE '%QUOTED%'",
    "attributes.`run name` = \"naïve 'quoted' run\"",
    "attributes.start_time > 1500",
    "created >= 2000",
    "Created < 3000",
    "start_time = 2000",
    "attributes.end_time > 0",
    "end_time != 0",
    "attributes.user_id LIKE '%'",
    "attr.artifact_uri LIKE '%artifacts'",
    "attributes.run_id = '{parent}'",
    "attributes.run_id IN ('{parent}', '{child-2}', '{beta-a}')",
    "run_id NOT IN ('{parent}')",
    "datasets.name = 'train'",
    "datasets.name != 'train'",
    "datasets.digest LIKE '%'",
    "datasets.context = 'training'",
    "datasets.context IN ('eval', 'testing')",
    "datasets.name NOT IN ('train')",
    "dataset.name ILIKE 'TR%'",
    "metrics.loss > 1 AND params.lr = '0.01'",
    "metrics.loss < 1 and tags.team ILIKE 'core'",
    "params.lr = '0.1' AnD datasets.context = 'training'",
    "metrics.loss > 0 AND metrics.loss < 0.6 AND status = 'FINISHED'",
    "params.lr != '0.5' AND tags.team IS NULL AND created > 0",
]

ORDERINGS = [
    [],
    ["metrics.loss"],
    ["metrics.loss DESC"],
    ["metrics.acc ASC"],
    ["metrics.acc DESC"],
    ["params.lr"],
    ["params.lr DESC", "metrics.loss"],
    ["tags.team DESC"],
    ["attributes.start_time ASC"],
    ["created DESC"],
    ["attributes.run_name"],
    ["status DESC", "params.`learning rate`"],
    ["end_time"],
    ["metrics.`val/loss` DESC", "tags.`team name` ASC"],
    ["artifact_uri desc"],
    ["run_id"],
    ["attributes.user_id", "metrics.loss DESC", "params.optimizer"],
]
ORDER_FILTERS = ["", "metrics.loss > 0", "params.lr != 'x'"]

PREFIX_RANK = {"metrics": 0, "params": 1, "tags": 2}


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory):
    """The dataset in SQLite, plus Flowdeck's run tables of each view (read-only engine)."""
    path = tmp_path_factory.mktemp("parity") / "mlflow.db"
    written = write_store(f"sqlite:///{path}")
    engine = sqlalchemy.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    tables = {view: load_run_tables(engine, written.experiment_ids, view) for view in VIEWS}
    engine.dispose()
    return written, tables


def mlflow_frame(written: WrittenStore, filter_string: str, order_by, view: str, max_results=None):
    import mlflow

    mlflow.set_tracking_uri(written.tracking_uri)
    try:
        kwargs = {} if max_results is None else {"max_results": max_results}
        return mlflow.search_runs(
            written.experiment_ids, filter_string, VIEWS[view], order_by=order_by, **kwargs
        )
    finally:
        mlflow.set_tracking_uri(None)


def first_rows(frame: pd.DataFrame, tables: RunTables) -> dict[str, int]:
    """Row of the first run that has each key column (presence taken from the run tables)."""
    row_of = {run_id: i for i, run_id in enumerate(frame["run_id"])}
    firsts: dict[str, int] = {}
    for prefix, long in (
        ("metrics", tables.metrics),
        ("params", tables.params),
        ("tags", tables.tags),
    ):
        for run_id, key in zip(long["run_id"], long["key"], strict=True):
            if run_id in row_of:
                name = f"{prefix}.{key}"
                firsts[name] = min(firsts.get(name, len(frame)), row_of[run_id])
    return firsts


def assert_same_frame(ours: pd.DataFrame, theirs: pd.DataFrame, tables: RunTables) -> None:
    """Equal frames; key columns first seen in the same row may differ in order (MLflow uses set order)."""
    assert list(ours.columns[:6]) == list(theirs.columns[:6])
    assert set(ours.columns) == set(theirs.columns)
    firsts = first_rows(ours, tables)

    def block(name: str) -> tuple[int, int]:
        return PREFIX_RANK[name.split(".", 1)[0]], firsts[name]

    theirs_keys = list(theirs.columns[6:])
    assert [block(n) for n in theirs_keys] == sorted(block(n) for n in theirs_keys)
    assert list(ours.columns[6:]) == sorted(theirs_keys, key=lambda n: (*block(n), n))
    pd.testing.assert_frame_equal(ours, theirs[list(ours.columns)])


def _cases():
    cases = [(f, [], v) for f in FILTERS for v in VIEWS]
    cases += [(f, o, v) for o in ORDERINGS[1:] for f in ORDER_FILTERS for v in VIEWS]
    return cases


CASES = _cases()


@pytest.mark.parametrize(("filter_template", "order_by", "view"), CASES)
def test_sqlite_parity(sqlite_store, filter_template, order_by, view):
    written, tables_of_view = sqlite_store
    filter_string = (
        filter_template.format(**written.run_ids) if "{" in filter_template else filter_template
    )
    tables = tables_of_view[view]
    ours = build_runs_frame(tables, filter_string, order_by)
    theirs = mlflow_frame(written, filter_string, order_by, view)
    assert len(theirs) or filter_string, "the unfiltered view should never be empty"
    assert_same_frame(ours, theirs, tables)


@pytest.mark.parametrize("max_results", [1, 3, 7, 100])
@pytest.mark.parametrize("order_by", [[], ["metrics.loss DESC"], ["params.lr", "tags.team"]])
def test_sqlite_parity_max_results(sqlite_store, max_results, order_by):
    written, tables_of_view = sqlite_store
    tables = tables_of_view["all"]
    ours = build_runs_frame(tables, "", order_by, max_results)
    theirs = mlflow_frame(written, "", order_by, "all", max_results)
    assert len(ours) == min(max_results, 12)
    assert_same_frame(ours, theirs, tables)


def test_parity_case_count(sqlite_store):
    assert len(CASES) >= 40 * 3
    written, _tables = sqlite_store
    selecting = [
        f
        for f in FILTERS
        if len(mlflow_frame(written, f.format(**written.run_ids) if "{" in f else f, [], "all"))
    ]
    assert len(selecting) >= len(FILTERS) // 2, (
        "most filters should select runs, not compare empty frames"
    )
    print(f"runs parity cases: {len(CASES)} filter/order/view + 12 max_results")


@pytest.mark.skipif(
    not REALWORLD_DB.exists(), reason="real-world stores are not beside the project"
)
@pytest.mark.parametrize(
    ("filter_string", "order_by"),
    [
        ("", []),
        ("metrics.rmse < 1e9", ["metrics.rmse"]),
        ("", ["params.`model` DESC", "start_time"]),
    ],
)
def test_realworld_housing_parity(tmp_path, filter_string, order_by):
    pristine, for_mlflow = tmp_path / "pristine.db", tmp_path / "for_mlflow.db"
    shutil.copyfile(REALWORLD_DB, pristine)
    shutil.copyfile(REALWORLD_DB, for_mlflow)
    engine = sqlalchemy.create_engine(f"sqlite:///file:{pristine}?mode=ro&uri=true")
    with engine.connect() as conn:
        experiment_ids = [
            str(r[0])
            for r in conn.execute(sqlalchemy.text("SELECT experiment_id FROM experiments"))
        ]
    tables = load_run_tables(engine, experiment_ids, "all")
    ours = build_runs_frame(tables, filter_string, order_by)
    engine.dispose()
    written = WrittenStore(f"sqlite:///{for_mlflow}", experiment_ids)
    theirs = mlflow_frame(written, filter_string, order_by, "all")
    assert len(ours) > 0
    assert_same_frame(ours, theirs, tables)
    assert pristine.read_bytes() == REALWORLD_DB.read_bytes(), "reading must not modify the store"


SERVER_FILTERS = [f for f in FILTERS if "{" not in f][::3] + [
    "tags.team LIKE 'C%'",
    "params.optimizer like '%D%'",
]
SERVER_ORDERINGS = [[], ["metrics.loss DESC"], ["metrics.acc"], ["attributes.start_time ASC"]]


def _server_database(kind: str):
    """A throw-away database on the local PostgreSQL or MariaDB server (skip if unreachable)."""
    name = f"flowdeck_parity_{uuid.uuid4().hex[:10]}"
    admin_url = {
        "postgresql": "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
        "mysql": "mysql+pymysql://root:@127.0.0.1:3306/",
    }[kind]
    admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    except sqlalchemy.exc.OperationalError as exc:
        admin.dispose()
        pytest.skip(f"{kind} server not reachable: {exc.__class__.__name__}")
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    return admin, name, url


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ],
)
def test_server_database_parity(kind):
    admin, name, url = _server_database(kind)
    try:
        written = write_store(url)
        engine = sqlalchemy.create_engine(url)
        checked = matched = 0
        for view in VIEWS:
            tables = load_run_tables(engine, written.experiment_ids, view)
            for filter_string in SERVER_FILTERS:
                for order_by in SERVER_ORDERINGS:
                    ours = build_runs_frame(tables, filter_string, order_by)
                    theirs = mlflow_frame(written, filter_string, order_by, view)
                    assert len(theirs) or filter_string, "the unfiltered view should never be empty"
                    assert_same_frame(ours, theirs, tables)
                    checked += 1
                    matched += bool(len(theirs))
        engine.dispose()
        print(f"{kind}: {checked} parity cases, {matched} with runs")
        assert matched >= checked // 2, "most cases should compare real rows, not empty frames"
    finally:
        force = " WITH (FORCE)" if kind == "postgresql" else ""  # MLflow's pool stays open
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f"DROP DATABASE {name}{force}"))
        admin.dispose()


@pytest.fixture(scope="module")
def file_store(tmp_path_factory: pytest.TempPathFactory):
    """The dataset in an mlruns/ folder, opened through flowdeck.store.open_store."""
    try:
        from flowdeck.store import open_store
        from flowdeck.store.files import FileStore  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"FileStore is not available: {exc}")
    root = tmp_path_factory.mktemp("parity_files") / "mlruns"
    written = write_store(root.as_uri())
    return written, open_store(str(root))


FILE_CASES = [(f, [], v) for f in FILTERS if "{" not in f for v in ("active", "all")] + [
    ("", o, "all") for o in ORDERINGS[1:]
]


@pytest.mark.parametrize(("filter_string", "order_by", "view"), FILE_CASES)
def test_file_store_parity(file_store, filter_string, order_by, view):
    written, store = file_store
    ours = store.runs(written.experiment_ids, filter_string, order_by, view=view)
    theirs = mlflow_frame(written, filter_string, order_by, view)
    assert len(theirs) or filter_string, "the unfiltered view should never be empty"
    assert list(ours.columns[:6]) == list(theirs.columns[:6])
    assert set(ours.columns) == set(theirs.columns)
    pd.testing.assert_frame_equal(ours, theirs[list(ours.columns)])
