"""A PostgreSQL table the database user may not read gives PermissionDenied, never a raw error."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.store.damaged_store_data import assert_plain, write_store

from flowdeck.core.errors import PermissionDenied
from flowdeck.store import open_store


def _postgres_in(database: str, *statements: str) -> None:
    import psycopg2
    from tests.helpers.databases import POSTGRES_ADMIN

    connection = psycopg2.connect(connect_timeout=5, **{**POSTGRES_ADMIN, "dbname": database})
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        connection.close()


@pytest.mark.slow
@pytest.mark.postgres
def test_a_postgres_table_the_user_may_not_read_is_permission_denied(tmp_path: Path) -> None:
    from tests.helpers import databases

    reason = databases.postgres_unreachable_reason()
    if reason:
        pytest.skip(reason)
    name = databases.unique_database_name()
    role = f"{name}_reader"
    url = databases.create_postgres_database(name)
    store = None
    try:
        written = write_store(url, tmp_path / "postgres")
        _postgres_in("postgres", f'CREATE ROLE "{role}" LOGIN')
        _postgres_in(
            name,
            f'GRANT USAGE ON SCHEMA public TO "{role}"',
            f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"',
            f'REVOKE SELECT ON metrics FROM "{role}"',
        )
        store = open_store(f"postgresql://{role}@127.0.0.1:5432/{name}")
        assert list(store.runs([written.experiment_id])["run_id"]) == [written.run_id]
        for read in (
            lambda: store.metric_history([written.run_id], ["loss"]),
            lambda: store.metric_summaries([written.run_id]),
        ):
            with pytest.raises(PermissionDenied) as caught:
                read()
            assert type(caught.value) is PermissionDenied
            assert_plain(caught.value)
    finally:
        if store is not None:
            store.close()
        databases.drop_postgres_database(name)
        _postgres_in("postgres", f'DROP ROLE IF EXISTS "{role}"')
