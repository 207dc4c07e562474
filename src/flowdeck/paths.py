"""Per-user folders for Flowdeck's data, cache and configuration (XDG-aware via platformdirs)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "flowdeck"


def data_dir() -> Path:
    """Where Flowdeck keeps user data such as the demo store (e.g. ~/.local/share/flowdeck)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """Where downloaded artifacts and other re-creatable files go (e.g. ~/.cache/flowdeck)."""
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    """Where settings files live (e.g. ~/.config/flowdeck)."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def demo_dir() -> Path:
    """The folder holding the demo store: ``mlflow.db`` and ``artifacts/``."""
    return data_dir() / "demo"


def demo_store_path() -> Path:
    """The SQLite file of the demo store."""
    return demo_dir() / "mlflow.db"
