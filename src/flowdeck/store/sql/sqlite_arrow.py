"""Arrow-native loading of the big run tables from a SQLite file (the runs() fast path).

Python's sqlite3 module builds one Python object per cell: on 10,000 runs with 20 params and
10 metrics that is ~1.5 million objects and most of a second. The ADBC SQLite driver hands
back Arrow columns instead, and run ids and keys become dictionary codes without a Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from flowdeck.core.run_tables import RunTables

# Below this share of all runs, joining on the runs table is cheaper than scanning everything.
FULL_SCAN_SHARE = 0.5


def available() -> bool:
    """Whether the ADBC SQLite driver is installed."""
    try:
        import adbc_driver_sqlite.dbapi  # noqa: F401
    except ImportError:
        return False
    return True


def load_run_tables_arrow(
    path: Path, experiment_ids: Sequence[int], stages: Sequence[str]
) -> RunTables:
    """Runs, latest metrics, params and tags of the runs in scope, read-only (``mode=ro``)."""
    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow.compute as pc

    ids = ",".join(str(int(e)) for e in experiment_ids) or "NULL"
    in_stages = ",".join(f"'{stage}'" for stage in stages if stage in ("active", "deleted"))
    scope = f"r.experiment_id IN ({ids}) AND r.lifecycle_stage IN ({in_stages})"
    connection = adbc.connect(f"file:{quote(str(path))}?mode=ro")
    try:

        def query(sql: str):  # -> pyarrow.Table
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetch_arrow_table()

        runs = query(
            "SELECT r.run_uuid AS run_id, r.experiment_id, r.name AS run_name, r.status, "
            "r.user_id, r.artifact_uri, r.start_time, r.end_time, r.lifecycle_stage "
            f"FROM runs r WHERE {scope}"
        )
        total_runs = query("SELECT count(*) AS n FROM runs")["n"][0].as_py()
        full_scan = len(runs) >= FULL_SCAN_SHARE * total_runs

        def per_run(table: str, columns: str):  # -> pyarrow.Table
            if full_scan:
                rows = query(f"SELECT t.run_uuid AS run_id, {columns} FROM {table} t")
                return rows.filter(pc.is_in(rows["run_id"], value_set=runs["run_id"]))
            return query(
                f"SELECT t.run_uuid AS run_id, {columns} FROM {table} t "
                f"JOIN runs r ON r.run_uuid = t.run_uuid WHERE {scope}"
            )

        metrics = per_run("latest_metrics", "t.key, t.value, t.step, t.timestamp, t.is_nan")
        params = per_run("params", "t.key, t.value")
        tags = per_run("tags", "t.key, t.value")
    finally:
        connection.close()
    return RunTables(
        runs=_runs_frame(runs),
        metrics=_metrics_frame(metrics),
        params=_coded_frame(params),
        tags=_coded_frame(tags),
    )


def _coded_frame(table) -> pd.DataFrame:  # table: pyarrow.Table
    """A pandas frame whose run_id and key columns are categorical (dictionary-encoded)."""
    import pyarrow.compute as pc

    for name in ("run_id", "key"):
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pc.dictionary_encode(table[name]))
    frame = table.to_pandas()
    if "value" in frame and frame["value"].dtype != np.float64:
        frame["value"] = frame["value"].astype(object).where(frame["value"].notna(), None)
    return frame


def _metrics_frame(table) -> pd.DataFrame:  # table: pyarrow.Table
    """Latest metrics with NaN restored from ``is_nan`` (±inf stays ±max-float, as in MLflow)."""
    frame = _coded_frame(table.drop_columns(["is_nan"]))
    values = frame["value"].to_numpy(dtype=np.float64, copy=True)
    values[table["is_nan"].to_numpy(zero_copy_only=False).astype(bool)] = np.nan
    frame["value"] = values
    for name in ("step", "timestamp"):
        frame[name] = frame[name].astype("Int64")
    return frame


def _runs_frame(table) -> pd.DataFrame:  # table: pyarrow.Table
    """The runs table with the column types every backend uses (see core.run_tables)."""
    frame = table.to_pandas()
    for name in ("run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage"):
        column = frame[name].astype(object)
        frame[name] = column.where(column.notna(), None)
    frame["experiment_id"] = frame["experiment_id"].astype(str).astype(object)
    for name in ("start_time", "end_time"):
        frame[name] = frame[name].astype("Int64")
    return frame
