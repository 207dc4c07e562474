"""The schema guard: only a database at the installed MLflow head is writable."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from tests.helpers.realworld import REALWORLD
from writer_stores import copy_template, files_template, sqlite_template

from flowdeck.core.errors import ReadOnlyStore
from flowdeck.store import open_store, schema_guard
from flowdeck.store.writer import StoreWriter


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_only(path: Path) -> SimpleNamespace:
    engine = sa.create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    )
    return SimpleNamespace(engine=engine)


def test_installed_head_matches_mlflow_and_alembic() -> None:
    from alembic.script import ScriptDirectory
    from mlflow.store.db.utils import _get_latest_schema_revision

    assert schema_guard.installed_head() == "dc11669786a5"
    assert schema_guard.installed_head() == _get_latest_schema_revision()
    scripts = ScriptDirectory(str(schema_guard.migrations_folder()))
    graph = {
        script.revision: (
            (script.down_revision,)
            if isinstance(script.down_revision, str)
            else tuple(script.down_revision or ())
        )
        for script in scripts.walk_revisions()
    }
    assert schema_guard.revision_parents() == graph


def test_database_at_head_is_writable(tmp_path: Path) -> None:
    path = copy_template(sqlite_template(), tmp_path)
    assert schema_guard.sql_read_only_reason(_read_only(path)) is None
    assert open_store(path).read_only_reason is None


def test_downgraded_database_is_older_and_never_touched(tmp_path: Path) -> None:
    from alembic import command
    from mlflow.store.db.utils import _get_alembic_config

    path = copy_template(sqlite_template(), tmp_path)
    command.downgrade(_get_alembic_config(f"sqlite:///{path}"), "-2")
    revision = sqlite3.connect(path).execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision[0] != schema_guard.installed_head()

    reason = schema_guard.sql_read_only_reason(_read_only(path))
    assert reason is not None and reason.startswith("Written by an older MLflow")
    assert "Make Store Writable" in reason  # only with consent, never silently

    before = _digest(path)
    store = open_store(path)
    with pytest.raises(ReadOnlyStore, match="older MLflow"):
        store.writer()
    writer = StoreWriter(store)  # even when built directly, every write is refused
    with pytest.raises(ReadOnlyStore, match="older MLflow"):
        writer.create_experiment("should-not-exist")
    with pytest.raises(ReadOnlyStore):
        writer.set_run_tags(list(sqlite_template().run_ids), {"k": "v"})
    store.close()
    assert _digest(path) == before


def test_unknown_revision_is_a_newer_mlflow(tmp_path: Path) -> None:
    path = copy_template(sqlite_template(), tmp_path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'abcdef123456'")
    reason = schema_guard.sql_read_only_reason(_read_only(path))
    assert reason == (
        "Written by a newer MLflow (revision abcdef123456); Flowdeck can read it but not edit it."
    )


def test_known_release_heads_are_named() -> None:
    assert schema_guard.describe_revision("bf29a5ff90ea") == (
        "Written by an older MLflow (3.6); editing would need a schema upgrade, which Flowdeck "
        "does not do to a database server: open its tracking server's URL instead."
    )
    assert schema_guard.describe_revision("bf29a5ff90ea", local_file=True) == (
        "Written by an older MLflow (3.6); to edit it, upgrade it with "
        "File → Make Store Writable… (a backup is kept)."
    )
    assert "3.18" in (schema_guard.describe_revision("f4a9b2c7d1e6") or "")
    assert "newer" in (schema_guard.describe_revision("f4a9b2c7d1e6") or "")
    parent = schema_guard.revision_parents()[schema_guard.installed_head()][0]
    assert "between 3.16 and 3.17" in (schema_guard.describe_revision(parent) or "")


def test_database_without_alembic_table(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE experiments (experiment_id INTEGER)")
    reason = schema_guard.sql_read_only_reason(_read_only(path))
    assert reason is not None and "Not an MLflow-managed schema" in reason


@pytest.mark.skipif(not REALWORLD.is_dir(), reason="real-world stores are not available")
def test_realworld_mlflow_36_database_is_read_only(tmp_path: Path) -> None:
    source = REALWORLD / "housing-2025-sqlite" / "mlflow.db"
    path = tmp_path / "mlflow.db"
    shutil.copyfile(source, path)
    store = open_store(path)
    assert store.read_only_reason == (
        "Written by an older MLflow (3.6); to edit it, upgrade it with "
        "File → Make Store Writable… (a backup is kept)."
    )
    store.close()
    assert _digest(path) == _digest(source)


def test_file_store_guard(tmp_path: Path) -> None:
    path = copy_template(files_template(), tmp_path)
    assert schema_guard.file_read_only_reason(SimpleNamespace(location=str(path))) is None

    meta = path / files_template().experiment_id / "meta.yaml"
    meta.write_text(meta.read_text() + "storage_format: 7\n")
    reason = schema_guard.file_read_only_reason(SimpleNamespace(location=f"file://{path}"))
    assert reason is not None and "newer MLflow" in reason and "storage_format" in reason


@pytest.mark.skipif(not REALWORLD.is_dir(), reason="real-world stores are not available")
def test_unwritable_folder_is_read_only() -> None:
    folder = REALWORLD / "genre-2021-files" / "mlruns"
    reason = schema_guard.file_read_only_reason(SimpleNamespace(location=str(folder)))
    assert reason == f"The folder {folder} is read-only (no write permission)."


def test_rest_stores_are_never_blocked() -> None:
    assert schema_guard.rest_read_only_reason(SimpleNamespace()) is None
