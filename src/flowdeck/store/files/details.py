"""Per-run extras of an mlruns/ store: dataset inputs, model outputs and logged models."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from flowdeck.core.entities import DatasetInput, LoggedModel, LoggedModelMetric, ModelOutput
from flowdeck.store.files.experiments import ExperimentFolder
from flowdeck.store.files.fsread import read_bytes, read_text_folder
from flowdeck.store.files.meta import MetaError, parse_meta

LOGGED_MODEL_STATUS = {0: "UNSPECIFIED", 1: "PENDING", 2: "READY", 3: "FAILED"}


def _meta_or_none(folder: str) -> dict[str, Any] | None:
    try:
        return parse_meta(read_bytes(os.path.join(folder, "meta.yaml")))
    except (OSError, MetaError):
        return None


def _subfolders(folder: str) -> list[os.DirEntry[str]]:
    try:
        return sorted((e for e in os.scandir(folder) if e.is_dir()), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []


def dataset_metas(experiment: ExperimentFolder) -> dict[str, dict[str, Any]]:
    """dataset_id -> meta of every dataset folder of the experiment."""
    found = {}
    for entry in _subfolders(os.path.join(experiment.folder, "datasets")):
        meta = _meta_or_none(entry.path)
        if meta is not None:
            found[entry.name] = meta
    return found


def dataset_lookup(experiment: ExperimentFolder) -> dict[tuple[str, str], tuple[str, str]]:
    """(experiment_id, dataset_id) -> (name, digest) for ``finish_records``."""
    return {
        (experiment.experiment_id, dataset_id): (
            str(meta.get("name", "")),
            str(meta.get("digest", "")),
        )
        for dataset_id, meta in dataset_metas(experiment).items()
    }


def run_inputs(
    run_folder: str, experiment: ExperimentFolder
) -> tuple[list[DatasetInput], list[str]]:
    """Dataset inputs (with their dataset's fields) and model-input ids of one run."""
    entries = _subfolders(os.path.join(run_folder, "inputs"))
    if not entries:
        return [], []
    datasets = dataset_metas(experiment)
    inputs: list[DatasetInput] = []
    model_inputs: list[str] = []
    for entry in entries:
        meta = _meta_or_none(entry.path)
        if meta is None:
            continue
        source_id = str(meta.get("source_id", ""))
        if meta.get("source_type") == "MODEL":
            model_inputs.append(source_id)
            continue
        dataset = datasets.get(source_id)
        if meta.get("source_type") != "DATASET" or dataset is None:
            continue
        tags = meta.get("tags") if isinstance(meta.get("tags"), dict) else {}
        inputs.append(
            DatasetInput(
                name=str(dataset.get("name", "")),
                digest=str(dataset.get("digest", "")),
                source_type=_text(dataset.get("source_type")),
                source=_text(dataset.get("source")),
                schema=_text(dataset.get("schema")),
                profile=_text(dataset.get("profile")),
                tags={str(k): str(v) for k, v in tags.items()},
            )
        )
    return inputs, model_inputs


def run_outputs(run_folder: str) -> list[ModelOutput]:
    """Logged-model outputs of one run (``outputs/<model_id>/meta.yaml``)."""
    outputs = []
    for entry in _subfolders(os.path.join(run_folder, "outputs")):
        meta = _meta_or_none(entry.path)
        if meta is None or meta.get("destination_type") != "MODEL_OUTPUT":
            continue
        outputs.append(
            ModelOutput(
                model_id=str(meta.get("destination_id", entry.name)),
                step=int(meta.get("step") or 0),
            )
        )
    return outputs


def logged_models(
    experiment: ExperimentFolder, note_problem: Callable[[str, str], None]
) -> list[LoggedModel]:
    """Logged models (MLflow 3) under ``<experiment>/models/``, deleted ones too, newest first."""
    models = []
    for entry in _subfolders(os.path.join(experiment.folder, "models")):
        model = logged_model(entry.path, experiment, note_problem)
        if model is not None:
            models.append(model)
    models.sort(key=lambda m: (-(m.creation_time or 0), m.model_id))
    return models


def logged_model(
    folder: str, experiment: ExperimentFolder, note_problem: Callable[[str, str], None]
) -> LoggedModel | None:
    """The model in ``<experiment>/models/<model_id>``; None (and a problem) when damaged."""
    name = os.path.basename(folder)
    meta = _meta_or_none(folder)
    if meta is None:
        note_problem(
            f"model:{folder}",
            f"Logged model {name} in experiment {experiment.experiment_id}: "
            "meta.yaml is missing or damaged; skipped.",
        )
        return None
    status = meta.get("status")
    return LoggedModel(
        model_id=str(meta.get("model_id", name)),
        experiment_id=experiment.experiment_id,
        name=str(meta.get("name", "")),
        artifact_location=_text(meta.get("artifact_location")),
        creation_time=_int(meta.get("creation_timestamp")),
        last_updated_time=_int(meta.get("last_updated_timestamp")),
        status=LOGGED_MODEL_STATUS.get(status, str(status))
        if isinstance(status, int)
        else str(status or "UNSPECIFIED"),
        model_type=_text(meta.get("model_type")),
        source_run_id=_text(meta.get("source_run_id")),
        status_message=_text(meta.get("status_message")),
        lifecycle_stage=str(meta.get("lifecycle_stage") or "active"),
        params=read_text_folder(os.path.join(folder, "params")),
        tags=read_text_folder(os.path.join(folder, "tags")),
        metrics=model_metrics(folder, lambda text: note_problem(f"model-metrics:{folder}", text)),
    )


def model_metrics(
    folder: str, note_problem: Callable[[str], None]
) -> tuple[LoggedModelMetric, ...]:
    """A model's metrics as MLflow's FileStore reports them: per metric file
    (``metrics/<key>``, lines ``timestamp value step run_id [dataset_name dataset_digest]``),
    the highest (step, timestamp, value) line of each dataset, datasets in the order the
    file first names them (MLflow's FileStore filters on the first)."""
    found: list[LoggedModelMetric] = []
    bad = 0
    for key, content in read_text_folder(os.path.join(folder, "metrics")).items():
        latest: dict[tuple[str | None, str | None], LoggedModelMetric] = {}
        for line in content.splitlines():
            metric = _metric_line(key, line)
            if metric is None:
                bad += bool(line.strip())
                continue
            group = (metric.dataset_name, metric.dataset_digest)
            held = latest.get(group)
            if held is None or _rank(metric) > _rank(held):
                latest[group] = metric
        found.extend(latest.values())
    if bad:
        note_problem(
            f"Logged model {os.path.basename(folder)}: {bad} unreadable metric line(s); ignored."
        )
    return tuple(sorted(found, key=lambda metric: metric.key))


def _metric_line(key: str, line: str) -> LoggedModelMetric | None:
    parts = line.strip().split(" ")
    if len(parts) not in (4, 6):
        return None
    try:
        timestamp, value, step = int(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        return None
    return LoggedModelMetric(
        key=key,
        value=value,
        step=step,
        timestamp=timestamp,
        dataset_name=parts[4] if len(parts) == 6 else None,
        dataset_digest=parts[5] if len(parts) == 6 else None,
        run_id=parts[3],
    )


def _rank(metric: LoggedModelMetric) -> tuple[int, int, float]:
    return (metric.step, metric.timestamp or 0, metric.value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None
