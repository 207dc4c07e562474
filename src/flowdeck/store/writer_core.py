"""The guarded heart of the writer: schema check before every write, one MLflow client."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from flowdeck.core.errors import FlowdeckError, NotFound, ReadOnlyStore, WriteFailed
from flowdeck.store import schema_guard

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

    from flowdeck.store.base import Store

T = TypeVar("T")

NOT_FOUND_CODES = frozenset({"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "ENDPOINT_NOT_FOUND"})
FILE_STORE_FLAG = "MLFLOW_ALLOW_FILE_STORE"
# MLflow's own variable for the artifact root a SQL store hands to new experiments.
ARTIFACT_ROOT_VARIABLE = "_MLFLOW_SERVER_ARTIFACT_ROOT"
_environment_lock = threading.Lock()


@dataclass(frozen=True)
class Change:
    """What one write changed, so views can decide whether to refresh.

    ``kind`` is experiment, run, registered_model, model_version or trace; ``ids`` name the
    entities (a model version is ``"<name>/<version>"``); ``action`` is the verb.
    """

    kind: str
    ids: tuple[str, ...]
    action: str

    @property
    def id(self) -> str:
        """The single id of a one-entity change (the new id after a create)."""
        if len(self.ids) != 1:
            raise ValueError(f"This change touched {len(self.ids)} entities, not one.")
        return self.ids[0]


def translate_mlflow_error(error: Exception, doing: str) -> FlowdeckError:
    """A readable Flowdeck error for an exception MLflow's client raised."""
    from mlflow.exceptions import MlflowException

    if isinstance(error, FlowdeckError):
        return error
    if isinstance(error, MlflowException):
        message = f"Could not {doing}: {error.message}"
        if error.error_code in NOT_FOUND_CODES:
            return NotFound(message, detail=error.error_code)
        return WriteFailed(message, detail=error.error_code)
    return WriteFailed(f"Could not {doing}: {error}", detail=repr(error))


@contextmanager
def _temporary_environment(values: dict[str, str]) -> Iterator[None]:
    with _environment_lock:
        previous = {name: os.environ.get(name) for name in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for name, value in previous.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


class WriterCore:
    """Owns the guard and the lazily created ``MlflowClient`` shared by all write methods."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._client: MlflowClient | None = None
        self._client_lock = threading.Lock()

    # --- guard -----------------------------------------------------------------------------

    def read_only_reason(self) -> str | None:
        """Re-read the store's schema now; someone may have migrated it meanwhile."""
        return schema_guard.read_only_reason(self.store)

    def ensure_writable(self) -> None:
        """Raise ``ReadOnlyStore`` with the reason before anything is touched."""
        reason = self.read_only_reason()
        if reason:
            raise ReadOnlyStore(reason)

    # --- client --------------------------------------------------------------------------------

    @property
    def client(self) -> MlflowClient:
        """MLflow's client for this store, created once, only after the guard passed."""
        with self._client_lock:
            if self._client is None:
                self._client = self._create_client()
            return self._client

    def _create_client(self) -> MlflowClient:
        from mlflow.tracking import MlflowClient

        uri = self.store.tracking_uri
        environment: dict[str, str] = {}
        if self.store.kind == "files":
            environment[FILE_STORE_FLAG] = "true"
        if self.store.kind == "sql":
            root = self._sql_artifact_root()
            if root:
                environment[ARTIFACT_ROOT_VARIABLE] = root
        with _temporary_environment(environment):
            client = MlflowClient(tracking_uri=uri, registry_uri=uri)
            if self.store.kind != "rest":
                # Both stores are built now, while the environment above is in effect.
                client._get_registry_client().store  # noqa: B018
        if self.store.kind == "files":
            return GlobalUriClient(client, uri)  # type: ignore[return-value]
        return client

    def _sql_artifact_root(self) -> str | None:
        """Where MLflow put the Default experiment's artifacts: new experiments go beside it."""
        engine = getattr(self.store, "engine", None)
        if engine is None:
            return None
        import sqlalchemy as sa

        query = sa.text("SELECT artifact_location FROM experiments WHERE experiment_id = 0")
        try:
            with engine.connect() as connection:
                location = connection.execute(query).scalar()
        except sa.exc.SQLAlchemyError:
            return None
        if isinstance(location, str) and location.rstrip("/").endswith("/0"):
            return location.rstrip("/")[: -len("/0")]
        return None

    # --- running writes ------------------------------------------------------------------------

    def write(self, doing: str, action: Callable[[], T]) -> T:
        """Guard, then run ``action`` against the client, translating MLflow's errors."""
        self.ensure_writable()
        return self.call(doing, action)

    def call(self, doing: str, action: Callable[[], T]) -> T:
        """Run ``action`` with MLflow's errors translated (no guard: for reads and checks)."""
        try:
            return action()
        except FlowdeckError:
            raise
        except Exception as error:  # MLflow raises MlflowException and plain errors alike
            raise translate_mlflow_error(error, doing) from error

    # --- validation helpers for bulk operations -------------------------------------------------

    def require_all(self, what: str, ids: list[str], exists: Callable[[str], Any]) -> list[Any]:
        """Look every id up first; raise ``NotFound`` naming all unknown ones, writing nothing."""
        from mlflow.exceptions import MlflowException

        if not ids:
            raise WriteFailed(f"No {what}s were given.")
        found: list[Any] = []
        missing: list[str] = []
        for entity_id in ids:
            try:
                found.append(exists(entity_id))
            except MlflowException as error:
                if error.error_code not in NOT_FOUND_CODES:
                    raise translate_mlflow_error(error, f"look up {what} {entity_id}") from error
                missing.append(entity_id)
        if missing:
            listed = ", ".join(missing)
            plural = "s" if len(missing) > 1 else ""
            raise NotFound(f"Unknown {what}{plural}: {listed}. Nothing was changed.")
        return found


class GlobalUriClient:
    """Runs client calls with MLflow's global tracking URI pointing at this store.

    MLflow's SQL and file registries resolve ``models:/m-…`` sources with ``MlflowClient()``,
    i.e. the global URI (a TODO in MLflow), and the file registry does so on every read of a
    model version: without this, MLflow would create ``mlflow.db`` in the working folder.
    The previous global value is restored afterwards.
    """

    _lock = threading.RLock()  # a wrapped client may be wrapped again

    def __init__(self, client: Any, uri: str) -> None:
        self._client = client
        self._uri = uri

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            from mlflow.tracking._tracking_service import utils

            with self._lock:
                previous = utils._tracking_uri
                utils._tracking_uri = self._uri
                try:
                    return method(*args, **kwargs)
                finally:
                    utils._tracking_uri = previous

        return call
