"""Copying runs' artifacts into a folder beside the mirror, with a size estimate first."""

from __future__ import annotations

import fnmatch
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store
from flowdeck.store.mirror.database import RUNS_STATE_TABLE, now_ms, transaction

STATE_DDL = (
    "CREATE TABLE IF NOT EXISTS flowdeck_mirror_artifacts ("
    "run_uuid TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, files INTEGER NOT NULL, "
    "bytes INTEGER NOT NULL, copied_at INTEGER NOT NULL)"
)


@dataclass(frozen=True)
class ArtifactEstimate:
    """How much copying the artifacts would take."""

    runs: int
    files: int
    bytes: int

    def text(self) -> str:
        files = f"{self.files:,} artifact file" + ("" if self.files == 1 else "s")
        runs = f"{self.runs:,} run" + ("" if self.runs == 1 else "s")
        return f"{files} of {runs}, {_size(self.bytes)}"


def artifact_folder(mirror: Path) -> Path:
    """Where a mirror keeps its artifacts: ``<name>.artifacts/`` beside the database."""
    return mirror.with_name(mirror.stem + ".artifacts")


def walk(
    store: Store, run_id: str, pattern: str | None, path: str = ""
) -> Iterator[tuple[str, int]]:
    """(path, size) of each artifact file of a run whose path matches ``pattern`` (a glob)."""
    for entry in store.list_artifacts(run_id, path):
        if entry.is_dir:
            yield from walk(store, run_id, pattern, entry.path)
        elif pattern is None or fnmatch.fnmatch(entry.path, pattern):
            yield entry.path, int(entry.file_size or 0)


def estimate(
    store: Store,
    run_ids: Sequence[str],
    pattern: str | None = None,
    state: TaskState | None = None,
) -> ArtifactEstimate:
    """Count the files and bytes the artifacts of ``run_ids`` hold (listing only)."""
    files = total = 0
    for number, run_id in enumerate(run_ids, 1):
        if state is not None:
            state.check()
            state.progress(number, len(run_ids), "Estimating the artifacts' size…")
        for _path, size in walk(store, run_id, pattern):
            files += 1
            total += size
    return ArtifactEstimate(len(run_ids), files, total)


def copy_artifacts(
    source: Store,
    conn: sqlite3.Connection,
    mirror: Path,
    experiment_ids: Sequence[str],
    pattern: str | None,
    state: TaskState | None = None,
) -> int:
    """Copy the artifacts of runs not copied since they last changed; return files copied.

    Each run's files land in ``<mirror>.artifacts/<run_id>/`` and the mirror's run points its
    ``artifact_uri`` there, so MLflow and Flowdeck read them offline.
    """
    conn.execute(STATE_DDL)
    marks = ",".join("?" * len(experiment_ids)) or "NULL"
    runs = conn.execute(
        f"SELECT r.run_uuid, s.fingerprint FROM runs r JOIN {RUNS_STATE_TABLE} s "
        f"ON s.run_uuid = r.run_uuid WHERE s.gone_at IS NULL AND r.experiment_id IN ({marks})",
        [int(i) for i in experiment_ids],
    ).fetchall()
    done = dict(conn.execute("SELECT run_uuid, fingerprint FROM flowdeck_mirror_artifacts"))
    wanted = [(run_id, f"{print_}|{pattern or '*'}") for run_id, print_ in runs]
    todo = [(run_id, print_) for run_id, print_ in wanted if done.get(run_id) != print_]
    copied = 0
    folder = artifact_folder(mirror)
    for number, (run_id, fingerprint) in enumerate(todo, 1):
        if state is not None:
            state.check()
            state.progress(number, len(todo), f"Copying artifacts ({number:,} of {len(todo):,})…")
        target = folder / run_id
        files, size = _copy_run(source, run_id, pattern, target, state)
        copied += files
        with transaction(conn):
            conn.execute(
                "INSERT OR REPLACE INTO flowdeck_mirror_artifacts VALUES (?, ?, ?, ?, ?)",
                (run_id, fingerprint, files, size, now_ms()),
            )
    with transaction(conn):  # a re-copied run got the source's artifact_uri back: point home
        for run_id, files in conn.execute(
            "SELECT run_uuid, files FROM flowdeck_mirror_artifacts"
        ).fetchall():
            if files:
                conn.execute(
                    "UPDATE runs SET artifact_uri = ? WHERE run_uuid = ?",
                    ((folder / run_id).resolve().as_uri(), run_id),
                )
    return copied


def _copy_run(
    source: Store, run_id: str, pattern: str | None, target: Path, state: TaskState | None
) -> tuple[int, int]:
    files = total = 0
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    for path, size in walk(source, run_id, pattern):
        local = source.fetch_artifact(run_id, path, state=state)
        destination = partial / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, destination)
        files += 1
        total += size
    if files:
        shutil.rmtree(target, ignore_errors=True)
        partial.replace(target)
    return files, total


def _size(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} TB"
