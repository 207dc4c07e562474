"""Logged models (MLflow 3) of experiments, searched page by page on a tracking server."""

from __future__ import annotations

from typing import Any

from flowdeck.core.entities import LoggedModel
from flowdeck.store.rest.client import RestClient
from flowdeck.store.rest.runs import key_values

LOGGED_MODELS_PAGE = 1000
STATUS_PREFIX = "LOGGED_MODEL_"


def logged_model(item: dict[str, Any]) -> LoggedModel:
    """A ``LoggedModel`` from the REST ``{info, data}`` object."""
    info = item.get("info") or item
    status = str(info.get("status") or "UNSPECIFIED")
    if status.startswith(STATUS_PREFIX):
        status = status[len(STATUS_PREFIX) :]
    return LoggedModel(
        model_id=info["model_id"],
        experiment_id=str(info.get("experiment_id", "")),
        name=info.get("name", ""),
        artifact_location=info.get("artifact_uri") or info.get("artifact_location"),
        creation_time=info.get("creation_timestamp_ms"),
        last_updated_time=info.get("last_updated_timestamp_ms"),
        status=status,
        model_type=info.get("model_type") or None,
        source_run_id=info.get("source_run_id") or None,
        status_message=info.get("status_message") or None,
        lifecycle_stage=info.get("lifecycle_stage") or "active",
        params=key_values(info.get("params")),
        tags=key_values(info.get("tags")),
    )


def search_logged_models(client: RestClient, experiment_ids: list[str]) -> list[LoggedModel]:
    """Every logged model of the experiments, in the server's order (newest first)."""
    if not experiment_ids:
        return []
    body = {"experiment_ids": [str(e) for e in experiment_ids], "max_results": LOGGED_MODELS_PAGE}
    models = []
    for page in client.iter_pages("POST", "logged-models/search", body, "models"):
        models.extend(logged_model(item) for item in page)
    return models
