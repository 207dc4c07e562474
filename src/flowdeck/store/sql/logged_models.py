"""Logged models (MLflow 3) of some experiments, with their params and tags."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine

from flowdeck.core.entities import LoggedModel
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


def read_logged_models(
    engine: Engine, schema: SqlSchema, experiment_ids: Sequence[str]
) -> list[LoggedModel]:
    """Every logged model of the experiments (deleted ones too), newest first."""
    if not schema.has_table("logged_models") or not experiment_ids:
        return []
    ids = [int(experiment_id) for experiment_id in experiment_ids]
    present = [name for name in MODEL_COLUMNS if schema.has_column("logged_models", name)]
    models = table_of("logged_models", *present)
    query = select(*models.c).where(models.c.experiment_id.in_(bindparam("ids", expanding=True)))
    with engine.connect() as connection:
        rows = connection.execute(query, {"ids": ids}).mappings().all()
        params = _key_values(connection, schema, "logged_model_params", "param", ids)
        tags = _key_values(connection, schema, "logged_model_tags", "tag", ids)
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


def _key_values(
    connection, schema: SqlSchema, table_name: str, prefix: str, ids: list[int]
) -> dict[str, dict[str, str]]:
    if not schema.has_table(table_name):
        return {}
    rows = table_of(table_name, "model_id", "experiment_id", f"{prefix}_key", f"{prefix}_value")
    query = select(rows.c.model_id, rows.c[f"{prefix}_key"], rows.c[f"{prefix}_value"]).where(
        rows.c.experiment_id.in_(bindparam("ids", expanding=True))
    )
    found: dict[str, dict[str, str]] = {}
    for model_id, key, value in connection.execute(query, {"ids": ids}):
        found.setdefault(model_id, {})[key] = value
    return found
