"""Logged-model artifacts on every backend: local roots in place, remote ones into the cache."""

# A logged model's artifacts live below its ``artifact_location``, laid out like a run's
# artifact root. Local folders are listed and returned in place (never modified); cloud
# locations are read through MLflow's artifact repositories and a tracking server's through
# its ``logged-models/<id>/artifacts`` routes, both downloaded only into
# ``artifacts.cache_dir(model_cache_key(...))`` with the rules of ``artifact_fetch``.

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from flowdeck.core.entities import ArtifactEntry, LoggedModel
from flowdeck.core.errors import NotFound, Unsupported
from flowdeck.store import artifacts

if TYPE_CHECKING:
    from flowdeck.core.task_state import TaskState
    from flowdeck.store.artifact_fetch import Download, Lister

#: Statuses of a model that may still get artifacts (its cache stamp stays ``active``).
OPEN_STATUSES = frozenset({"PENDING", "UNSPECIFIED"})


def model_stamp(model: LoggedModel) -> str:
    """The cache stamp of a model: its last update once finalized, ``active`` before."""
    from flowdeck.store.artifact_fetch import ACTIVE_STAMP

    if model.status in OPEN_STATUSES or not model.last_updated_time:
        return ACTIVE_STAMP
    return str(int(model.last_updated_time))


def model_cache_key(store_key: str, model_id: str) -> str:
    """The cache key of one model's downloads (never the same as a run's)."""
    return f"{store_key}\0logged-model\0{model_id}"


def clean_model_path(model_id: str, path: str) -> str:
    """``artifacts.clean_relative`` with a message that names the model."""
    try:
        return artifacts.clean_relative(path)
    except NotFound:
        raise NotFound(
            f"'{path}' is not a path inside the artifacts of logged model {model_id}."
        ) from None


def missing(model_id: str, relative: str) -> NotFound:
    return NotFound(f"There is no artifact '{relative or '.'}' in logged model {model_id}.")


def artifact_root(model: LoggedModel, moved_folder: str | None = None) -> str | None:
    """The model's artifact location; a moved store's stale local path falls back to
    ``moved_folder`` (the ``artifacts`` folder beside the model's ``meta.yaml``)."""
    uri = model.artifact_location
    local = artifacts.local_root(uri)
    if local is not None and not local.exists() and moved_folder and os.path.isdir(moved_folder):
        return moved_folder
    return uri


def _remote_uri(model: LoggedModel, uri: str | None) -> str:
    if not uri:
        raise NotFound(f"Logged model {model.model_id} has no artifact location.")
    if urlparse(uri).scheme.lower() in artifacts.SERVER_SCHEMES:
        raise Unsupported(
            f"The artifacts of logged model {model.model_id} are at {uri}, which only an MLflow "
            "tracking server can serve: open the store through its server address (http://...) "
            "to see them."
        )
    return uri


def list_model_artifacts(
    model: LoggedModel,
    path: str = "",
    *,
    base_dir: Path | None = None,
    moved_folder: str | None = None,
) -> list[ArtifactEntry]:
    """Direct children of ``path`` in the model's artifacts: folders first, then files."""
    relative = clean_model_path(model.model_id, path)
    uri = artifact_root(model, moved_folder)
    root = artifacts.local_root(uri, base_dir)
    if root is not None:
        if relative and root.is_dir() and not (root / relative).exists():
            raise missing(model.model_id, relative)
        return artifacts.list_local(root, relative)
    return artifacts.list_artifacts(_remote_uri(model, uri), relative)


def fetch_model_artifact(
    model: LoggedModel,
    path: str,
    *,
    store_key: str,
    base_dir: Path | None = None,
    moved_folder: str | None = None,
    state: TaskState | None = None,
) -> Path:
    """A local file or folder with the artifact: in place when local, else a cached download."""
    relative = clean_model_path(model.model_id, path)
    uri = artifact_root(model, moved_folder)
    root = artifacts.local_root(uri, base_dir)
    if root is not None:
        target = root / relative if relative else root
        if not target.exists():
            raise missing(model.model_id, relative)
        return target
    return artifacts.fetch(
        _remote_uri(model, uri),
        relative,
        cache_key=model_cache_key(store_key, model.model_id),
        stamp=model_stamp(model),
        state=state,
    )


def fetch_remote_model(
    model: LoggedModel,
    path: str,
    *,
    store_key: str,
    lister: Lister,
    download: Download,
    state: TaskState | None = None,
) -> Path:
    """Download a file or folder of the model's artifacts through ``lister``/``download``
    (a tracking server's routes) into the model's cache folder."""
    from flowdeck.store import artifact_fetch

    relative = clean_model_path(model.model_id, path)
    folder = artifact_fetch.run_cache(
        artifacts.cache_dir(model_cache_key(store_key, model.model_id)), model_stamp(model)
    )
    try:
        return artifact_fetch.fetch_remote(relative, folder, lister, download, state)
    except NotFound as exc:
        if "in this run" in exc.message:
            raise missing(model.model_id, relative) from None
        raise
