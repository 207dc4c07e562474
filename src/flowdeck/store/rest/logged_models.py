"""Logged models (MLflow 3) on a tracking server: search, get, and their artifact routes."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import quote

import requests

from flowdeck.core.entities import ArtifactEntry, LoggedModel, LoggedModelMetric
from flowdeck.core.errors import NotFound
from flowdeck.core.logged_model_filter import (
    metric_sort_key,
    parse_logged_model_filter,
    server_order_by,
)
from flowdeck.core.task_state import TaskState
from flowdeck.store.rest.artifacts import listed_entries
from flowdeck.store.rest.client import EndpointMissing, RestClient
from flowdeck.store.rest.fields import Fields

LOGGED_MODELS_PAGE = 1000
STATUS_PREFIX = "LOGGED_MODEL_"
#: The proto enum names whose Flowdeck (and MLflow entity) name is not just the suffix.
PROTO_STATUSES = {
    "LOGGED_MODEL_UPLOAD_FAILED": "FAILED",
    "LOGGED_MODEL_STATUS_UNSPECIFIED": "UNSPECIFIED",
}


def logged_model(
    answer: dict[str, Any] | Fields, endpoint: str = "logged-models/search"
) -> LoggedModel:
    """A ``LoggedModel`` from the REST ``{info, data}`` object."""
    item = answer if isinstance(answer, Fields) else Fields(answer, endpoint)
    info = item.obj("info") if item.raw("info") else item
    data = item.obj("data")
    status = info.text("status") or "UNSPECIFIED"
    status = PROTO_STATUSES.get(status, status.removeprefix(STATUS_PREFIX))
    metrics = [_metric(metric) for metric in data.objects("metrics")]
    return LoggedModel(
        model_id=info.required_text("model_id"),
        experiment_id=info.text("experiment_id"),
        name=info.text("name"),
        artifact_location=info.optional_text("artifact_uri")
        or info.optional_text("artifact_location"),
        creation_time=info.integer("creation_timestamp_ms"),
        last_updated_time=info.integer("last_updated_timestamp_ms"),
        status=status,
        model_type=info.optional_text("model_type"),
        source_run_id=info.optional_text("source_run_id"),
        status_message=info.optional_text("status_message"),
        lifecycle_stage=info.optional_text("lifecycle_stage") or "active",
        params=data.key_values("params") or info.key_values("params"),
        tags=info.key_values("tags"),
        metrics=tuple(sorted(metrics, key=metric_sort_key)),
    )


def _metric(item: Fields) -> LoggedModelMetric:
    return LoggedModelMetric(
        key=item.text("key"),
        value=item.number("value"),  # "NaN", "Infinity" included
        step=item.integer("step") or 0,
        timestamp=item.integer("timestamp"),
        dataset_name=item.optional_text("dataset_name"),
        dataset_digest=item.optional_text("dataset_digest"),
        run_id=item.optional_text("run_id"),
    )


def search_logged_models(
    client: RestClient,
    experiment_ids: list[str],
    filter_string: str = "",
    order_by: Sequence[str] = (),
    state: TaskState | None = None,
) -> list[LoggedModel]:
    """Every matching active model, page by page, in the server's (MLflow's) order.

    The filter and order are checked here first, so a bad one fails without a request.
    """
    parse_logged_model_filter(filter_string or "")
    body: dict[str, Any] = {"max_results": LOGGED_MODELS_PAGE}
    if filter_string and filter_string.strip():
        body["filter"] = filter_string
    if order_by:
        body["order_by"] = server_order_by(order_by)
    if not experiment_ids:
        return []
    body["experiment_ids"] = [str(e) for e in experiment_ids]
    models = []
    pages = client.iter_pages(
        "POST", "logged-models/search", body, "models", is_search=True, state=state
    )
    for page in pages:
        for item in page:
            path = f"models[{len(models)}]"
            models.append(logged_model(Fields(item, "logged-models/search", path)))
    return models


def _model_path(model_id: str) -> str:
    return f"logged-models/{quote(str(model_id), safe='')}"


def get_logged_model(client: RestClient, model_id: str) -> LoggedModel:
    """One active model; ``NotFound`` when the server has none with that id."""
    if not str(model_id).strip():
        raise NotFound("There is no logged model with an empty ID.")
    try:
        data = client.get(_model_path(model_id))
    except EndpointMissing:
        raise
    except NotFound as exc:
        raise NotFound(f"There is no logged model with ID {model_id}.", detail=exc.detail) from None
    return logged_model(Fields(data, "logged-models/get").obj("model"))


def list_model_artifacts(client: RestClient, model_id: str, relative: str) -> list[ArtifactEntry]:
    """Direct children of ``relative`` (already clean) through ``artifacts/directories``."""
    params = {"artifact_directory_path": relative} if relative else {}
    pages = client.iter_pages(
        "GET", f"{_model_path(model_id)}/artifacts/directories", params, "files"
    )
    endpoint = "logged-models/artifacts/directories"
    return listed_entries(pages, endpoint, relative, f"the artifacts of logged model {model_id}")


def open_model_file(
    client: RestClient, model_id: str, relative: str
) -> AbstractContextManager[requests.Response]:
    """A streamed response with one artifact file (the server's ``artifacts/files`` route,
    which reads proxied ``mlflow-artifacts:/`` and direct locations alike)."""
    url = f"{client.base_url}/ajax-api/2.0/mlflow/{_model_path(model_id)}/artifacts/files"
    return client.request("GET", url, params={"artifact_file_path": relative}, stream=True)
