"""One sync of a mirror: copy what changed at the source, batch by batch, resumable."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from flowdeck.core.errors import NotFound
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store
from flowdeck.store.mirror import runs_copy
from flowdeck.store.mirror.database import (
    RUNS_STATE_TABLE,
    STATE_TABLE,
    now_ms,
    open_for_sync,
    transaction,
    write_state,
)
from flowdeck.store.mirror.histories import BULK_MAX_POINTS, read_histories
from flowdeck.store.mirror.source import read_experiments, read_runs

BATCH_RUNS = 250
# How far before the newest start or end time a mirror holds a quick refresh looks again
# (clocks of the machines that log runs differ).
QUICK_MARGIN_MS = 15 * 60 * 1000
# A sync of a complete mirror compares every run with the source (which also finds edits to
# old finished runs) when the last such check is older than this, or when asked (``full``).
FULL_CHECK_INTERVAL_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class MirrorOptions:
    """What to copy: some experiments (names or ids; all when empty), the registry, traces."""

    experiments: Sequence[str] = ()
    models: bool = True
    traces: bool = True
    batch_runs: int = BATCH_RUNS
    # A refresh: only runs that may have changed lately (running, started or ended since
    # the newest time the mirror holds, less a margin), or just ``run_ids``; experiments are
    # updated, nothing is marked gone, the registry and traces are left for a full sync.
    artifacts: bool = False
    artifact_pattern: str | None = None  # a glob over artifact paths, e.g. "*.json"
    quick: bool = False
    run_ids: Sequence[str] | None = None  # () refreshes the experiments alone
    # Compare every run with the source even when the last full check is recent.
    full: bool = False

    @property
    def partial(self) -> bool:
        return self.quick or self.run_ids is not None


@dataclass
class MirrorReport:
    """What one sync did, in counts a progress line or a closing message can show."""

    experiments: int = 0
    runs_seen: int = 0
    runs_copied: int = 0
    runs_gone: int = 0
    points: int = 0
    extras: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    full: bool = True  # every run compared with the source (not only what changed lately)

    def summary(self) -> str:
        parts = [
            f"{self.experiments} experiment" + ("" if self.experiments == 1 else "s"),
            f"{self.runs_copied} of {self.runs_seen} runs copied",
            f"{self.points:,} metric points added",
        ]
        if self.runs_gone:
            parts.append(f"{self.runs_gone} runs gone at the source marked deleted")
        parts.extend(f"{count} {name}" for name, count in self.extras.items())
        what = "" if self.full else "changes since the last sync: "
        return what + ", ".join(parts) + f" in {self.seconds:.1f} s"


# A step after the runs: (name in the report, copy(source, conn, experiment_ids, state) -> count).
ExtraStep = Callable[[Store, sqlite3.Connection, list[str], TaskState | None], int]
EXTRA_STEPS: dict[str, tuple[str, ExtraStep]] = {}


def register_step(option: str, name: str, step: ExtraStep) -> None:
    """Add a copy step run when ``MirrorOptions.<option>`` is set (registry, traces…)."""
    EXTRA_STEPS[name] = (option, step)


def recorded_options(state: dict[str, str]) -> MirrorOptions:
    """The options a mirror was last synced with (from ``read_state``), to sync it the same way."""
    import json

    scope = json.loads(state.get("scope") or "[]")
    return MirrorOptions(
        experiments=tuple(str(item) for item in scope),
        models=state.get("models", "1") == "1",
        traces=state.get("traces", "1") == "1",
        artifacts=state.get("artifacts", "0") == "1",
        artifact_pattern=state.get("artifact_pattern") or None,
    )


def origin_of(store: Store) -> str:
    """The origin recorded in a mirror: the source's location without secrets."""
    from flowdeck.core.redact import redact_location

    return redact_location(store.location)


def sync_mirror(
    source: Store,
    destination: Path,
    options: MirrorOptions | None = None,
    state: TaskState | None = None,
) -> MirrorReport:
    """Bring the mirror at ``destination`` up to date with ``source``.

    Each batch of runs (with their histories and inputs) is one transaction, so an interrupted
    sync leaves a consistent copy and the next one carries on where it stopped.
    """
    from flowdeck.store.mirror import steps  # noqa: F401 - registers the registry, trace… steps

    options = options or MirrorOptions()
    source = _live(source)
    started = time.perf_counter()
    report = MirrorReport()
    experiments = chosen_experiments(read_experiments(source), options.experiments)
    conn = open_for_sync(Path(destination), origin_of(source))
    if options.partial:
        try:
            return _refresh(source, conn, experiments, options, state, report, started)
        finally:
            conn.close()
    full = options.full or _full_check_due(conn, options)
    held = _held_experiments(conn)  # before this sync writes the experiments it copies
    try:
        write_state(
            conn,
            origin_kind=source.kind,
            sync_started=str(now_ms()),
            complete="0",
            scope=list(options.experiments),
            models="1" if options.models else "0",
            traces="1" if options.traces else "0",
            artifacts="1" if options.artifacts else "0",
            artifact_pattern=options.artifact_pattern or "",
        )
        with transaction(conn):
            _write_experiments(conn, experiments)
        ids = list(experiments["experiment_id"])
        report.experiments = len(ids)
        if full:
            _copy_runs(source, conn, ids, options, state, report)
        else:
            _copy_changes(source, conn, ids, held, options, state, report)
        report.full = full
        for name, (option, step) in EXTRA_STEPS.items():
            if getattr(options, option, False):
                report.extras[name] = step(source, conn, ids, state)
        if options.artifacts:
            from flowdeck.store.mirror.artifacts_copy import copy_artifacts

            report.extras["artifact files"] = copy_artifacts(
                source, conn, Path(destination), ids, options.artifact_pattern, state
            )
        report.seconds = time.perf_counter() - started
        finished = str(now_ms())
        write_state(
            conn,
            last_sync=finished,
            complete="1",
            experiments=sorted(ids, key=_id_order),
            last_report=report.summary(),
            **({"last_full_sync": finished} if full else {}),
        )
    finally:
        conn.close()
    from flowdeck.store.mirror.index import remember_mirror

    remember_mirror(origin_of(source), Path(destination))
    return report


def _refresh(
    source: Store,
    conn: sqlite3.Connection,
    experiments: pd.DataFrame,
    options: MirrorOptions,
    state: TaskState | None,
    report: MirrorReport,
    started: float,
) -> MirrorReport:
    """A quick or targeted sync of runs in the experiments the mirror already holds."""
    experiments = experiments[experiments["experiment_id"].isin(_held_experiments(conn))]
    with transaction(conn):
        _write_experiments(conn, experiments)
    ids = list(experiments["experiment_id"])
    report.experiments = len(ids)
    since = None
    if options.quick and options.run_ids is None:
        since = _quick_since(conn)
    _copy_runs(source, conn, ids, options, state, report, since=since)
    report.seconds = time.perf_counter() - started
    write_state(conn, last_refresh=str(now_ms()))
    return report


def chosen_experiments(frame: pd.DataFrame, wanted: Sequence[str]) -> pd.DataFrame:
    if not wanted:
        return frame
    chosen = []
    for item in wanted:
        rows = frame[(frame["experiment_id"] == str(item)) | (frame["name"] == str(item))]
        if rows.empty:
            raise NotFound(f"The source has no experiment named or numbered '{item}'.")
        chosen.append(rows.iloc[0]["experiment_id"])
    return frame[frame["experiment_id"].isin(chosen)]


def _write_experiments(conn: sqlite3.Connection, experiments: pd.DataFrame) -> None:
    for row in experiments.itertuples(index=False):
        experiment_id = int(row.experiment_id)
        clash = conn.execute(
            "SELECT experiment_id FROM experiments WHERE name = ? AND experiment_id != ?",
            (row.name, experiment_id),
        ).fetchone()
        if clash is not None:  # renamed at the source since the last sync: free the name
            conn.execute(
                "UPDATE experiments SET name = name || ' (renamed at the source)' "
                "WHERE experiment_id = ?",
                clash,
            )
        conn.execute(
            "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, "
            "creation_time, last_update_time) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(experiment_id) DO UPDATE SET name = excluded.name, "
            "artifact_location = excluded.artifact_location, "
            "lifecycle_stage = excluded.lifecycle_stage, creation_time = excluded.creation_time, "
            "last_update_time = excluded.last_update_time",
            (
                experiment_id,
                row.name,
                row.artifact_location,
                row.lifecycle_stage,
                runs_copy._int(row.creation_time),
                runs_copy._int(row.last_update_time),
            ),
        )
        conn.execute("DELETE FROM experiment_tags WHERE experiment_id = ?", (experiment_id,))
        conn.executemany(
            "INSERT INTO experiment_tags (key, value, experiment_id) VALUES (?, ?, ?)",
            [(key, value, experiment_id) for key, value in (row.tags or {}).items()],
        )


def _copy_runs(
    source: Store,
    conn: sqlite3.Connection,
    ids: list[str],
    options: MirrorOptions,
    state: TaskState | None,
    report: MirrorReport,
    since: int | None = None,
) -> list[str]:
    """Copy the runs whose fingerprint changed; the run ids the source listed."""
    if state is not None:
        state.progress(0, 0, "Listing runs…")
    run_ids = list(options.run_ids) if options.run_ids is not None else None
    found = read_runs(source, ids, state, since=since, run_ids=run_ids)
    tables = found.tables
    order = list(tables.runs["run_id"])
    report.runs_seen = len(order)
    fingerprints = runs_copy.run_fingerprints(tables, found.inputs)
    synced = runs_copy.synced_fingerprints(conn)
    changed = [run_id for run_id in order if synced.get(run_id) != fingerprints[run_id]]
    total = len(changed)
    for start in range(0, total, options.batch_runs):
        if state is not None:
            state.progress(start, total, f"Copying runs ({start:,} of {total:,})…")
            state.check()
        batch = changed[start : start + options.batch_runs]
        wanted = runs_copy.source_latest(tables, batch)
        held = runs_copy.synced_latest(conn, batch)
        pairs = [pair for pair, latest in wanted.items() if held.get(pair) != latest]
        long_pairs = frozenset(p for p in pairs if wanted[p][0] >= BULK_MAX_POINTS)
        # Read before the transaction: readers of the mirror wait only while it is written.
        histories = list(read_histories(source, pairs, state, long_pairs))
        with transaction(conn):
            report.points += runs_copy.write_runs(
                conn, tables, batch, found.inputs, histories, fingerprints
            )
        report.runs_copied += len(batch)
    if state is not None:
        state.progress(total, total, "Runs copied")
    if options.partial:
        return order
    present = set(order)
    gone = [run_id for run_id in _mirrored_runs(conn, ids) if run_id not in present]
    with transaction(conn):
        report.runs_gone = runs_copy.mark_gone(conn, gone)
    return order


def _full_check_due(conn: sqlite3.Connection, options: MirrorOptions) -> bool:
    """Whether this sync compares every run: the mirror is not complete, its scope or
    options changed, or the last full check is older than ``FULL_CHECK_INTERVAL_MS``."""
    state = dict(conn.execute(f"SELECT key, value FROM {STATE_TABLE}").fetchall())
    last = state.get("last_full_sync") or ""
    if state.get("complete") != "1" or not last.isdigit():
        return True
    if _choices(recorded_options(state)) != _choices(options):
        return True
    return now_ms() - int(last) >= FULL_CHECK_INTERVAL_MS


def _choices(options: MirrorOptions) -> tuple[object, ...]:
    """What a mirror was made to hold (a change of it needs every run compared)."""
    return (
        sorted(str(item) for item in options.experiments),
        options.models,
        options.traces,
        options.artifacts,
        options.artifact_pattern or None,
    )


def _copy_changes(
    source: Store,
    conn: sqlite3.Connection,
    ids: list[str],
    held: set[str],
    options: MirrorOptions,
    state: TaskState | None,
    report: MirrorReport,
) -> None:
    """The runs that may have changed since the last sync: running, started or ended since
    the newest time held (less a margin), every run of an experiment new to the mirror (not
    in ``held``), and runs deleted, restored or removed at the source since."""
    new = [experiment_id for experiment_id in ids if experiment_id not in held]
    old = [experiment_id for experiment_id in ids if experiment_id in held]
    listed: list[str] = []
    if new:
        listed += _copy_runs(source, conn, new, options, state, report)
    if old:
        since = _quick_since(conn)
        quick = replace(options, quick=True)
        listed += _copy_runs(source, conn, old, quick, state, report, since=since)
        listed += _copy_lifecycle_changes(source, conn, old, options, state, report)
    report.runs_seen = len(set(listed))


def _copy_lifecycle_changes(
    source: Store,
    conn: sqlite3.Connection,
    ids: list[str],
    options: MirrorOptions,
    state: TaskState | None,
    report: MirrorReport,
) -> list[str]:
    """Runs deleted or restored at the source since the last sync are copied again; runs no
    longer there at all (``mlflow gc``) are marked gone. Returns the runs looked at."""
    if state is not None:
        state.progress(0, 0, "Looking for deleted runs…")
    deleted_there = set(source.runs(ids, view="deleted")["run_id"])
    marks = ",".join("?" * len(ids))
    deleted_here = {
        run_id
        for (run_id,) in conn.execute(
            f"SELECT run_uuid FROM runs WHERE lifecycle_stage = 'deleted' "
            f"AND experiment_id IN ({marks})",
            [int(i) if i.isdigit() else i for i in ids],
        )
    }
    active_here = set(_mirrored_runs(conn, ids)) - deleted_here
    changed = sorted((deleted_there & active_here) | (deleted_here - deleted_there))
    if not changed:
        return []
    listed = set(_copy_runs(source, conn, ids, replace(options, run_ids=changed), state, report))
    gone = [run_id for run_id in changed if run_id not in listed]
    with transaction(conn):
        report.runs_gone += runs_copy.mark_gone(conn, gone)
    return changed


def _live(store: Store) -> Store:
    """``store``, or for a server opened through its mirror the server itself (its
    experiments and run listings would otherwise come from the mirror being synced)."""
    from flowdeck.store.mirror.cached import CachedStore

    return store.remote if isinstance(store, CachedStore) else store


def _quick_since(conn: sqlite3.Connection) -> int:
    """The time from which runs may have changed: the newest start or end time the mirror
    holds, less ``QUICK_MARGIN_MS``."""
    newest = conn.execute(
        "SELECT MAX(COALESCE(MAX(start_time), 0), COALESCE(MAX(end_time), 0)) FROM runs"
    ).fetchone()[0]
    return max(int(newest or 0) - QUICK_MARGIN_MS, 0)


def _held_experiments(conn: sqlite3.Connection) -> set[str]:
    return {str(row[0]) for row in conn.execute("SELECT experiment_id FROM experiments")}


def _mirrored_runs(conn: sqlite3.Connection, ids: list[str]) -> list[str]:
    """Runs of ``ids`` the mirror holds that were copied and are not marked gone yet."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return [
        run_id
        for (run_id,) in conn.execute(
            f"SELECT r.run_uuid FROM runs r JOIN {RUNS_STATE_TABLE} s ON s.run_uuid = r.run_uuid "
            f"WHERE s.gone_at IS NULL AND r.experiment_id IN ({marks})",
            [int(i) for i in ids],
        )
    ]


def _id_order(experiment_id: str) -> tuple[int, str]:
    return (int(experiment_id), "") if experiment_id.isdigit() else (0, experiment_id)
