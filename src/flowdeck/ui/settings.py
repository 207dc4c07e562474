"""Typed access to Flowdeck's persistent settings (QSettings, INI format), never holding secrets."""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypeVar

from PySide6.QtCore import QByteArray, QSettings

from flowdeck.core.redact import redact_location

ORGANISATION = "Flowdeck"
APPLICATION = "Flowdeck"
MAX_RECENT_STORES = 10
THEMES = ("system", "light", "dark")

T = TypeVar("T")


def strip_password(location: str) -> str:
    """``location`` without a password in its userinfo or secret query parameters."""
    return redact_location(location)


def _layout_key(store_key: str, experiment_key: str) -> str:
    digest = hashlib.sha1(f"{strip_password(store_key)}\0{experiment_key}".encode()).hexdigest()
    return f"column_layouts/{digest}"


class Settings:
    """Flowdeck's settings under organisation and application "Flowdeck"."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self._settings = settings or QSettings(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION
        )

    @property
    def qsettings(self) -> QSettings:
        return self._settings

    @property
    def file_name(self) -> str:
        """Where the settings are stored."""
        return self._settings.fileName()

    def sync(self) -> None:
        self._settings.sync()

    # --- generic typed access ---------------------------------------------------------------

    def value(self, key: str, default: T, type: type[T] | None = None) -> T:  # noqa: A002
        """The value at ``key`` converted to ``type`` (default's type); ``default`` if unusable."""
        wanted = type or default.__class__
        raw = self._settings.value(key)
        if raw is None:
            return default
        try:
            return _convert(raw, wanted)
        except (TypeError, ValueError):
            return default

    def set_value(self, key: str, value: Any) -> None:
        self._settings.setValue(key, value)

    def remove(self, key: str) -> None:
        self._settings.remove(key)

    # --- recent stores ---------------------------------------------------------------------

    @property
    def recent_stores(self) -> list[str]:
        """Most recently used store locations first (passwords already stripped)."""
        raw = self._settings.value("recent_stores")
        if raw is None:
            return []
        items = [raw] if isinstance(raw, str) else list(raw)
        return [str(item) for item in items if str(item)][:MAX_RECENT_STORES]

    @recent_stores.setter
    def recent_stores(self, locations: list[str]) -> None:
        cleaned: list[str] = []
        for location in locations:
            safe = strip_password(location.strip())
            if safe and safe not in cleaned:
                cleaned.append(safe)
        self._settings.setValue("recent_stores", cleaned[:MAX_RECENT_STORES])

    def remember_store(self, location: str) -> list[str]:
        """Put ``location`` (without password) first in the recent stores; returns the list."""
        self.recent_stores = [location, *self.recent_stores]
        return self.recent_stores

    def forget_store(self, location: str) -> list[str]:
        safe = strip_password(location.strip())
        self.recent_stores = [item for item in self.recent_stores if item != safe]
        return self.recent_stores

    # --- look and window state --------------------------------------------------------------

    @property
    def theme(self) -> str:
        """ "system", "light" or "dark"."""
        value = self.value("theme", "system", str)
        return value if value in THEMES else "system"

    @theme.setter
    def theme(self, value: str) -> None:
        if value not in THEMES:
            raise ValueError(f"unknown theme {value!r}; expected one of {THEMES}")
        self._settings.setValue("theme", value)

    @property
    def window_geometry(self) -> QByteArray:
        return self.value("window/geometry", QByteArray(), QByteArray)

    @window_geometry.setter
    def window_geometry(self, value: QByteArray) -> None:
        self._settings.setValue("window/geometry", QByteArray(value))

    @property
    def window_state(self) -> QByteArray:
        return self.value("window/state", QByteArray(), QByteArray)

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self._settings.setValue("window/state", QByteArray(value))

    # --- per-experiment column layouts -----------------------------------------------------

    def column_layout(self, store_key: str, experiment_key: str) -> dict:
        """The saved layout (order, visibility, widths...) for one experiment; {} if none."""
        text = self.value(_layout_key(store_key, experiment_key), "", str)
        if not text:
            return {}
        try:
            layout = json.loads(text)
        except ValueError:
            return {}
        return layout if isinstance(layout, dict) else {}

    def set_column_layout(self, store_key: str, experiment_key: str, layout: dict) -> None:
        """Save a JSON-serialisable layout for one experiment of one store."""
        self._settings.setValue(_layout_key(store_key, experiment_key), json.dumps(layout))


def _convert(raw: Any, wanted: type) -> Any:
    if wanted is bool:
        if isinstance(raw, str):
            lowered = raw.strip().lower()
            if lowered in ("true", "1", "yes", "on"):
                return True
            if lowered in ("false", "0", "no", "off", ""):
                return False
            raise ValueError(raw)
        return bool(raw)
    if wanted is list:
        if isinstance(raw, str):
            return [raw] if raw else []
        return list(raw)
    if wanted is QByteArray:
        if isinstance(raw, QByteArray):
            return raw
        if isinstance(raw, bytes | bytearray):
            return QByteArray(bytes(raw))
        raise TypeError(type(raw))
    if isinstance(raw, wanted):
        return raw
    return wanted(raw)
