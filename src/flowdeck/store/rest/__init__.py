"""The tracking-server backend: an MLflow server's REST API read with ``requests``."""

from flowdeck.store.rest.store import RestStore

__all__ = ["RestStore"]
