"""One run in full: info, params, latest metrics, tags, dataset inputs and model links."""

from __future__ import annotations

import math

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection, Engine

from flowdeck.core.entities import DatasetInput, Metric, ModelOutput, RunDetail, RunInfo
from flowdeck.core.errors import CorruptStore, NotFound
from flowdeck.store.sql.cells import NoteProblem, as_float, as_int, is_damaged
from flowdeck.store.sql.history import STORED_INFINITY
from flowdeck.store.sql.schema import SqlSchema, table_of

RUN_COLUMNS = (
    "run_uuid",
    "experiment_id",
    "name",
    "status",
    "start_time",
    "end_time",
    "lifecycle_stage",
    "artifact_uri",
    "user_id",
)
# Columns without which a runs table is not MLflow's.
REQUIRED_RUN_COLUMNS = ("run_uuid", "experiment_id", "status")


def read_run(
    engine: Engine,
    schema: SqlSchema,
    run_id: str,
    note_problem: NoteProblem | None = None,
) -> RunDetail:
    """The run's detail; raises ``NotFound`` for an unknown id, ``CorruptStore`` for a runs
    table without MLflow's columns. Damaged numbers are None / NaN, told to ``note_problem``."""
    note = note_problem or (lambda _where, _text: None)
    with engine.connect() as connection:
        info = _run_info(connection, schema, run_id, note)
        params = _key_values(connection, "params", run_id)
        tags = _key_values(connection, "tags", run_id)
        metrics = _latest_metrics(connection, run_id, note)
        datasets = _datasets(connection, schema, run_id)
        model_inputs, outputs = _model_links(connection, schema, run_id)
    if not info.run_name and "mlflow.runName" in tags:
        info = RunInfo(**{**info.__dict__, "run_name": tags["mlflow.runName"]})
    return RunDetail(
        info=info,
        params=params,
        metrics=metrics,
        tags=tags,
        inputs=datasets,
        model_inputs=model_inputs,
        outputs=outputs,
    )


def _run_info(connection: Connection, schema: SqlSchema, run_id: str, note: NoteProblem) -> RunInfo:
    missing = [name for name in REQUIRED_RUN_COLUMNS if not schema.has_column("runs", name)]
    if missing:
        raise CorruptStore(
            f"The runs table has no {', '.join(missing)} column: the database is damaged or "
            "not an MLflow tracking database."
        )
    present = [name for name in RUN_COLUMNS if schema.has_column("runs", name)]
    runs = table_of("runs", *present)
    row = connection.execute(select(*runs.c).where(runs.c.run_uuid == run_id)).mappings().first()
    if row is None:
        raise NotFound(f"Run {run_id} does not exist in this store.")
    times = {name: row.get(name) for name in ("start_time", "end_time")}
    for name, value in times.items():
        times[name] = as_int(value)
        if is_damaged(value):
            note(f"run:{run_id}:{name}", f"Run {run_id[:8]}…: its {name} is text; not shown.")
    return RunInfo(
        run_id=row["run_uuid"],
        experiment_id=str(row["experiment_id"]),
        run_name=row.get("name") or "",
        status=row["status"] or "RUNNING",
        start_time=times["start_time"],
        end_time=times["end_time"],
        lifecycle_stage=row.get("lifecycle_stage") or "active",
        artifact_uri=row.get("artifact_uri"),
        user_id=row.get("user_id"),
    )


def _key_values(connection: Connection, table_name: str, run_id: str) -> dict[str, str]:
    rows = table_of(table_name, "run_uuid", "key", "value")
    query = select(rows.c.key, rows.c.value).where(rows.c.run_uuid == run_id)
    return {key: value for key, value in connection.execute(query)}


def _latest_metrics(connection: Connection, run_id: str, note: NoteProblem) -> dict[str, Metric]:
    latest = table_of("latest_metrics", "run_uuid", "key", "value", "timestamp", "step", "is_nan")
    query = select(
        latest.c.key, latest.c.value, latest.c.timestamp, latest.c.step, latest.c.is_nan
    ).where(latest.c.run_uuid == run_id)
    metrics = {}
    for key, value, timestamp, step, is_nan in connection.execute(query):
        where = f"latest:{run_id}:{key}"
        if as_int(timestamp) is None or as_int(step) is None:
            note(
                where, f"Run {run_id[:8]}…: metric '{key}' has no readable step or time; left out."
            )
            continue
        if not is_nan and is_damaged(value):
            note(
                where,
                f"Run {run_id[:8]}…: the latest value of metric '{key}' is text; shown as missing.",
            )
        metrics[key] = Metric(
            key=key,
            value=restore_value(value, is_nan),
            timestamp=as_int(timestamp),  # type: ignore[arg-type] - checked above
            step=as_int(step),  # type: ignore[arg-type]
        )
    return dict(sorted(metrics.items()))


def restore_value(value: object, is_nan: object) -> float:
    """A stored metric value as logged: NaN when flagged (or damaged), ±inf for ±DBL_MAX."""
    if is_nan:
        return math.nan
    value = as_float(value)
    if value is None:
        return math.nan
    if value >= STORED_INFINITY:
        return math.inf
    if value <= -STORED_INFINITY:
        return -math.inf
    return value


def _datasets(connection: Connection, schema: SqlSchema, run_id: str) -> list[DatasetInput]:
    if not (schema.has_table("datasets") and schema.has_table("inputs")):
        return []
    datasets = table_of(
        "datasets",
        "dataset_uuid",
        "name",
        "digest",
        "dataset_source_type",
        "dataset_source",
        "dataset_schema",
        "dataset_profile",
    )
    inputs = table_of(
        "inputs", "input_uuid", "source_type", "source_id", "destination_type", "destination_id"
    )
    query = (
        select(inputs.c.input_uuid, *(datasets.c[name] for name in datasets.c.keys()[1:]))
        .select_from(inputs.join(datasets, datasets.c.dataset_uuid == inputs.c.source_id))
        .where(
            and_(
                inputs.c.source_type == "DATASET",
                inputs.c.destination_type == "RUN",
                inputs.c.destination_id == run_id,
            )
        )
    )
    rows = connection.execute(query).all()
    tags_by_input = _input_tags(connection, schema, [row[0] for row in rows])
    found = [
        DatasetInput(
            name=name,
            digest=digest,
            source_type=source_type,
            source=source,
            schema=dataset_schema,
            profile=profile,
            tags=tags_by_input.get(input_uuid, {}),
        )
        for input_uuid, name, digest, source_type, source, dataset_schema, profile in rows
    ]
    return sorted(found, key=lambda dataset: (dataset.name, dataset.digest))


def _input_tags(
    connection: Connection, schema: SqlSchema, input_ids: list[str]
) -> dict[str, dict[str, str]]:
    if not input_ids or not schema.has_table("input_tags"):
        return {}
    tags = table_of("input_tags", "input_uuid", "name", "value")
    query = select(tags.c.input_uuid, tags.c.name, tags.c.value).where(
        tags.c.input_uuid.in_(input_ids)
    )
    found: dict[str, dict[str, str]] = {}
    for input_uuid, name, value in connection.execute(query):
        found.setdefault(input_uuid, {})[name] = value
    return found


def _model_links(
    connection: Connection, schema: SqlSchema, run_id: str
) -> tuple[list[str], list[ModelOutput]]:
    if not schema.has_table("inputs"):
        return [], []
    has_step = schema.has_column("inputs", "step")
    inputs = table_of(
        "inputs",
        "source_type",
        "source_id",
        "destination_type",
        "destination_id",
        *(("step",) if has_step else ()),
    )
    step = inputs.c.step if has_step else None
    columns = [inputs.c.source_type, inputs.c.destination_id] + ([step] if has_step else [])
    query = select(*columns).where(
        and_(
            inputs.c.source_id == run_id,
            inputs.c.source_type.in_(("RUN_OUTPUT", "RUN_INPUT")),
        )
    )
    model_inputs: list[str] = []
    outputs: list[ModelOutput] = []
    for row in connection.execute(query):
        if row[0] == "RUN_OUTPUT":
            outputs.append(ModelOutput(model_id=row[1], step=int(row[2] or 0) if has_step else 0))
        else:
            model_inputs.append(row[1])
    outputs.sort(key=lambda output: (output.step, output.model_id))
    return sorted(model_inputs), outputs
