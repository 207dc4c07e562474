"""fetch_artifact with progress and cancel, the per-run cache rule, and copies out of the cache."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.helpers.servers import ServerProcess, start_mlflow_server

from flowdeck.core.errors import Cancelled, NotFound
from flowdeck.core.task_state import TaskState
from flowdeck.store import artifacts, open_store
from flowdeck.store.artifact_fetch import PARTIAL, export
from flowdeck.store.rest import RestStore

BIG = 1_500_000  # bigger than one download chunk (1 MiB)
BULK_FILES = 5


@dataclass
class Logged:
    """A run written by MLflow and the bytes of each artifact it logged."""

    tracking_uri: str
    run_id: str
    files: dict[str, bytes]


def log_run(tracking_uri: str, artifact_location: str | None = None) -> Logged:
    """One finished run: a small file, text, a dict, a nested folder and a folder of big files."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    name = f"fetch-{uuid.uuid4().hex[:8]}"
    experiment = client.create_experiment(name, artifact_location=artifact_location)
    run_id = client.create_run(experiment).info.run_id
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "weights.bin").write_bytes(os.urandom(3000))
        client.log_artifact(run_id, str(root / "weights.bin"))
        files["weights.bin"] = (root / "weights.bin").read_bytes()
        bulk = root / "bulk"
        bulk.mkdir()
        for index in range(BULK_FILES):
            (bulk / f"part-{index}.bin").write_bytes(os.urandom(BIG))
            files[f"bulk/part-{index}.bin"] = (bulk / f"part-{index}.bin").read_bytes()
        (bulk / "deep").mkdir()
        (bulk / "deep" / "leaf.txt").write_text("leaf\n")
        files["bulk/deep/leaf.txt"] = b"leaf\n"
        client.log_artifacts(run_id, str(bulk), "bulk")
    client.log_text(run_id, "hello flowdeck\n", "notes.txt")
    files["notes.txt"] = b"hello flowdeck\n"
    client.log_dict(run_id, {"lr": 0.1}, "config/params.json")
    with tempfile.TemporaryDirectory() as tmp:
        files["config/params.json"] = Path(
            client.download_artifacts(run_id, "config/params.json", tmp)
        ).read_bytes()
    client.set_terminated(run_id, end_time=1_700_000_000_000)
    return Logged(tracking_uri, run_id, files)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real ``mlflow server`` with proxied artifacts (``mlflow-artifacts:`` URIs)."""
    process = start_mlflow_server(tmp_path_factory.mktemp("fetch-server"))
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def served(server: ServerProcess) -> Logged:
    return log_run(server.url)


@pytest.fixture(scope="module")
def on_disk(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Logged]:
    """The same run in a file store and in SQLite with a local artifact root."""
    folder = tmp_path_factory.mktemp("fetch-local")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        files = log_run(str(folder / "mlruns"))
    sqlite = log_run(f"sqlite:///{folder / 'mlflow.db'}", str(folder / "artifacts"))
    return {"files": files, "sqlite": sqlite}


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache-home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def cached_files(home: Path) -> list[Path]:
    return [path for path in home.rglob("*") if path.is_file()]


class Recorder(TaskState):
    """A real task state that keeps every progress report (and may cancel on one)."""

    def __init__(self, cancel_when_done_at_least: int | None = None) -> None:
        super().__init__(self._record)
        self.reports: list[tuple[int, int, str]] = []
        self.limit = cancel_when_done_at_least

    def _record(self, done: int, total: int, text: str) -> None:
        self.reports.append((done, total, text))
        if self.limit is not None and done >= self.limit:
            self.cancel()


# --- progress, bytes and cancel through a real server ------------------------------------------


def test_folder_fetch_reports_bytes_and_matches_mlflow(served: Logged, cache_home: Path) -> None:
    import mlflow.artifacts

    store = RestStore(served.tracking_uri)
    state = Recorder()
    folder = store.fetch_artifact(served.run_id, "bulk", state=state)
    total = sum(len(data) for name, data in served.files.items() if name.startswith("bulk/"))
    assert state.reports[-1][:2] == (total, total)
    assert "files" in state.reports[-1][2]
    theirs = Path(
        mlflow.artifacts.download_artifacts(
            run_id=served.run_id,
            artifact_path="bulk",
            tracking_uri=served.tracking_uri,
            dst_path=str(cache_home.parent / "mlflow"),
        )
    )
    ours = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    mine = {p.relative_to(theirs): p.read_bytes() for p in theirs.rglob("*") if p.is_file()}
    assert ours == mine and len(ours) == BULK_FILES + 1
    assert cache_home in folder.parents


def test_cancelling_stops_within_a_file_and_keeps_no_half_file(
    served: Logged, cache_home: Path
) -> None:
    store = RestStore(served.tracking_uri)
    state = Recorder(cancel_when_done_at_least=1)  # at the first chunk of the first file
    with pytest.raises(Cancelled):
        store.fetch_artifact(served.run_id, "bulk/part-0.bin", state=state)
    assert cached_files(cache_home) == []
    assert state.reports and state.reports[0][0] < BIG


def test_cancelling_a_folder_fetch_keeps_only_complete_files(
    served: Logged, cache_home: Path
) -> None:
    store = RestStore(served.tracking_uri)
    state = Recorder(cancel_when_done_at_least=BIG)  # once a whole file's bytes are in
    with pytest.raises(Cancelled):
        store.fetch_artifact(served.run_id, "bulk", state=state)
    kept = cached_files(cache_home)
    assert len(kept) < BULK_FILES + 1
    assert not [path for path in kept if PARTIAL in path.parts], "a half file stayed behind"
    for path in kept:  # every file left in the cache is complete
        name = "bulk/" + path.name
        assert path.read_bytes() == served.files[name]
    again = store.fetch_artifact(served.run_id, "bulk")  # the next fetch completes the rest
    assert len([p for p in again.rglob("*") if p.is_file()]) == BULK_FILES + 1


def test_cache_is_reused_until_the_run_changes(server: ServerProcess, cache_home: Path) -> None:
    from mlflow import MlflowClient

    logged = log_run(server.url)
    store = RestStore(server.url)
    client = MlflowClient(tracking_uri=server.url)
    notes = store.fetch_artifact(logged.run_id, "notes.txt")
    first = notes.stat()
    again = store.fetch_artifact(logged.run_id, "notes.txt")
    assert again == notes
    assert (again.stat().st_ino, again.stat().st_mtime_ns) == (first.st_ino, first.st_mtime_ns)

    client.log_text(logged.run_id, "hello again, flowdeck\n", "notes.txt")  # other size
    changed = store.fetch_artifact(logged.run_id, "notes.txt")
    assert changed.read_text() == "hello again, flowdeck\n"
    weights = store.fetch_artifact(logged.run_id, "weights.bin").stat()

    client.log_text(logged.run_id, "new\n", "later.txt")  # logged after the first fetch
    root = store.fetch_artifact(logged.run_id, "")
    assert (root / "later.txt").read_text() == "new\n"
    kept = (root / "weights.bin").stat()
    assert (kept.st_ino, kept.st_mtime_ns) == (weights.st_ino, weights.st_mtime_ns)

    client.set_terminated(logged.run_id, end_time=1_800_000_000_000)  # resumed and ended again
    refetched = store.fetch_artifact(logged.run_id, "weights.bin")
    assert refetched.read_bytes() == logged.files["weights.bin"]
    assert refetched != root / "weights.bin"
    assert not (root / "weights.bin").exists(), "the older stamp of the run stays in the cache"


def test_missing_and_refused_paths_on_a_server(served: Logged, cache_home: Path) -> None:
    store = RestStore(served.tracking_uri)
    with pytest.raises(NotFound, match="There is no artifact 'config/nope.json' in this run."):
        store.fetch_artifact(served.run_id, "config/nope.json")
    for bad in ("../etc/passwd", "/etc/passwd", "config\\params.json"):
        with pytest.raises(NotFound, match="is not a path inside the run's artifacts"):
            store.fetch_artifact(served.run_id, bad)
    assert cached_files(cache_home) == []


# --- local stores: in place, checked for cancel ---------------------------------------------------


@pytest.mark.parametrize("backend", ["files", "sqlite"])
def test_local_artifacts_come_in_place(
    on_disk: dict[str, Logged], backend: str, cache_home: Path
) -> None:
    logged = on_disk[backend]
    store = open_store(logged.tracking_uri)
    try:
        local = store.fetch_artifact(logged.run_id, "config/params.json", state=TaskState())
        assert local.read_bytes() == logged.files["config/params.json"]
        assert cache_home not in local.parents
        cancelled = TaskState()
        cancelled.cancel()
        with pytest.raises(Cancelled):
            store.fetch_artifact(logged.run_id, "notes.txt", state=cancelled)
        for bad in ("../etc/passwd", "/etc/passwd", "notes\\..\\x"):
            with pytest.raises(NotFound):
                store.fetch_artifact(logged.run_id, bad)
    finally:
        store.close()
    assert cached_files(cache_home) == []


def test_a_cloud_style_repository_stops_between_files(
    on_disk: dict[str, Logged], cache_home: Path
) -> None:
    """MLflow's own repository over a ``file://`` root stands in for a bucket (no chunks)."""
    logged = on_disk["sqlite"]
    store = open_store(logged.tracking_uri)
    root = store.run(logged.run_id).info.artifact_uri
    store.close()
    uri = Path(root).as_uri()
    state = Recorder(cancel_when_done_at_least=1)
    with pytest.raises(Cancelled):
        artifacts.download_tree(
            "bulk",
            artifacts.cache_dir("bucket") / "stamp",
            artifacts.repository_lister(uri),
            artifacts.repository_downloader(uri),
            state=state,
        )
    kept = cached_files(cache_home)
    assert len(kept) == 1, "exactly the first file was complete when the cancel came"
    assert kept[0].read_bytes() == logged.files["bulk/" + kept[0].name]


# --- copies out of the cache -----------------------------------------------------------------------


def test_export_copies_under_free_names_and_a_cancel_leaves_nothing(
    on_disk: dict[str, Logged], tmp_path: Path
) -> None:
    logged = on_disk["files"]
    store = open_store(logged.tracking_uri)
    try:
        folder = store.fetch_artifact(logged.run_id, "bulk")
        notes = store.fetch_artifact(logged.run_id, "notes.txt")
    finally:
        store.close()
    target = tmp_path / "out"
    first = export(TaskState(), notes, target, "notes.txt")
    second = export(TaskState(), notes, target, "notes.txt")
    assert (first.name, second.name) == ("notes.txt", "notes (2).txt")
    assert second.read_bytes() == logged.files["notes.txt"]
    copied = export(Recorder(), folder, target, "bulk")
    assert (copied / "deep" / "leaf.txt").read_bytes() == b"leaf\n"
    assert (copied / "part-3.bin").read_bytes() == logged.files["bulk/part-3.bin"]
    with pytest.raises(Cancelled):
        export(Recorder(cancel_when_done_at_least=1), folder, target, "bulk")
    assert sorted(p.name for p in target.iterdir()) == ["bulk", "notes (2).txt", "notes.txt"]
