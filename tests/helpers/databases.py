"""Create and drop throw-away PostgreSQL / MariaDB databases for one test session."""

from __future__ import annotations

import contextlib
import uuid

POSTGRES_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
MYSQL_ADMIN = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


def unique_database_name(prefix: str = "flowdeck_test") -> str:
    """A database name no other session uses, e.g. ``flowdeck_test_3f9a1c2b7d``."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def postgres_unreachable_reason() -> str | None:
    """None when the PostgreSQL server answers; otherwise why it does not."""
    import psycopg2

    try:
        psycopg2.connect(connect_timeout=3, **POSTGRES_ADMIN).close()
    except psycopg2.Error as error:
        return f"PostgreSQL on 127.0.0.1:5432 is unreachable: {str(error).strip()}"
    return None


def create_postgres_database(name: str) -> str:
    """Create an empty database; returns its SQLAlchemy URL (psycopg2: SQLAlchemy 2.1 would
    otherwise pick psycopg 3, which is not installed)."""
    _postgres_admin(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"


def drop_postgres_database(name: str) -> None:
    """Drop the database, disconnecting whoever still uses it."""
    _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_admin(statement: str) -> None:
    import psycopg2

    connection = psycopg2.connect(connect_timeout=5, **POSTGRES_ADMIN)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def mysql_unreachable_reason() -> str | None:
    """None when the MariaDB/MySQL server answers; otherwise why it does not."""
    import pymysql

    try:
        pymysql.connect(connect_timeout=3, **MYSQL_ADMIN).close()
    except pymysql.MySQLError as error:
        return f"MariaDB/MySQL on 127.0.0.1:3306 is unreachable: {error}"
    return None


def create_mysql_database(name: str) -> str:
    """Create an empty utf8mb4 database; returns its SQLAlchemy URL."""
    _mysql_admin(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    return f"mysql+pymysql://root@127.0.0.1:3306/{name}"


def drop_mysql_database(name: str) -> None:
    """Drop the database, killing connections still open on it (pooled ones included)."""
    _mysql_admin(f"DROP DATABASE IF EXISTS `{name}`", kill_users_of=name)


def _mysql_admin(statement: str, kill_users_of: str | None = None) -> None:
    import pymysql

    connection = pymysql.connect(connect_timeout=5, autocommit=True, **MYSQL_ADMIN)
    try:
        with connection.cursor() as cursor:
            if kill_users_of:
                cursor.execute(
                    "SELECT id FROM information_schema.processlist "
                    "WHERE db = %s AND id <> CONNECTION_ID()",
                    (kill_users_of,),
                )
                for (thread_id,) in cursor.fetchall():
                    with contextlib.suppress(pymysql.MySQLError):
                        cursor.execute(f"KILL {int(thread_id)}")
            cursor.execute(statement)
    finally:
        connection.close()
