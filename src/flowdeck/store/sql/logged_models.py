"""Logged models (MLflow 3) of some experiments, with their params, tags and metrics."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.expression import TableClause

from flowdeck.core.entities import LoggedModel, LoggedModelMetric
from flowdeck.core.errors import NotFound
from flowdeck.core.logged_model_filter import metric_sort_key
from flowdeck.store.sql.schema import SqlSchema, table_of

STATUS_NAMES = {0: "UNSPECIFIED", 1: "PENDING", 2: "READY", 3: "FAILED"}
MODEL_COLUMNS = (
    "model_id",
    "experiment_id",
    "name",
    "artifact_location",
    "creation_timestamp_ms",
    "last_updated_timestamp_ms",
    "status",
    "lifecycle_stage",
    "model_type",
    "source_run_id",
    "status_message",
)
METRIC_COLUMNS = (
    "model_id",
    "experiment_id",
    "metric_name",
    "metric_value",
    "metric_step",
    "metric_timestamp_ms",
    "run_id",
    "dataset_name",
    "dataset_digest",
)


def read_logged_models(
    engine: Engine, schema: SqlSchema, experiment_ids: Sequence[str]
) -> list[LoggedModel]:
    """Every active logged model of the experiments, newest first (one query per table)."""
    if not schema.has_table("logged_models") or not experiment_ids:
        return []
    ids = [int(experiment_id) for experiment_id in experiment_ids]
    return _read(engine, schema, "experiment_id", ids)


def read_logged_model(engine: Engine, schema: SqlSchema, model_id: str) -> LoggedModel:
    """One active logged model; ``NotFound`` when there is none with that id."""
    found = _read(engine, schema, "model_id", [str(model_id)])
    if not schema.has_table("logged_models") or not found:
        raise NotFound(f"There is no logged model with ID {model_id}.")
    return found[0]


def _read(engine: Engine, schema: SqlSchema, column: str, values: list[Any]) -> list[LoggedModel]:
    if not schema.has_table("logged_models"):
        return []
    models = schema.present_table("logged_models", *MODEL_COLUMNS)
    query = select(*models.c).where(models.c[column].in_(bindparam("values", expanding=True)))
    if schema.has_column("logged_models", "lifecycle_stage"):
        stage = models.c.lifecycle_stage
        query = query.where(or_(stage.is_(None), stage != "deleted"))
    with engine.connect() as connection:
        rows = connection.execute(query, {"values": values}).mappings().all()
        if not rows:
            return []
        params = _key_values(connection, schema, "logged_model_params", "param", column, values)
        tags = _key_values(connection, schema, "logged_model_tags", "tag", column, values)
        metrics = _metrics(connection, schema, column, values)
    found = [
        LoggedModel(
            model_id=row["model_id"],
            experiment_id=str(row["experiment_id"]),
            name=row.get("name") or "",
            artifact_location=row.get("artifact_location"),
            creation_time=row.get("creation_timestamp_ms"),
            last_updated_time=row.get("last_updated_timestamp_ms"),
            status=_status_name(row.get("status")),
            model_type=row.get("model_type"),
            source_run_id=row.get("source_run_id"),
            status_message=row.get("status_message"),
            lifecycle_stage=row.get("lifecycle_stage") or "active",
            params=params.get(row["model_id"], {}),
            tags=tags.get(row["model_id"], {}),
            metrics=tuple(metrics.get(row["model_id"], ())),
        )
        for row in rows
    ]
    return sorted(found, key=lambda model: (-(model.creation_time or 0), model.model_id))


def _status_name(status: object) -> str:
    if status is None:
        return "UNSPECIFIED"
    if isinstance(status, str) and not status.isdigit():
        return status
    return STATUS_NAMES.get(int(status), str(status))  # type: ignore[arg-type]


def _where(rows: TableClause, column: str) -> Any:
    return rows.c[column].in_(bindparam("values", expanding=True))


def _key_values(
    connection: Connection,
    schema: SqlSchema,
    table_name: str,
    prefix: str,
    column: str,
    values: list[Any],
) -> dict[str, dict[str, str]]:
    if not schema.has_table(table_name):
        return {}
    rows = table_of(table_name, "model_id", "experiment_id", f"{prefix}_key", f"{prefix}_value")
    query = select(rows.c.model_id, rows.c[f"{prefix}_key"], rows.c[f"{prefix}_value"]).where(
        _where(rows, column)
    )
    found: dict[str, dict[str, str]] = {}
    for model_id, key, value in connection.execute(query, {"values": values}):
        found.setdefault(model_id, {})[key] = value
    return found


def _metrics(
    connection: Connection, schema: SqlSchema, column: str, values: list[Any]
) -> dict[str, list[LoggedModelMetric]]:
    """Every row of ``logged_model_metrics`` (each step, run and dataset), per model."""
    if not schema.has_table("logged_model_metrics"):
        return {}
    rows = schema.present_table("logged_model_metrics", *METRIC_COLUMNS)
    query = select(*rows.c).where(_where(rows, column))
    found: dict[str, list[LoggedModelMetric]] = {}
    for row in connection.execute(query, {"values": values}).mappings():
        value = row.get("metric_value")
        found.setdefault(row["model_id"], []).append(
            LoggedModelMetric(
                key=row["metric_name"],
                value=math.nan if value is None else float(value),
                step=int(row.get("metric_step") or 0),
                timestamp=row.get("metric_timestamp_ms"),
                dataset_name=row.get("dataset_name"),
                dataset_digest=row.get("dataset_digest"),
                run_id=row.get("run_id"),
            )
        )
    for metrics in found.values():
        metrics.sort(key=metric_sort_key)
    return found
