"""Experiments of an MLflow database as records (two queries: experiments and their tags)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from flowdeck.store.base import EXPERIMENT_COLUMNS
from flowdeck.store.experiment_frame import experiment_sort_key
from flowdeck.store.sql.schema import SqlSchema, table_of

DEFAULT_WORKSPACE = "default"


def read_experiment_records(engine: Engine, schema: SqlSchema, view: str) -> list[dict[str, Any]]:
    """Experiments in the lifecycle view (keys ``EXPERIMENT_COLUMNS``), ordered by experiment id."""
    optional = [
        name
        for name in ("creation_time", "last_update_time", "workspace")
        if schema.has_column("experiments", name)
    ]
    experiments = table_of(
        "experiments", "experiment_id", "name", "artifact_location", "lifecycle_stage", *optional
    )
    query = select(
        *(experiments.c[name] for name in EXPERIMENT_COLUMNS[:4]),
        *(experiments.c[name] for name in optional if name != "workspace"),
    ).order_by(experiments.c.experiment_id)
    if view == "active":
        query = query.where(experiments.c.lifecycle_stage == "active")
    elif view == "deleted":
        query = query.where(experiments.c.lifecycle_stage == "deleted")
    if "workspace" in optional:
        query = query.where(experiments.c.workspace == DEFAULT_WORKSPACE)

    tags_table = table_of("experiment_tags", "experiment_id", "key", "value")
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
        tag_rows = connection.execute(
            select(tags_table.c.experiment_id, tags_table.c.key, tags_table.c.value)
        ).all()

    tags: dict[str, dict[str, str]] = {}
    for experiment_id, key, value in tag_rows:
        tags.setdefault(str(experiment_id), {})[key] = value
    records = []
    for row in rows:
        experiment_id = str(row["experiment_id"])
        records.append(
            {
                "experiment_id": experiment_id,
                "name": row["name"],
                "artifact_location": row["artifact_location"],
                "lifecycle_stage": row["lifecycle_stage"],
                "creation_time": row.get("creation_time"),
                "last_update_time": row.get("last_update_time"),
                "tags": tags.get(experiment_id, {}),
            }
        )
    records.sort(key=lambda record: experiment_sort_key(record["experiment_id"]))
    return records
