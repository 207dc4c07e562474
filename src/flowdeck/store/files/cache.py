"""An mtime-based cache of parsed run folders: a later read re-reads only changed runs."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flowdeck.store.files.fsread import key_folder_files

if TYPE_CHECKING:
    from flowdeck.store.files.runs import RunRecord

# File times can be coarse (2 s on FAT) and lag the wall clock a little: anything modified
# within this margin before a read counts as changed after it.
_MARGIN_NS = 2_000_000_000
# Sub-folders whose files MLflow rewrites in place (appended metrics, overwritten tags).
_MUTABLE_FOLDERS = ("metrics", "tags")


@dataclass
class _Entry:
    read_started_ns: int
    record: RunRecord


class RunCache:
    """Parsed runs by folder, trusted while nothing in the folder is newer than the read."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def get_fresh(self, folder: str) -> RunRecord | None:
        """The cached record when no file of the run changed since it was read."""
        with self._lock:
            entry = self._entries.get(folder)
        if entry is None or _changed_since(folder, entry.read_started_ns - _MARGIN_NS):
            return None
        return entry.record

    def put(self, folder: str, record: RunRecord, read_started_ns: int) -> None:
        with self._lock:
            self._entries[folder] = _Entry(read_started_ns, record)

    def forget_missing(self, live_folders: set[str], under: str) -> None:
        """Drop entries of run folders under ``under`` that no longer exist."""
        prefix = under.rstrip(os.sep) + os.sep
        with self._lock:
            for folder in [f for f in self._entries if f.startswith(prefix)]:
                if folder not in live_folders:
                    del self._entries[folder]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _changed_since(folder: str, threshold_ns: int) -> bool:
    try:
        entries = list(os.scandir(folder))
        if os.stat(folder).st_mtime_ns > threshold_ns:
            return True
        for entry in entries:
            if entry.stat().st_mtime_ns > threshold_ns:
                return True
            if entry.name in _MUTABLE_FOLDERS and entry.is_dir():
                for _key, file_entry in key_folder_files(entry.path):
                    if file_entry.stat().st_mtime_ns > threshold_ns:
                        return True
    except OSError:
        return True
    return False
