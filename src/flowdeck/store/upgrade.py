"""Upgrade an older local SQLite store to the installed MLflow's schema, with consent and a backup."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flowdeck.core.errors import ReadOnlyStore, WriteFailed
from flowdeck.core.task_state import TaskState, check
from flowdeck.store import schema_guard
from flowdeck.store.locations import sqlite_path

SERVER_DATABASE = (
    "This database is on a {backend} server, where it most likely belongs to a running MLflow "
    "tracking server of its own version: upgrading it here would break that server. Open the "
    "tracking server's URL instead; edits then go through the server."
)
TRACKING_SERVER = "A tracking server keeps its own schema; edits already go through the server."
FILE_STORE = "An mlruns folder needs no schema upgrade; {reason}"
NEWER_NEEDED = "Editing it needs a newer Flowdeck with a newer MLflow."
NEWER = (
    "It was written by a newer MLflow ({release}) than the installed one ({head}), and Flowdeck "
    f"never downgrades a schema. {NEWER_NEEDED}"
)
ALREADY_WRITABLE = "This store is already writable."
NOT_UPGRADABLE = "Flowdeck cannot upgrade it: {reason}"
STEPS = 4  # check, back up, migrate, verify


class UpgradeFailed(WriteFailed):
    """The upgrade did not happen; the message says whether the database was restored."""


@dataclass(frozen=True)
class UpgradePlan:
    """What ``upgrade_store`` would do to one store, or why it must not (``refusal``)."""

    database: Path | None
    from_revision: str | None
    to_revision: str
    backup: Path | None
    refusal: str | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    @property
    def from_release(self) -> str:
        return schema_guard.release_of(self.from_revision) if self.from_revision else "unknown"

    @property
    def to_release(self) -> str:
        return schema_guard.RELEASE_HEADS.get(self.to_revision, "the installed version")

    def explanation(self) -> str:
        """Plain text for the confirmation dialog: every step, and what a failure does."""
        if self.refusal is not None or self.database is None or self.backup is None:
            return self.refusal or ALREADY_WRITABLE
        return (
            f"{self.database.name} was written by an older MLflow ({self.from_release}). To edit "
            f"it, Flowdeck will upgrade its schema to the installed MLflow's ({self.to_release}):\n"
            f"\n1. copy it to {self.backup};"
            f"\n2. run MLflow's own migrations on it, as 'mlflow db upgrade' does: revision "
            f"{self.from_revision} → {self.to_revision};"
            f"\n3. check that it is at revision {self.to_revision} and that every table kept its "
            f"rows;\n4. reopen it writable.\n"
            f"\nIf any step fails, the copy is put back and the database is as it was. "
            f"Afterwards, MLflow older than {self.to_release} can no longer open {self.database.name}"
            f" (the backup still opens there). Close other programs using it first."
        )


@dataclass(frozen=True)
class UpgradeResult:
    """A finished upgrade: where the backup is, the revisions, and the verified row counts."""

    database: Path
    backup: Path
    from_revision: str
    to_revision: str
    row_counts: Mapping[str, int]


def plan_upgrade(store: Any, now: datetime | None = None) -> UpgradePlan:
    """Whether ``store`` may be upgraded and how; reads only the schema revision."""
    head = schema_guard.installed_head()
    refusal = _kind_refusal(store)
    if refusal is None and store.kind == "files":
        reason = schema_guard.file_read_only_reason(store)
        refusal = ALREADY_WRITABLE if reason is None else FILE_STORE.format(reason=reason)
    if refusal is not None:
        return UpgradePlan(None, None, head, None, refusal)
    database = sqlite_path(str(store.location))
    if database is None:
        return UpgradePlan(None, None, head, None, "An in-memory database cannot be upgraded.")
    return plan_sqlite_upgrade(database.resolve(), now)


def why_not_upgrade(store: Any, read_only_reason: str | None) -> str | None:
    """Why 'Make Store Writable…' is unavailable, from the known read-only reason (no I/O)."""
    refusal = _kind_refusal(store)
    if refusal is not None:
        return refusal
    if read_only_reason is None:
        return ALREADY_WRITABLE
    if store.kind == "files":
        return FILE_STORE.format(reason=read_only_reason)
    if read_only_reason.endswith(schema_guard.UPGRADE_HINT):
        return None
    if read_only_reason.startswith("Written by a newer MLflow"):
        return f"{read_only_reason} {NEWER_NEEDED}"
    return NOT_UPGRADABLE.format(reason=read_only_reason)


def _kind_refusal(store: Any) -> str | None:
    """The refusal that follows from the kind of store alone (None for SQLite files and mlruns)."""
    kind = getattr(store, "kind", "")
    if kind == "rest":
        return TRACKING_SERVER
    if kind == "files":
        return None
    if kind != "sql":
        return "Flowdeck cannot upgrade this kind of store."
    backend = str(store.location).split(":", 1)[0].split("+", 1)[0].lower()
    if backend == "sqlite":
        return None
    name = "PostgreSQL" if backend.startswith("postgres") else "MySQL"
    return SERVER_DATABASE.format(backend=name)


def plan_sqlite_upgrade(database: Path, now: datetime | None = None) -> UpgradePlan:
    """The plan for one SQLite file: allowed only for a revision older than the installed head."""
    head = schema_guard.installed_head()
    try:
        revisions = read_revisions(database)
    except sqlite3.Error as error:
        return UpgradePlan(database, None, head, None, f"Its schema cannot be read: {error}.")
    if len(revisions) != 1:
        reason = f"its schema version table holds {len(revisions)} revisions instead of one."
        return UpgradePlan(database, None, head, None, NOT_UPGRADABLE.format(reason=reason))
    revision = revisions[0]
    refusal = _refusal(revision, head)
    if refusal is not None:
        return UpgradePlan(database, revision, head, None, refusal)
    return UpgradePlan(database, revision, head, backup_path(database, now))


def _refusal(revision: str, head: str) -> str | None:
    if revision == head:
        return ALREADY_WRITABLE
    parents = schema_guard.revision_parents()
    if revision not in parents:
        release = schema_guard.RELEASE_HEADS.get(revision, f"revision {revision}")
        return NEWER.format(release=release, head=schema_guard.RELEASE_HEADS.get(head, head))
    if not schema_guard.is_older(revision):
        reason = f"its revision {revision} is on another branch of MLflow's schema."
        return NOT_UPGRADABLE.format(reason=reason)
    return None


def backup_path(database: Path, now: datetime | None = None) -> Path:
    """A free name beside the database: ``mlflow.backup-20250131-142501.db``."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    suffix = database.suffix or ".db"
    candidate = database.with_name(f"{database.stem}.backup-{stamp}{suffix}")
    number = 2
    while candidate.exists():
        candidate = database.with_name(f"{database.stem}.backup-{stamp}-{number}{suffix}")
        number += 1
    return candidate


def upgrade_store(plan: UpgradePlan, state: TaskState | None = None) -> UpgradeResult:
    """Back up, migrate with MLflow's alembic scripts, verify; restore the backup on any failure."""
    if not plan.allowed or plan.database is None or plan.backup is None:
        raise ReadOnlyStore(plan.refusal or ALREADY_WRITABLE)
    database, backup = plan.database, plan.backup
    _progress(state, 0, f"Checking {database.name}")
    current = read_revisions(database)
    if current != [plan.from_revision]:
        raise UpgradeFailed(
            f"{database.name} changed since the upgrade was planned (its revision is now "
            f"{', '.join(current) or 'missing'}); nothing was changed."
        )
    before = row_counts(database)
    check(state)
    _progress(state, 1, f"Copying {database.name} to {backup.name}")
    _make_backup(database, backup, plan.from_revision, before)
    try:
        check(state)  # the last moment a cancel is honoured: migrations are not interruptible
    except BaseException:
        backup.unlink(missing_ok=True)
        raise
    _progress(state, 2, f"Running MLflow's migrations on {database.name}")
    try:
        migrate(database)
        _progress(state, 3, f"Verifying {database.name}")
        after = verify(database, plan.to_revision, before)
    except Exception as error:
        raise _restore_after(error, plan, before) from error
    _progress(state, STEPS, f"Upgraded {database.name}")
    return UpgradeResult(database, backup, plan.from_revision or "", plan.to_revision, after)


def _progress(state: TaskState | None, done: int, text: str) -> None:
    if state is not None:
        state.progress(done, STEPS, text)


def read_revisions(database: Path) -> list[str]:
    """The revisions in ``alembic_version`` (empty without that table), read-only."""
    with contextlib.closing(_read_only(database)) as connection:
        tables = {row[0] for row in connection.execute(_TABLES)}
        if "alembic_version" not in tables:
            return []
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    return sorted({str(row[0]) for row in rows if row[0]})


_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"


def row_counts(database: Path) -> dict[str, int]:
    """The number of rows in each table, read-only."""
    with contextlib.closing(_read_only(database)) as connection:
        names = sorted(row[0] for row in connection.execute(_TABLES))
        return {
            name: int(connection.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0])
            for name in names
        }


def _read_only(database: Path) -> sqlite3.Connection:
    from flowdeck.store.sql.engine import check_sqlite_file, sqlite_read_uri

    check_sqlite_file(database)
    return sqlite3.connect(sqlite_read_uri(database), uri=True, timeout=5.0)


def _make_backup(
    database: Path, backup: Path, revision: str | None, before: Mapping[str, int]
) -> None:
    """Copy with SQLite's backup API (a consistent snapshot even while others have it open)."""
    claimed = False
    try:
        with open(backup, "xb"):  # claims the name: never overwrite an existing file
            claimed = True
        with (
            contextlib.closing(_read_only(database)) as source,
            contextlib.closing(sqlite3.connect(backup)) as target,
        ):
            source.backup(target)
        copied = read_revisions(backup), row_counts(backup)
    except (OSError, sqlite3.Error) as error:
        if claimed:
            with contextlib.suppress(OSError):
                backup.unlink()
        raise UpgradeFailed(
            f"Could not copy {database.name} to {backup}: {error}. Nothing was changed."
        ) from error
    if copied != ([revision], dict(before)):
        backup.unlink(missing_ok=True)
        raise UpgradeFailed(f"The copy {backup} differs from {database.name}. Nothing was changed.")


def migrate(database: Path) -> None:
    """Run MLflow's migrations to its head, exactly as ``mlflow db upgrade`` does."""
    import sqlalchemy as sa
    from mlflow.store.db.utils import _upgrade_db
    from sqlalchemy.pool import NullPool

    engine = sa.create_engine(f"sqlite:///{database}", poolclass=NullPool)
    try:
        _upgrade_db(engine)
    finally:
        engine.dispose()


def verify(database: Path, revision: str, before: Mapping[str, int]) -> dict[str, int]:
    """Raise unless the database is at ``revision`` and every table of ``before`` kept its rows."""
    found = read_revisions(database)
    if found != [revision]:
        raise UpgradeFailed(
            f"After the migrations the revision is {', '.join(found) or 'missing'}, not {revision}."
        )
    after = row_counts(database)
    changed = [
        f"{table} ({count} → {after.get(table, 'gone')})"
        for table, count in before.items()
        if after.get(table) != count
    ]
    if changed:
        raise UpgradeFailed(
            f"After the migrations these tables lost or gained rows: {', '.join(changed)}."
        )
    return after


def _restore_after(error: Exception, plan: UpgradePlan, before: Mapping[str, int]) -> UpgradeFailed:
    """Put the backup back; the error to raise says whether that worked."""
    database, backup = plan.database, plan.backup
    assert database is not None and backup is not None
    cause = error.message if isinstance(error, WriteFailed) else _cause(error)
    try:
        restore(backup, database)
        verify(database, plan.from_revision or "", before)
    except Exception as restore_error:
        return UpgradeFailed(
            f"The upgrade of {database.name} failed ({cause}), and putting the backup back failed "
            f"too ({restore_error}). The backup is intact at {backup}: copy it over "
            f"{database} by hand.",
            detail=repr(error),
        )
    backup.unlink(missing_ok=True)
    return UpgradeFailed(
        f"The upgrade of {database.name} failed: {cause} The backup was put back: the database "
        "is as it was.",
        detail=repr(error),
    )


def _cause(error: Exception) -> str:
    """The driver's own words for a SQLAlchemy error (no SQL text), else the error itself."""
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return f"{type(original).__name__}: {text}."


def restore(backup: Path, database: Path) -> None:
    """Copy ``backup`` over ``database`` with SQLite's backup API, else by replacing the file."""
    try:
        with (
            contextlib.closing(_read_only(backup)) as source,
            contextlib.closing(sqlite3.connect(database, timeout=10.0)) as target,
        ):
            source.backup(target)
        return
    except sqlite3.Error:
        pass  # e.g. the failed migration left a file SQLite can no longer open
    temporary = database.with_name(f".{database.name}.restoring")
    temporary.write_bytes(backup.read_bytes())
    os.replace(temporary, database)
    for side in ("-journal", "-wal", "-shm"):  # they belong to the replaced file
        Path(f"{database}{side}").unlink(missing_ok=True)


def reopen(store: Any) -> str | None:
    """Forget what the store read of the old schema and check again whether it is writable."""
    close = getattr(store, "close", None)
    if callable(close):
        close()
    return schema_guard.recheck(store)
