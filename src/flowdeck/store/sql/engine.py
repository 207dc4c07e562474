"""Read-only SQLAlchemy engines for MLflow databases, with driver errors mapped to typed errors."""

from __future__ import annotations

import importlib.util
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from flowdeck.core.errors import (
    AuthenticationFailed,
    CorruptStore,
    FlowdeckError,
    PermissionDenied,
    StoreNotFound,
    StoreTimeout,
    StoreUnreachable,
    Unsupported,
)
from flowdeck.store.locations import sqlite_path

CONNECT_TIMEOUT_SECONDS = 10
# How long a SQLite read waits for another program's write lock before giving up.
SQLITE_BUSY_TIMEOUT_SECONDS = 5.0
SQLITE_HEADER = b"SQLite format 3\x00"
# Bytes 18 and 19 of the header (file format write/read version) are 2 in WAL mode.
WAL_VERSIONS = b"\x02\x02"
# Base classes of the errors each DBAPI driver raises, looked up among imported modules.
_DRIVER_ERRORS = (
    ("psycopg2", "Error"),
    ("psycopg", "Error"),
    ("pymysql", "MySQLError"),
    ("adbc_driver_manager", "Error"),
)


def parse_url(uri: str) -> URL:
    """The SQLAlchemy URL of a store URI; raises ``StoreNotFound`` for malformed text."""
    try:
        return make_url(uri)
    except ArgumentError as exc:
        raise StoreNotFound(f"'{uri}' is not a database address Flowdeck understands.") from exc


def display_name(uri: str) -> str:
    """A short label: the file name for SQLite, ``host/database`` otherwise."""
    url = parse_url(uri)
    if url.get_backend_name() == "sqlite":
        path = sqlite_path(uri)
        return path.name if path is not None else "in-memory SQLite"
    host = url.host or "localhost"
    port = f":{url.port}" if url.port else ""
    return f"{host}{port}/{url.database or ''}"


def create_read_engine(uri: str) -> Engine:
    """A small-pool engine whose connections can only read; connects once to check it works."""
    url = parse_url(uri)
    backend = url.get_backend_name()
    if backend == "sqlite":
        engine = _sqlite_engine(uri)
    elif backend == "postgresql":
        engine = _server_engine(
            _with_postgres_driver(url),
            {
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                "options": "-c default_transaction_read_only=on",
            },
        )
    elif backend in ("mysql", "mariadb"):
        engine = _server_engine(
            url,
            {
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                "init_command": "SET SESSION TRANSACTION READ ONLY",
            },
        )
    else:
        raise Unsupported(f"Flowdeck cannot read {backend} databases yet.")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1")).all()
    except DBAPIError as exc:
        engine.dispose()
        raise translate_error(exc, uri) from exc
    return engine


def _sqlite_engine(uri: str) -> Engine:
    path = sqlite_path(uri)
    if path is None:
        raise Unsupported("An in-memory SQLite database holds no MLflow data to read.")
    path = path.resolve()
    check_sqlite_file(path)
    file_uri = f"file:{quote(str(path))}?mode=ro"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(
            sqlite_read_uri(path),
            uri=True,
            check_same_thread=False,
            timeout=SQLITE_BUSY_TIMEOUT_SECONDS,
        )

    # No pool: each read opens a fresh connection, so ``sqlite_read_uri`` decides anew
    # whether the file can be read as immutable (see there).
    return create_engine(f"sqlite:///{file_uri}&uri=true", creator=connect, poolclass=NullPool)


def sqlite_read_uri(path: Path) -> str:
    """A read-only URI for the database file that leaves no ``-wal``/``-shm`` files behind.

    A WAL-mode file read with ``mode=ro`` makes SQLite create ``-wal`` and ``-shm`` beside it
    (and a read-only connection never removes them). When no ``-wal`` file exists, no program
    has the file open and every commit is in the main file, so it is read as ``immutable``:
    no locks, no side files. A writer that starts meanwhile writes into its own ``-wal``;
    ``sqlite_state`` lets the caller notice one that checkpointed during the read.
    """
    uri = f"file:{quote(str(path))}?mode=ro"
    if is_quiet_wal_file(path):
        uri += "&immutable=1"
    return uri


def is_quiet_wal_file(path: Path) -> bool:
    """True for a WAL-mode database file with no ``-wal`` file beside it."""
    return _is_wal_file(path) and not os.path.exists(f"{path}-wal")


def _is_wal_file(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            header = handle.read(20)
    except OSError:
        return False
    return header[18:20] == WAL_VERSIONS


def sqlite_state(path: Path) -> tuple[bool, int, int, int] | None:
    """(``-wal`` exists, inode, size, mtime) of a WAL-mode database file, else None.

    Two equal states around an immutable read prove that nothing wrote the file meanwhile.
    Rollback-journal files are read under SQLite's own locks and need no such proof (None).
    """
    if not _is_wal_file(path):
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return os.path.exists(f"{path}-wal"), stat.st_ino, stat.st_size, stat.st_mtime_ns


def check_sqlite_file(path: Path) -> None:
    """Refuse a missing file or one that does not start with the SQLite header."""
    if not path.is_file():
        raise StoreNotFound(f"There is no database file at {path}.")
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreNotFound(f"{path} cannot be read: {exc.strerror or exc}.") from exc
    if header and header != SQLITE_HEADER:
        raise CorruptStore(f"{path} is not an MLflow database: it is not a SQLite file.")


def _server_engine(url: URL, connect_args: dict[str, object]) -> Engine:
    try:
        engine = create_engine(
            url,
            connect_args=connect_args,
            pool_size=2,
            max_overflow=2,
            pool_pre_ping=True,
            pool_recycle=1800,
        )
    except (NoSuchModuleError, ImportError) as exc:
        raise Unsupported(
            f"The database driver for '{url.drivername}' is not installed: {exc}"
        ) from exc
    return engine


def client_uri(uri: str) -> str:
    """The URI to give MLflow's own client: PostgreSQL with the driver that is installed."""
    if not uri.startswith("postgresql:") and not uri.startswith("postgres:"):
        return uri
    return _with_postgres_driver(parse_url(uri)).render_as_string(hide_password=False)


def _with_postgres_driver(url: URL) -> URL:
    """Use psycopg2 for a plain ``postgresql://`` URL (MLflow's driver) unless psycopg 3 is all."""
    if url.drivername != "postgresql":
        return url
    if importlib.util.find_spec("psycopg2") is None and importlib.util.find_spec("psycopg"):
        return url.set(drivername="postgresql+psycopg")
    return url.set(drivername="postgresql+psycopg2")


def translate_error(exc: BaseException, uri: str) -> FlowdeckError:
    """A typed, user-readable error for a driver failure while connecting or reading."""
    where = display_name(uri)
    original = getattr(exc, "orig", exc)
    message = str(original).strip()
    lowered = message.lower()
    code = _mysql_code(original)

    if isinstance(original, sqlite3.DatabaseError) and (
        "not a database" in lowered or "malformed" in lowered or "encrypted" in lowered
    ):
        path = sqlite_path(uri)
        return CorruptStore(f"{path} is not an MLflow database: {message}.", detail=message)
    if isinstance(original, sqlite3.OperationalError) and "unable to open" in lowered:
        return StoreNotFound(f"The database file {sqlite_path(uri)} cannot be opened.")
    if "database is locked" in lowered or "database table is locked" in lowered:
        return StoreTimeout(
            f"The database {where} is locked by another program; try again in a moment.",
            detail=message,
        )
    if code == 1045 or "password authentication failed" in lowered or "access denied" in lowered:
        if code in (1044, 1142) or "command denied" in lowered:
            return PermissionDenied(f"The database user may not read {where}.", detail=message)
        return AuthenticationFailed(
            f"The database at {where} refused the user name or password.", detail=message
        )
    if code in (1044, 1142) or "permission denied" in lowered:
        return PermissionDenied(f"The database user may not read {where}.", detail=message)
    if (
        code in (1054, 1146)
        or any(
            phrase in lowered
            for phrase in ("no such column", "no such table", "unknown column", "undefined column")
        )
        or (("column " in lowered or "relation " in lowered) and "does not exist" in lowered)
    ):
        return CorruptStore(
            f"{where} is damaged or not a complete MLflow database: {message}.", detail=message
        )
    if code == 1049 or ("database" in lowered and "does not exist" in lowered):
        return StoreNotFound(f"There is no database named '{parse_url(uri).database}' at {where}.")
    if "timeout" in lowered or "timed out" in lowered:
        return StoreTimeout(f"The database at {where} did not answer in time.", detail=message)
    if code in (2002, 2003, 2005, 2006, 2013) or any(
        phrase in lowered
        for phrase in (
            "connection refused",
            "could not connect",
            "can't connect",
            "could not translate host name",
            "name or service not known",
            "no route to host",
            "server closed the connection",
            "connection to server",
        )
    ):
        return StoreUnreachable(f"The database at {where} cannot be reached.", detail=message)
    return CorruptStore(f"Reading {where} failed: {message}", detail=message)


def driver_errors() -> tuple[type[BaseException], ...]:
    """SQLAlchemy's wrapped errors and the raw DBAPI errors of every driver in use.

    A raw cursor (metric histories) and the ADBC reader raise the driver's own classes; a
    driver that raised one is imported, so ``sys.modules`` is enough to find them.
    """
    found: list[type[BaseException]] = [DBAPIError, sqlite3.Error]
    for module_name, class_name in _DRIVER_ERRORS:
        module = sys.modules.get(module_name)
        error_class = getattr(module, class_name, None) if module is not None else None
        if isinstance(error_class, type) and issubclass(error_class, BaseException):
            found.append(error_class)
    return tuple(found)


@contextmanager
def translated_errors(uri: str) -> Iterator[None]:
    """Re-raise driver errors from the block as typed errors (``translate_error``)."""
    try:
        yield
    except FlowdeckError:
        raise
    except Exception as exc:
        if not isinstance(exc, driver_errors()):
            raise
        raise translate_error(exc, uri) from exc


def _mysql_code(error: BaseException) -> int | None:
    args = getattr(error, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    return None
