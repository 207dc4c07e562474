"""Resolve a user-given location (path or URI) to a backend kind and a normalised location."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from flowdeck.core.errors import StoreNotFound, Unsupported
from flowdeck.core.redact import redact_location

SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mssql")


@dataclass(frozen=True)
class ResolvedLocation:
    """What ``open_store`` connects to."""

    kind: str  # "sql", "files" or "rest"
    uri: str  # SQLAlchemy URL, folder path, or server base URL


def default_location(cwd: Path | None = None) -> str:
    """The location MLflow itself would pick: ``MLFLOW_TRACKING_URI``, ./mlruns, ./mlflow.db."""
    env = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if env:
        return env
    cwd = (cwd or Path.cwd()).resolve()
    mlruns = cwd / "mlruns"
    if mlruns.is_dir() and any(
        child.name.isdigit() and (child / "meta.yaml").is_file() for child in mlruns.iterdir()
    ):
        return str(mlruns)
    return f"sqlite:///{cwd / 'mlflow.db'}"


def resolve_location(location: str | os.PathLike[str] | None) -> ResolvedLocation:
    """Classify a location; raises ``StoreNotFound`` / ``Unsupported`` in plain words."""
    text = default_location() if location is None else os.fspath(location).strip()
    if not text:
        text = default_location()
    parsed = urlparse(text)
    scheme = parsed.scheme.lower()
    if len(scheme) == 1:  # a Windows drive letter, not a scheme
        scheme = ""
    base_scheme = scheme.split("+", 1)[0]

    if scheme in ("http", "https"):
        return ResolvedLocation("rest", text.rstrip("/"))
    if base_scheme in SQL_SCHEMES:
        if base_scheme == "postgres":
            text = "postgresql" + text[len("postgres") :]
        if base_scheme == "mysql" and "+" not in scheme:
            text = "mysql+pymysql" + text[len("mysql") :]
        if base_scheme == "sqlite":
            _check_sqlite_path(text)
        return ResolvedLocation("sql", text)
    if scheme == "file":
        return _resolve_path(Path(unquote(parsed.path)))
    if scheme.startswith("databricks"):
        raise Unsupported(
            "Databricks workspaces are not supported yet: export the experiments or use "
            "an offline copy."
        )
    if scheme:
        raise StoreNotFound(f"Flowdeck does not know how to open '{redact_location(text)}'.")
    return _resolve_path(Path(text).expanduser())


def _resolve_path(path: Path) -> ResolvedLocation:
    path = path.resolve()
    if path.is_dir():
        return ResolvedLocation("files", str(path))
    if path.is_file():
        return ResolvedLocation("sql", f"sqlite:///{path}")
    if path.suffix.lower() in (".db", ".sqlite", ".sqlite3"):
        raise StoreNotFound(f"There is no database file at {path}.")
    raise StoreNotFound(f"There is no MLflow store at {path}.")


def _check_sqlite_path(uri: str) -> None:
    path = sqlite_path(uri)
    if path is not None and not path.is_file():
        raise StoreNotFound(f"There is no database file at {path}.")


def sqlite_path(uri: str) -> Path | None:
    """The file behind a ``sqlite:///`` URI (None for in-memory databases)."""
    rest = uri.split(":", 1)[1]
    if rest.startswith("///"):
        raw = rest[3:]
        if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
            return Path(raw.split("?", 1)[0])
        return Path(raw.split("?", 1)[0]).resolve()
    if rest in ("//", "//:memory:"):
        return None
    return Path(rest.lstrip("/").split("?", 1)[0])
