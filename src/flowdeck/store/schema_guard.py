"""Decide whether Flowdeck may edit a store, and say why not in plain words."""

from __future__ import annotations

import ast
import importlib.util
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

# Head revision of each MLflow release (reference/mlflow-formats.md §1.1).
RELEASE_HEADS: dict[str, str] = {
    "97727af70f4d": "1.30 or 2.2",
    "7f2a7d5fae7d": "2.7",
    "acf3f17fdcc7": "2.8",
    "5b0e9adcef9c": "2.13 or 2.14",
    "0584bdc529eb": "2.22",
    "6953534de441": "3.0",
    "770bee3ae1dd": "3.2",
    "71994744cf8e": "3.4",
    "bf29a5ff90ea": "3.6",
    "1bd49d398cd23": "3.8",
    "1b5f0d9ad7c1": "3.10",
    "7d34483879f0": "3.12",
    "b7e4c1a90f23": "3.14",
    "b7e2c1a4d9f3": "3.16",
    "dc11669786a5": "3.17",
    "f4a9b2c7d1e6": "3.18",
}

NEVER_UPGRADES = (
    "editing would need a schema upgrade, which Flowdeck does not do to a database server: "
    "open its tracking server's URL instead."
)
UPGRADE_HINT = "to edit it, upgrade it with File → Make Store Writable… (a backup is kept)."
READ_NOT_EDIT = "Flowdeck can read it but not edit it."

# Keys MLflow's file store writes into an experiment's meta.yaml (1.x to 3.18).
KNOWN_EXPERIMENT_KEYS = frozenset(
    {
        "artifact_location",
        "creation_time",
        "experiment_id",
        "last_update_time",
        "lifecycle_stage",
        "name",
        "tags",
        "workspace",
        "trace_location",
        "effective_trace_archival_retention",
    }
)


def migrations_folder() -> Path:
    """MLflow's alembic folder, found without importing MLflow."""
    spec = importlib.util.find_spec("mlflow")
    if spec is None or spec.origin is None:
        raise RuntimeError("MLflow is not installed.")
    return Path(spec.origin).parent / "store" / "db_migrations"


@lru_cache(maxsize=1)
def revision_parents() -> dict[str, tuple[str, ...]]:
    """Every revision of the installed MLflow mapped to its down revisions.

    Read from the migration scripts' source text (no import, so no 3 s MLflow import and
    no database): the same graph ``alembic.script.ScriptDirectory`` builds.
    """
    parents: dict[str, tuple[str, ...]] = {}
    for script in sorted((migrations_folder() / "versions").glob("*.py")):
        values = _module_constants(script, ("revision", "down_revision"))
        revision = values.get("revision")
        if not isinstance(revision, str):
            continue
        down = values.get("down_revision")
        if down is None:
            parents[revision] = ()
        elif isinstance(down, str):
            parents[revision] = (down,)
        else:
            parents[revision] = tuple(down)
    return parents


def _module_constants(script: Path, names: tuple[str, ...]) -> dict[str, Any]:
    """Top-level ``name = literal`` assignments of ``script``.

    Only the assignment statements are parsed, not the whole module: parsing all 68 scripts
    whole holds the GIL for ~150 ms, a visible stall when a store opens on a worker thread."""
    lines = script.read_text(encoding="utf-8").splitlines()
    found: dict[str, Any] = {}
    for start, line in enumerate(lines):
        if not line.startswith(names):
            continue
        for end in range(start + 1, min(start + 30, len(lines)) + 1):
            try:
                tree = ast.parse("\n".join(lines[start:end]))
            except SyntaxError:
                continue  # a bracket still open: take the next line too
            found.update(_assigned_literals(tree, names))
            break
    return found


def _assigned_literals(tree: ast.Module, names: tuple[str, ...]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in names:
                found[target.id] = ast.literal_eval(value)
    return found


@lru_cache(maxsize=1)
def installed_head() -> str:
    """The alembic head revision of the installed MLflow (``dc11669786a5`` for 3.17.2)."""
    parents = revision_parents()
    referenced = {parent for ups in parents.values() for parent in ups}
    heads = sorted(set(parents) - referenced)
    if len(heads) != 1:
        raise RuntimeError(f"MLflow's migrations have {len(heads)} heads: {heads}")
    return heads[0]


def _ancestors(revision: str) -> set[str]:
    parents = revision_parents()
    seen: set[str] = set()
    pending = list(parents.get(revision, ()))
    while pending:
        current = pending.pop()
        if current not in seen:
            seen.add(current)
            pending.extend(parents.get(current, ()))
    return seen


def is_older(revision: str) -> bool:
    """True for a revision the installed MLflow's migrations can upgrade to its head."""
    return revision in _ancestors(installed_head())


def describe_revision(revision: str, local_file: bool = False) -> str | None:
    """Why a database at ``revision`` is read-only; None when it is the installed head.

    An older local file (``local_file``) can be upgraded with the user's consent."""
    head = installed_head()
    if revision == head:
        return None
    parents = revision_parents()
    if revision not in parents:
        release = RELEASE_HEADS.get(revision)
        label = f"{release}, revision {revision}" if release else f"revision {revision}"
        return f"Written by a newer MLflow ({label}); {READ_NOT_EDIT}"
    if revision not in _ancestors(head):
        return (
            f"Written by a different branch of MLflow's schema (revision {revision}); "
            f"{READ_NOT_EDIT}"
        )
    hint = UPGRADE_HINT if local_file else NEVER_UPGRADES
    return f"Written by an older MLflow ({release_of(revision)}); {hint}"


def release_of(revision: str) -> str:
    """The MLflow release(s) whose head ``revision`` is, e.g. '2.22' or 'between 3.10 and 3.12'."""
    return RELEASE_HEADS.get(revision) or _releases_around(revision)


def _releases_around(revision: str) -> str:
    """'between 3.10 and 3.12' for a revision that was no release's head."""
    older_ancestors = _ancestors(revision)
    before = [rel for rev, rel in RELEASE_HEADS.items() if rev in older_ancestors]
    after = [
        rel
        for rev, rel in RELEASE_HEADS.items()
        if rev in revision_parents() and revision in _ancestors(rev)
    ]
    if before and after:
        return f"between {before[-1]} and {after[0]}"
    if after:
        return f"before {after[0]}"
    return f"revision {revision}"


def sql_read_only_reason(store: Any) -> str | None:
    """Compare the database's ``alembic_version`` with the installed head, read-only.

    ``store`` is any object with a read-only SQLAlchemy ``engine``. Whether the database
    user may write is not checked: a denied write surfaces as ``WriteFailed``.
    """
    import sqlalchemy as sa

    from flowdeck.core.errors import CorruptStore, StoreUnreachable

    mirror = getattr(store, "mirror", None)
    if mirror is not None:
        return mirror.read_only_reason()
    try:
        with store.engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return (
                    "Not an MLflow-managed schema, or one written by a very old MLflow "
                    f"(no alembic_version table); {READ_NOT_EDIT}"
                )
            rows = connection.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    except sa.exc.OperationalError as error:
        raise StoreUnreachable(
            "The database could not be opened to read its schema version.", detail=str(error)
        ) from error
    except sa.exc.DatabaseError as error:
        raise CorruptStore(
            "The database's schema version could not be read.", detail=str(error)
        ) from error
    except sa.exc.SQLAlchemyError as error:
        raise StoreUnreachable(
            "The database could not be reached to read its schema version.", detail=str(error)
        ) from error
    versions = sorted({str(row[0]) for row in rows if row[0]})
    if len(versions) != 1:
        return (
            f"The schema version table holds {len(versions)} revisions instead of one; "
            f"{READ_NOT_EDIT}"
        )
    local_file = store.engine.url.get_backend_name() == "sqlite"
    return describe_revision(versions[0], local_file=local_file)


def file_store_root(store: Any) -> Path:
    """The mlruns folder behind a file store object."""
    root = getattr(store, "root", None) or getattr(store, "location", None)
    text = os.fspath(root)
    if text.startswith("file://"):
        from urllib.parse import unquote, urlparse

        text = unquote(urlparse(text).path)
    return Path(text)


def file_read_only_reason(store: Any) -> str | None:
    """Writable through MLflow's FileStore when the user may write and the format is known."""
    root = file_store_root(store)
    if not root.is_dir():
        return f"The folder {root} does not exist."
    if not _writable(root):
        return f"The folder {root} is read-only (no write permission)."
    for meta in sorted(root.glob("*/meta.yaml")):
        if not meta.parent.name.isdigit():
            continue
        if not _writable(meta.parent):
            return f"The folder {meta.parent} is read-only (no write permission)."
        unknown = _unknown_experiment_keys(meta)
        if unknown:
            keys = ", ".join(sorted(unknown))
            return f"Written by a newer MLflow (unknown fields {keys} in {meta}); {READ_NOT_EDIT}"
    return None


def _writable(folder: Path) -> bool:
    """Writable by this user, on a writable mount, and not marked read-only for everyone.

    The last check matters for root, whom ``os.access`` lets write anywhere.
    """
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    if folder.stat().st_mode & 0o222 == 0:
        return False
    if not hasattr(os, "statvfs"):  # Windows
        return True
    return not os.statvfs(folder).f_flag & os.ST_RDONLY


def _unknown_experiment_keys(meta: Path) -> set[str]:
    try:
        content = yaml.safe_load(meta.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return set()  # a damaged file is the reader's concern; MLflow reports it on write
    if not isinstance(content, dict):
        return set()
    return set(map(str, content)) - KNOWN_EXPERIMENT_KEYS


def rest_read_only_reason(store: Any) -> str | None:
    """A tracking server applies its own rules; Flowdeck never blocks writes to it."""
    return None


def read_only_reason(store: Any) -> str | None:
    """The guard for any store, chosen by ``store.kind``."""
    kind = getattr(store, "kind", "")
    if kind == "sql":
        return sql_read_only_reason(store)
    if kind == "files":
        return file_read_only_reason(store)
    if kind == "rest":
        return rest_read_only_reason(store)
    return getattr(store, "read_only_reason", "This kind of store is read-only in Flowdeck.")


def recheck(store: Any) -> str | None:
    """Read the guard again now and update the reason the store remembers (it may have changed:
    someone migrated the database, or fixed a folder, while it was open)."""
    reason = read_only_reason(store)
    if "read_only_reason" in getattr(store, "__dict__", {}):  # a cached_property's stored value
        store.__dict__["read_only_reason"] = reason
    return reason
