"""Artifact listing and fetching shared by every backend: local in place, remote into the cache.

A run's artifact root may be a plain path, a ``file://`` URI, an ``mlflow-artifacts:/`` URI
(served only by a tracking server: the caller passes a ``lister`` and ``downloader``), or a
cloud URI (``s3://``, ``gs://``, ...) read through MLflow's artifact repositories. Local
artifacts are returned in place and never copied; anything remote is written only below
``cache_dir(cache_key)`` (see ``artifact_fetch`` for the cache rule and the transfers), and
names that would escape it are refused.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from flowdeck.core.entities import ArtifactEntry
from flowdeck.core.errors import CorruptStore, NotFound, StoreUnreachable, Unsupported
from flowdeck.core.task_state import check

if TYPE_CHECKING:
    from flowdeck.core.task_state import TaskState

#: ``lister(relative_dir) -> entries`` with paths relative to the artifact root.
Lister = Callable[[str], list[ArtifactEntry]]
#: ``downloader(relative_file, destination_file)`` writes one file to ``destination_file``.
Downloader = Callable[[str, Path], None]

SERVER_SCHEMES = ("mlflow-artifacts", "http", "https", "runs", "models")


def clean_relative(path: str) -> str:
    """``path`` as a normalised relative POSIX path; ``NotFound`` for absolute or ``..`` parts
    and for backslashes (artifact paths always use ``/``)."""
    text = (path or "").strip()
    if "\\" in text or text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        raise NotFound(f"'{path}' is not a path inside the run's artifacts.")
    parts = [part for part in PurePosixPath(text).parts if part not in ("", ".")]
    if any(part == ".." for part in parts):
        raise NotFound(f"'{path}' is not a path inside the run's artifacts.")
    return "/".join(parts)


def local_root(artifact_uri: str | None, base_dir: Path | None = None) -> Path | None:
    """The folder behind a plain path or ``file://`` URI; None for any other scheme."""
    if not artifact_uri:
        return None
    parsed = urlparse(artifact_uri)
    scheme = parsed.scheme.lower()
    if scheme == "file":
        return Path(unquote(parsed.path))
    if scheme and len(scheme) > 1:
        return None
    path = Path(artifact_uri).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


def cache_dir(cache_key: str) -> Path:
    """Flowdeck's download folder for one store and run (``cache_key`` names both)."""
    from platformdirs import user_cache_dir

    digest = hashlib.sha256(cache_key.encode("utf-8")).hexdigest()[:24]
    return Path(user_cache_dir("flowdeck")) / "artifacts" / digest


def inside(folder: Path, relative: str) -> Path:
    """``folder/relative``, refusing (``CorruptStore``) a name that would land outside folder."""
    parts = PurePosixPath(relative.replace("\\", "/")).parts
    if (
        relative.startswith(("/", "\\"))
        or any(part == ".." for part in parts)
        or (len(relative) > 1 and relative[1] == ":")
    ):
        raise CorruptStore(f"The artifact name '{relative}' points outside the run's artifacts.")
    target = (folder / relative).resolve()
    root = folder.resolve()
    if target != root and root not in target.parents:
        raise CorruptStore(f"The artifact name '{relative}' points outside the run's artifacts.")
    return target


def list_local(root: Path, path: str = "") -> list[ArtifactEntry]:
    """Direct children of ``root/path``: folders first, then files, each by name."""
    relative = clean_relative(path)
    if not root.is_dir():
        return []  # as MLflow: a run that never logged an artifact has no folder yet
    folder = root / relative if relative else root
    if not folder.exists():
        raise NotFound(f"There is no artifact '{relative}' in this run.")
    if not folder.is_dir():
        return []
    entries = []
    with os.scandir(folder) as children:
        for child in children:
            child_path = f"{relative}/{child.name}" if relative else child.name
            is_dir = child.is_dir()
            size = None if is_dir else child.stat().st_size
            entries.append(ArtifactEntry(path=child_path, is_dir=is_dir, file_size=size))
    return sort_entries(entries)


def sort_entries(entries: list[ArtifactEntry]) -> list[ArtifactEntry]:
    """Folders first, then files, each by name."""
    return sorted(entries, key=lambda entry: (not entry.is_dir, entry.path.rsplit("/", 1)[-1]))


def list_artifacts(
    artifact_uri: str | None,
    path: str = "",
    *,
    base_dir: Path | None = None,
    lister: Lister | None = None,
) -> list[ArtifactEntry]:
    """Children of ``path`` under the artifact root, wherever the root lives."""
    relative = clean_relative(path)
    root = local_root(artifact_uri, base_dir)
    if root is not None:
        return list_local(root, relative)
    if lister is None:
        lister = repository_lister(_remote_uri(artifact_uri))
    return sort_entries(lister(relative))


def fetch(
    artifact_uri: str | None,
    path: str,
    *,
    cache_key: str,
    stamp: str = "active",
    base_dir: Path | None = None,
    lister: Lister | None = None,
    downloader: Downloader | None = None,
    state: TaskState | None = None,
) -> Path:
    """A local file or folder with the artifact: in place when local, else a cached download
    below ``cache_dir(cache_key)/stamp`` (``state``: progress, and ``Cancelled`` between files)."""
    from flowdeck.store.artifact_fetch import run_cache

    relative = clean_relative(path)
    check(state)
    root = local_root(artifact_uri, base_dir)
    if root is not None:
        target = root / relative if relative else root
        if not target.exists():
            raise NotFound(f"There is no artifact '{relative or '.'}' in this run.")
        return target
    if lister is None or downloader is None:
        uri = _remote_uri(artifact_uri)
        lister = lister or repository_lister(uri)
        downloader = downloader or repository_downloader(uri)
    folder = run_cache(cache_dir(cache_key), stamp)
    return download_tree(relative, folder, lister, downloader, state=state)


def download_tree(
    relative: str,
    folder: Path,
    lister: Lister,
    downloader: Downloader,
    *,
    state: TaskState | None = None,
) -> Path:
    """Download a file or folder tree into ``folder``; every name is checked to stay inside,
    and files already there with the listed size are kept."""
    from flowdeck.store.artifact_fetch import fetch_remote, whole_file

    return fetch_remote(relative, folder, lister, whole_file(downloader), state)


def _remote_uri(artifact_uri: str | None) -> str:
    if not artifact_uri:
        raise NotFound("This run has no artifact location.")
    scheme = urlparse(artifact_uri).scheme.lower()
    if scheme in SERVER_SCHEMES:
        raise Unsupported(
            f"The artifacts of this run are at {artifact_uri}, which only an MLflow tracking "
            "server can serve: open the store through its server address (http://...) to see them."
        )
    return artifact_uri


def repository_lister(artifact_uri: str) -> Lister:
    """A lister over MLflow's artifact repository for a cloud URI (s3, gs, wasbs, hdfs, ...)."""
    repository = _repository(artifact_uri)

    def list_dir(relative: str) -> list[ArtifactEntry]:
        try:
            infos = repository.list_artifacts(relative or None)
        except Exception as exc:  # cloud SDKs raise many unrelated types
            raise StoreUnreachable(
                f"Listing artifacts at {artifact_uri} failed: {exc}", detail=repr(exc)
            ) from exc
        return [
            ArtifactEntry(path=info.path, is_dir=info.is_dir, file_size=info.file_size)
            for info in infos
        ]

    return list_dir


def repository_downloader(artifact_uri: str) -> Downloader:
    """A downloader over MLflow's artifact repository for a cloud URI."""
    repository = _repository(artifact_uri)

    def download(relative: str, destination: Path) -> None:
        try:
            repository._download_file(relative, str(destination))
        except Exception as exc:  # cloud SDKs raise many unrelated types
            raise StoreUnreachable(
                f"Downloading {relative} from {artifact_uri} failed: {exc}", detail=repr(exc)
            ) from exc

    return download


def _repository(artifact_uri: str):
    try:
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        return get_artifact_repository(artifact_uri)
    except ImportError as exc:
        raise Unsupported(
            f"Reading artifacts at {artifact_uri} needs a package that is not installed: {exc}"
        ) from exc
    except Exception as exc:  # unknown schemes raise MlflowException
        raise Unsupported(f"Flowdeck cannot read artifacts at {artifact_uri}: {exc}") from exc
