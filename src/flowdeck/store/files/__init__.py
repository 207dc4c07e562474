"""The mlruns/ folder backend: ``FileStore`` reads MLflow's file-store format directly."""

from flowdeck.store.files.store import FileStore

__all__ = ["FileStore"]
