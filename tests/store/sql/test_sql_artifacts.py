"""The shared artifact helpers: local roots in place, remote roots into the cache, never outside."""

from __future__ import annotations

from pathlib import Path

import pytest
from sql_store_data import WrittenStore, file_hash

from flowdeck.core.entities import ArtifactEntry
from flowdeck.core.errors import CorruptStore, NotFound, Unsupported
from flowdeck.store import artifacts


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache-home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def run_root(store: WrittenStore) -> Path:
    return store.artifact_root / "alpha" / store.run_id / "artifacts"


@pytest.mark.parametrize("bad", ["../secret", "data/../../x", "/etc/passwd", "C:/Windows"])
def test_paths_leaving_the_artifact_root_are_refused(bad: str) -> None:
    with pytest.raises(NotFound):
        artifacts.clean_relative(bad)


def test_clean_relative_normalises() -> None:
    assert artifacts.clean_relative("./data//table.csv") == "data/table.csv"
    assert artifacts.clean_relative("") == ""


def test_file_uri_and_plain_path_are_local(sqlite_store: WrittenStore, tmp_path: Path) -> None:
    root = run_root(sqlite_store)
    by_uri = artifacts.list_artifacts(root.as_uri(), "data")
    by_path = artifacts.list_artifacts(str(root), "data")
    assert by_uri == by_path
    assert [entry.path for entry in by_uri] == ["data/inner", "data/table.csv"]
    relative = artifacts.local_root("mlruns/1/abc/artifacts", base_dir=tmp_path)
    assert relative == tmp_path / "mlruns/1/abc/artifacts"
    assert artifacts.local_root("s3://bucket/x") is None


def test_run_without_artifact_folder_lists_nothing_like_mlflow(tmp_path: Path) -> None:
    from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

    missing = tmp_path / "elsewhere"
    assert artifacts.list_artifacts(str(missing)) == []
    assert LocalArtifactRepository(str(missing)).list_artifacts() == []
    assert not missing.exists()


def test_mlflow_artifacts_uri_needs_a_tracking_server() -> None:
    with pytest.raises(Unsupported, match="tracking server"):
        artifacts.list_artifacts("mlflow-artifacts:/1/abc/artifacts")
    with pytest.raises(Unsupported, match="tracking server"):
        artifacts.fetch("mlflow-artifacts:/1/abc/artifacts", "x.txt", cache_key="k")


def test_remote_repository_downloads_into_the_cache_only(
    sqlite_store: WrittenStore, cache_home: Path
) -> None:
    root = run_root(sqlite_store)
    before = file_hash(root / "data" / "table.csv")
    # MLflow's own repository for a file:// root stands in for a cloud bucket here.
    lister = artifacts.repository_lister(root.as_uri())
    downloader = artifacts.repository_downloader(root.as_uri())
    assert {entry.path for entry in lister("")} == {"data", "notes.txt"}
    folder = artifacts.cache_dir(f"{sqlite_store.uri}\n{sqlite_store.run_id}")
    assert cache_home in folder.parents
    fetched = artifacts.download_tree("data", folder, lister, downloader)
    assert fetched == (folder / "data").resolve()
    assert (fetched / "table.csv").read_text() == "a,b\n1,2\n"
    assert (fetched / "inner" / "deep.txt").read_text() == "deep"
    single = artifacts.download_tree("notes.txt", folder, lister, downloader)
    assert single.read_text() == "hello"
    assert file_hash(root / "data" / "table.csv") == before


def test_server_names_escaping_the_cache_are_refused(tmp_path: Path) -> None:
    """A hostile listing (as a broken or malicious server might return) writes nothing."""
    folder = tmp_path / "cache" / "run"
    written: list[Path] = []

    def hostile_lister(relative: str) -> list[ArtifactEntry]:
        return [ArtifactEntry(path="../../escaped.txt", is_dir=False, file_size=1)]

    def downloader(relative: str, destination: Path) -> None:
        written.append(destination)
        destination.write_text("x")

    with pytest.raises(CorruptStore, match="outside"):
        artifacts.download_tree("", folder, hostile_lister, downloader)
    with pytest.raises(CorruptStore):
        artifacts.download_tree(
            "dir", folder, lambda _: [ArtifactEntry("/abs/file", False)], downloader
        )
    assert written == []
    assert not (tmp_path / "escaped.txt").exists()


def test_entries_sort_folders_first_then_by_name() -> None:
    entries = [
        ArtifactEntry("b.txt", False, 1),
        ArtifactEntry("z", True),
        ArtifactEntry("a.txt", False, 1),
        ArtifactEntry("c", True),
    ]
    assert [entry.path for entry in artifacts.sort_entries(entries)] == [
        "c",
        "z",
        "a.txt",
        "b.txt",
    ]
