"""Session fixtures for the SQL backend tests: a small SQLite store written by real MLflow."""

from __future__ import annotations

import pytest
from sql_store_data import WrittenStore, write_store


@pytest.fixture(scope="session")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> WrittenStore:
    folder = tmp_path_factory.mktemp("sqlstore")
    return write_store(f"sqlite:///{folder / 'mlflow.db'}", folder / "artifacts")
