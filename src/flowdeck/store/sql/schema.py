"""Which MLflow tables and columns a database has, and its alembic revision (read once)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import column, inspect, table, text
from sqlalchemy.engine import Engine
from sqlalchemy.sql.expression import TableClause

from flowdeck.core.errors import StoreNotFound

# Tables every MLflow tracking database has had since 1.x.
CORE_TABLES = ("experiments", "runs", "metrics", "params", "tags")

T = TypeVar("T")


@dataclass(frozen=True)
class SqlSchema:
    """The tables (with their column names) and the alembic revision of one database."""

    columns: dict[str, frozenset[str]] = field(default_factory=dict)
    revision: str | None = None

    def has_table(self, name: str) -> bool:
        return name in self.columns

    def has_column(self, table: str, column: str) -> bool:
        return column in self.columns.get(table, frozenset())

    def present_table(self, name: str, *column_names: str) -> TableClause:
        """``table_of`` with only those of the columns this database has."""
        return table_of(name, *(c for c in column_names if self.has_column(name, c)))

    @property
    def workspaces(self) -> bool:
        """True when the database has MLflow 3.10+ workspace columns."""
        return self.has_column("experiments", "workspace")


def read_schema(engine: Engine, where: str) -> SqlSchema:
    """Inspect the database once; raises ``StoreNotFound`` when it has no MLflow tables."""
    inspector = inspect(engine)
    table_names = inspector.get_table_names()
    if not table_names:
        raise StoreNotFound(f"{where} is empty: it holds no MLflow tables.")
    missing = [name for name in CORE_TABLES if name not in table_names]
    if missing:
        raise StoreNotFound(
            f"{where} is not an MLflow tracking database: it has no "
            f"{', '.join(missing)} table{'s' if len(missing) > 1 else ''}."
        )
    multi = inspector.get_multi_columns()
    columns = {
        table: frozenset(column["name"] for column in table_columns)
        for (_schema, table), table_columns in multi.items()
    }
    return SqlSchema(columns=columns, revision=_revision(engine, columns))


def _revision(engine: Engine, columns: dict[str, frozenset[str]]) -> str | None:
    if "version_num" not in columns.get("alembic_version", frozenset()):
        return None
    with engine.connect() as connection:
        row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row else None


def table_of(name: str, *column_names: str) -> TableClause:
    """A lightweight table construct (identifiers quoted per dialect, no reflection)."""
    return table(name, *(column(col) for col in column_names))


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most ``size`` items (keeps IN lists under driver limits)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
