"""Per (run, key) metric summaries computed by the database (GROUP BY, no history transfer)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import and_, bindparam, case, false, func, select
from sqlalchemy.engine import Connection, Engine

from flowdeck.core.task_state import TaskState
from flowdeck.store.base import SUMMARY_COLUMNS
from flowdeck.store.progress import Progress
from flowdeck.store.sql.cells import NoteProblem, float_array, is_damaged, nullable_ints
from flowdeck.store.sql.history import STORED_INFINITY
from flowdeck.store.sql.schema import chunks, table_of

RUNS_PER_QUERY = 200
PROGRESS_TEXT = "Summarising metrics…"
_METRIC_COLUMNS = ("run_uuid", "key", "value", "step", "timestamp", "is_nan")


def read_metric_summaries(
    engine: Engine,
    run_ids: Iterable[str],
    keys: Iterable[str] | None,
    state: TaskState | None = None,
    note_problem: NoteProblem | None = None,
) -> pd.DataFrame:
    """last / min / max / step of min and max / count for every logged (run, key) pair.

    ``state`` is checked before each query; progress counts the runs summarised. Points whose
    value is text (a damaged store) are left out of min, max and count, a damaged latest value
    is NaN, and ``note_problem`` hears about both.
    """
    runs = list(dict.fromkeys(str(run_id) for run_id in run_ids))
    key_list = None if keys is None else list(dict.fromkeys(str(key) for key in keys))
    latest_frames, aggregate_frames = [], []
    progress = Progress(state, len(runs), PROGRESS_TEXT)
    progress.check()
    if runs and key_list != []:
        with engine.connect() as connection:
            for run_batch in chunks(runs, RUNS_PER_QUERY):
                latest = _latest(connection, list(run_batch), key_list, note_problem)
                latest_frames.append(latest)
                progress.check()
                aggregates = _aggregates(connection, list(run_batch), key_list, note_problem)
                aggregate_frames.append(aggregates)
                progress.advance(len(run_batch))
    if not latest_frames:
        return _empty()
    latest = pd.concat(latest_frames, ignore_index=True)
    aggregates = pd.concat(aggregate_frames, ignore_index=True)
    frame = latest.merge(aggregates, on=["run_id", "key"], how="outer")
    for name in ("last", "min", "max"):
        frame[name] = _restore_infinity(frame[name].astype(np.float64))
    for name in ("min_step", "max_step"):
        frame[name] = nullable_ints(list(frame[name]))[0]  # a damaged step is <NA>
    frame["count"] = frame["count"].fillna(0).astype(np.int64)
    frame["run_id"] = frame["run_id"].astype(object)
    frame["key"] = frame["key"].astype(object)
    order = {run_id: index for index, run_id in enumerate(runs)}
    frame["_order"] = frame["run_id"].map(order)
    frame = frame.sort_values(["_order", "key"], kind="stable").drop(columns="_order")
    return frame[SUMMARY_COLUMNS].reset_index(drop=True)


def _latest(
    connection: Connection,
    runs: list[str],
    keys: list[str] | None,
    note_problem: NoteProblem | None,
) -> pd.DataFrame:
    latest = table_of("latest_metrics", *_METRIC_COLUMNS)
    query = select(latest.c.run_uuid, latest.c.key, latest.c.value, latest.c.is_nan).where(
        latest.c.run_uuid.in_(bindparam("runs", expanding=True))
    )
    params: dict[str, object] = {"runs": runs}
    if keys is not None:
        query = query.where(latest.c.key.in_(bindparam("keys", expanding=True)))
        params["keys"] = keys
    rows = [
        tuple(row) for row in connection.execute(query, params)
    ]  # Row objects are slow in pandas
    frame = pd.DataFrame(rows, columns=["run_id", "key", "last", "is_nan"])
    if note_problem is not None:
        for run_id, key, value, _is_nan in rows:
            if is_damaged(value):
                note_problem(
                    f"latest:{run_id}:{key}",
                    f"Run {run_id[:8]}…: the latest value of metric '{key}' is text, not a "
                    "number; shown as missing.",
                )
    frame["last"] = float_array(list(frame["last"]))[0]
    frame.loc[frame["is_nan"].astype(bool), "last"] = np.nan
    return frame.drop(columns="is_nan")


def _aggregates(
    connection: Connection,
    runs: list[str],
    keys: list[str] | None,
    note_problem: NoteProblem | None,
) -> pd.DataFrame:
    metrics = table_of("metrics", *_METRIC_COLUMNS)
    number = metrics.c.value
    if connection.dialect.name == "sqlite":  # SQLite keeps text a damaged REAL cell holds
        number = case((func.typeof(metrics.c.value).in_(("integer", "real")), metrics.c.value))
    conditions = [
        metrics.c.run_uuid.in_(bindparam("runs", expanding=True)),
        metrics.c.is_nan == false(),
    ]
    params: dict[str, object] = {"runs": runs}
    if keys is not None:
        conditions.append(metrics.c.key.in_(bindparam("keys", expanding=True)))
        params["keys"] = keys
    grouped = (
        select(
            metrics.c.run_uuid,
            metrics.c.key,
            func.min(number).label("min_value"),
            func.max(number).label("max_value"),
            func.count(number).label("point_count"),
            (func.count() - func.count(number)).label("damaged"),
        )
        .where(*conditions)
        .group_by(metrics.c.run_uuid, metrics.c.key)
        .subquery("grouped")
    )

    def step_of(column_name: str):
        points = metrics.alias("points")
        return (
            select(func.min(points.c.step))
            .where(
                and_(
                    points.c.run_uuid == grouped.c.run_uuid,
                    points.c.key == grouped.c.key,
                    points.c.value == grouped.c[column_name],
                    points.c.is_nan == false(),
                )
            )
            .scalar_subquery()
        )

    query = select(
        grouped.c.run_uuid,
        grouped.c.key,
        grouped.c.min_value,
        grouped.c.max_value,
        step_of("min_value"),
        step_of("max_value"),
        grouped.c.point_count,
        grouped.c.damaged,
    )
    rows = [tuple(row) for row in connection.execute(query, params)]
    frame = pd.DataFrame(
        rows, columns=["run_id", "key", "min", "max", "min_step", "max_step", "count", "damaged"]
    )
    for run_id, key, damaged in zip(frame["run_id"], frame["key"], frame["damaged"], strict=True):
        if damaged and note_problem is not None:
            points = "point holds" if damaged == 1 else "points hold"
            note_problem(
                f"history:{run_id}:{key}",
                f"Run {run_id[:8]}…: {damaged} {points} text where metric '{key}' stores "
                "numbers; left out of its summary.",
            )
    return frame.drop(columns="damaged")


def _restore_infinity(values: pd.Series) -> pd.Series:
    values = values.copy()
    values[values >= STORED_INFINITY] = np.inf
    values[values <= -STORED_INFINITY] = -np.inf
    return values


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_id": pd.Series([], dtype=object),
            "key": pd.Series([], dtype=object),
            "last": pd.Series([], dtype=np.float64),
            "min": pd.Series([], dtype=np.float64),
            "max": pd.Series([], dtype=np.float64),
            "min_step": pd.Series([], dtype="Int64"),
            "max_step": pd.Series([], dtype="Int64"),
            "count": pd.Series([], dtype=np.int64),
        }
    )
