"""Logged models (MLflow 3) on a tracking server: search, get, and their artifact routes."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import quote

import requests

from flowdeck.core.entities import ArtifactEntry, LoggedModel, LoggedModelMetric
from flowdeck.core.errors import CorruptStore, NotFound
from flowdeck.core.logged_model_filter import (
    metric_sort_key,
    parse_logged_model_filter,
    server_order_by,
)
from flowdeck.core.task_state import TaskState
from flowdeck.store import artifacts as shared
from flowdeck.store.rest.client import EndpointMissing, RestClient
from flowdeck.store.rest.runs import key_values

LOGGED_MODELS_PAGE = 1000
STATUS_PREFIX = "LOGGED_MODEL_"
#: The proto enum names whose Flowdeck (and MLflow entity) name is not just the suffix.
PROTO_STATUSES = {
    "LOGGED_MODEL_UPLOAD_FAILED": "FAILED",
    "LOGGED_MODEL_STATUS_UNSPECIFIED": "UNSPECIFIED",
}


def logged_model(item: dict[str, Any]) -> LoggedModel:
    """A ``LoggedModel`` from the REST ``{info, data}`` object."""
    info = item.get("info") or item
    data = item.get("data") or {}
    status = str(info.get("status") or "UNSPECIFIED")
    status = PROTO_STATUSES.get(status, status.removeprefix(STATUS_PREFIX))
    return LoggedModel(
        model_id=info["model_id"],
        experiment_id=str(info.get("experiment_id", "")),
        name=info.get("name", ""),
        artifact_location=info.get("artifact_uri") or info.get("artifact_location"),
        creation_time=_int(info.get("creation_timestamp_ms")),
        last_updated_time=_int(info.get("last_updated_timestamp_ms")),
        status=status,
        model_type=info.get("model_type") or None,
        source_run_id=info.get("source_run_id") or None,
        status_message=info.get("status_message") or None,
        lifecycle_stage=info.get("lifecycle_stage") or "active",
        params=key_values(data.get("params") or info.get("params")),
        tags=key_values(info.get("tags")),
        metrics=tuple(sorted(map(_metric, data.get("metrics") or ()), key=metric_sort_key)),
    )


def _metric(item: Mapping[str, Any]) -> LoggedModelMetric:
    value = item.get("value")
    return LoggedModelMetric(
        key=str(item.get("key", "")),
        value=math.nan if value is None else float(value),  # "NaN", "Infinity" included
        step=_int(item.get("step")) or 0,
        timestamp=_int(item.get("timestamp")),
        dataset_name=item.get("dataset_name") or None,
        dataset_digest=item.get("dataset_digest") or None,
        run_id=item.get("run_id") or None,
    )


def _int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


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
        models.extend(logged_model(item) for item in page)
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
    return logged_model(data.get("model") or {})


def list_model_artifacts(client: RestClient, model_id: str, relative: str) -> list[ArtifactEntry]:
    """Direct children of ``relative`` (already clean) through ``artifacts/directories``."""
    params = {"artifact_directory_path": relative} if relative else {}
    entries = []
    pages = client.iter_pages(
        "GET", f"{_model_path(model_id)}/artifacts/directories", params, "files"
    )
    for page in pages:
        for item in page:
            name = str(item.get("path", ""))
            try:
                if "\\" in name or "\0" in name:
                    raise ValueError(name)
                clean = shared.clean_relative(name)
            except (ValueError, NotFound):
                raise CorruptStore(
                    f"The server listed an artifact named '{name}', which points outside the "
                    f"artifacts of logged model {model_id}."
                ) from None
            if not clean or clean == relative:
                continue
            size = item.get("file_size")
            entries.append(
                ArtifactEntry(
                    path=clean,
                    is_dir=bool(item.get("is_dir", False)),
                    file_size=None if size is None else int(size),
                )
            )
    return shared.sort_entries(entries)


def open_model_file(
    client: RestClient, model_id: str, relative: str
) -> AbstractContextManager[requests.Response]:
    """A streamed response with one artifact file (the server's ``artifacts/files`` route,
    which reads proxied ``mlflow-artifacts:/`` and direct locations alike)."""
    url = f"{client.base_url}/ajax-api/2.0/mlflow/{_model_path(model_id)}/artifacts/files"
    return client.request("GET", url, params={"artifact_file_path": relative}, stream=True)
