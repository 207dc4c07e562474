"""SQL backend: MLflow tracking databases (SQLite, PostgreSQL, MySQL/MariaDB), read-only."""

from flowdeck.store.sql.store import SqlStore

__all__ = ["SqlStore"]
