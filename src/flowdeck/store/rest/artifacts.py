"""Artifact listing and downloads through a tracking server, written only into Flowdeck's cache."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from flowdeck.core.entities import ArtifactEntry
from flowdeck.core.errors import CorruptStore, NotFound
from flowdeck.store import artifacts as shared
from flowdeck.store.rest.client import RestClient
from flowdeck.store.rest.fields import Fields

CHUNK_BYTES = 1 << 16
PROXIED_SCHEME = "mlflow-artifacts"


def list_artifacts(client: RestClient, run_id: str, path: str = "") -> list[ArtifactEntry]:
    """Direct children of ``path``: folders first, then files, each by name."""
    relative = shared.clean_relative(path)
    params = {"run_id": run_id, "path": relative} if relative else {"run_id": run_id}
    pages = client.iter_pages("GET", "artifacts/list", params, "files")
    return listed_entries(pages, "artifacts/list", relative, "the run's artifacts")


def listed_entries(
    pages: Iterable[list[Any]], endpoint: str, relative: str, owner: str
) -> list[ArtifactEntry]:
    """The entries of listing pages, each name checked to stay inside ``owner``'s artifacts."""
    entries = []
    for page in pages:
        for index, raw in enumerate(page):
            item = Fields(raw, endpoint, f"files[{index}]")
            name = item.required_text("path")
            try:
                if "\\" in name or "\0" in name:
                    raise ValueError(name)
                clean = shared.clean_relative(name)
            except (ValueError, NotFound):
                raise CorruptStore(
                    f"The server listed an artifact named '{name}', which points outside {owner}."
                ) from None
            if not clean or clean == relative:
                continue
            entries.append(
                ArtifactEntry(
                    path=clean,
                    is_dir=item.boolean("is_dir"),
                    file_size=item.integer("file_size"),
                )
            )
    return shared.sort_entries(entries)


def download_url(
    client: RestClient, artifact_uri: str | None, run_id: str, relative: str
) -> tuple[str, dict[str, str] | None]:
    """Where one file is served: the proxied artifact route or ``get-artifact``."""
    if artifact_uri and urlparse(artifact_uri).scheme.lower() == PROXIED_SCHEME:
        root = urlparse(artifact_uri).path.strip("/")
        full = f"{root}/{relative}" if root else relative
        return f"{client.base_url}/api/2.0/mlflow-artifacts/artifacts/{quote(full)}", None
    return f"{client.base_url}/get-artifact", {"run_id": run_id, "path": relative}


def download_file(
    client: RestClient, url: str, params: dict[str, str] | None, destination: Path
) -> None:
    """Stream one file to ``destination`` through a temporary file beside it."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    response = client.request("GET", url, params=params, stream=True)
    handle, temporary = tempfile.mkstemp(prefix=".part-", dir=destination.parent)
    try:
        with response, os.fdopen(handle, "wb") as out:
            for chunk in response.iter_content(CHUNK_BYTES):
                out.write(chunk)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def fetch_artifact(client: RestClient, artifact_uri: str | None, run_id: str, path: str) -> Path:
    """The artifact (file or folder) downloaded below the cache folder of this server and run."""
    relative = shared.clean_relative(path)
    folder = shared.cache_dir(f"{client.base_url}\0{run_id}")

    def lister(directory: str) -> list[ArtifactEntry]:
        return list_artifacts(client, run_id, directory)

    def downloader(file_path: str, destination: Path) -> None:
        url, params = download_url(client, artifact_uri, run_id, file_path)
        download_file(client, url, params, destination)

    return shared.download_tree(relative, folder, lister, downloader)
