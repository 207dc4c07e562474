"""The mirror's SQLite file: created with MLflow's own migrations, plus Flowdeck's sync state."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flowdeck.core.errors import FlowdeckError

STATE_TABLE = "flowdeck_mirror"
RUNS_STATE_TABLE = "flowdeck_mirror_runs"
FORMAT_VERSION = "1"
STATE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {RUNS_STATE_TABLE} ("
    "run_uuid TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, synced_at INTEGER NOT NULL, "
    "gone_at INTEGER)",
)


class MirrorError(FlowdeckError):
    """The destination cannot hold a mirror (another store's file, a different origin)."""


def is_mirror(path: Path) -> bool:
    """True when ``path`` is a SQLite file holding Flowdeck's mirror state."""
    if not path.is_file():
        return False
    try:
        with closing_read(path) as conn:
            row = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (STATE_TABLE,)
            ).fetchone()
    except sqlite3.Error:
        return False
    return row is not None


def read_state(path: Path) -> dict[str, str]:
    """The mirror's key/value state (origin, last sync…); {} when ``path`` is not a mirror."""
    if not is_mirror(path):
        return {}
    with closing_read(path) as conn:
        return dict(conn.execute(f"SELECT key, value FROM {STATE_TABLE}").fetchall())


@contextmanager
def closing_read(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to ``path`` that never creates, locks for writing or leaves
    ``-wal``/``-shm`` files beside it (a quiet WAL-mode file is read as immutable)."""
    from flowdeck.store.sql.engine import sqlite_read_uri

    conn = sqlite3.connect(sqlite_read_uri(path.resolve()), uri=True, timeout=5.0)
    try:
        yield conn
    finally:
        conn.close()


def create_database(path: Path, origin: str) -> None:
    """Create an empty MLflow database at ``path`` (MLflow's migrations) with the state tables."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".creating")
    partial.unlink(missing_ok=True)
    shutil.copyfile(empty_database(), partial)
    conn = sqlite3.connect(partial)
    try:
        with conn:
            for statement in STATE_DDL:
                conn.execute(statement)
            write_state(conn, origin=origin, format=FORMAT_VERSION, created=str(now_ms()))
    finally:
        conn.close()
    partial.replace(path)


def empty_database() -> Path:
    """An empty database made by the installed MLflow's migrations, made once per version.

    Running MLflow's migrations takes 5 to 15 s; every new mirror copies this file instead.
    """
    import mlflow

    from flowdeck.paths import cache_dir

    template = cache_dir() / "mirror-templates" / f"mlflow-{mlflow.__version__}.db"
    if template.is_file():
        return template
    import sqlalchemy as sa
    from mlflow.store.db.utils import _initialize_tables

    template.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=template.parent, suffix=".db")
    os.close(handle)
    engine = sa.create_engine(f"sqlite:///{name}")
    try:
        _initialize_tables(engine)
    finally:
        engine.dispose()
    os.replace(name, template)
    return template


def open_for_sync(path: Path, origin: str) -> sqlite3.Connection:
    """A write connection to the mirror at ``path``, created first if absent.

    Refuses a file that is not a Flowdeck mirror, or one mirroring another origin.
    """
    if path.exists() and not is_mirror(path):
        raise MirrorError(
            f"{path} already exists and is not a Flowdeck mirror; choose another file "
            "(Flowdeck never writes into a store it did not create as a mirror)."
        )
    if not path.exists():
        create_database(path, origin)
    state = read_state(path)
    if state.get("origin") not in (None, origin):
        raise MirrorError(f"{path} mirrors {state['origin']}, not {origin}; choose another file.")
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("PRAGMA synchronous = NORMAL")
    for statement in STATE_DDL:
        conn.execute(statement)
    return conn


def write_state(conn: sqlite3.Connection, **values: object) -> None:
    """Upsert state keys (values stored as text; dicts and lists as JSON)."""
    rows = [
        (key, value if isinstance(value, str) else json.dumps(value))
        for key, value in values.items()
    ]
    conn.executemany(
        f"INSERT INTO {STATE_TABLE} (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        rows,
    )


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One unit of work: everything inside is written, or nothing is."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def mark_gone(
    conn: sqlite3.Connection,
    state_table: str,
    id_column: str,
    experiment_ids: list[str],
    present: set[str],
    also: str | None = None,
) -> list[str]:
    """Record, in one transaction, when the things of ``experiment_ids`` that a state table
    lists and the source no longer has went (their rows stay); ``also`` is a statement run
    for each of them with its id. Returns their ids."""
    marks = ",".join("?" * len(experiment_ids))
    gone = [
        thing_id
        for (thing_id,) in conn.execute(
            f"SELECT {id_column} FROM {state_table} WHERE gone_at IS NULL "
            f"AND experiment_id IN ({marks})",
            [str(e) for e in experiment_ids],
        )
        if thing_id not in present
    ]
    if gone:
        stamp = now_ms()
        with transaction(conn):
            if also:
                conn.executemany(also, [(thing_id,) for thing_id in gone])
            conn.executemany(
                f"UPDATE {state_table} SET gone_at = ? WHERE {id_column} = ?",
                [(stamp, thing_id) for thing_id in gone],
            )
    return gone


def now_ms() -> int:
    return int(time.time() * 1000)
