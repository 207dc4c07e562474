"""The inference log: every request through a Flowdeck proxy, in memory and in a JSON-lines file."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flowdeck.paths import data_dir

MAX_ENTRIES = 5000  # kept in memory (the file keeps more)
MAX_FILE_BYTES = 64 << 20  # past this the file is rotated to ``<name>.1``
PAYLOAD_LIMIT = 64 << 10  # bytes of each payload kept

CSV_COLUMNS = (
    "time",
    "method",
    "path",
    "status",
    "latency_ms",
    "request_bytes",
    "response_bytes",
    "client",
    "request_body",
    "request_truncated",
    "response_body",
    "response_truncated",
    "error",
    "model",
    "port",
)


@dataclass(frozen=True)
class InferenceEntry:
    """One request and its answer, as the proxy saw them."""

    time: float  # epoch seconds when the request arrived
    method: str
    path: str
    status: int  # 502 when the model server could not be reached
    latency_ms: float
    request_bytes: int
    response_bytes: int
    request_body: str = ""  # up to the payload limit, decoded as UTF-8 (errors replaced)
    response_body: str = ""
    request_truncated: bool = False
    response_truncated: bool = False
    client: str = ""
    error: str | None = None
    model: str = ""  # the served model's label
    port: int = 0  # the port the request came in on

    @property
    def time_text(self) -> str:
        """The request time in local ISO form, to the millisecond."""
        return datetime.fromtimestamp(self.time).isoformat(timespec="milliseconds")

    def summary(self) -> str:
        """One line: ``12:00:01 POST /invocations 200 12.3 ms 120 B -> 35 B``."""
        clock = datetime.fromtimestamp(self.time).strftime("%H:%M:%S")
        line = (
            f"{clock} {self.method} {self.path} {self.status} {self.latency_ms:.1f} ms "
            f"{self.request_bytes} B -> {self.response_bytes} B"
        )
        return f"{line} ({self.error})" if self.error else line

    def matches(self, text: str) -> bool:
        """True when ``text`` (case-insensitive) appears in any field."""
        needle = text.lower()
        fields = (
            self.method,
            self.path,
            str(self.status),
            self.request_body,
            self.response_body,
            self.client,
            self.error or "",
            self.model,
            self.time_text,
        )
        return any(needle in value.lower() for value in fields)


def decode_payload(data: bytes, limit: int = PAYLOAD_LIMIT) -> tuple[str, bool]:
    """The first ``limit`` bytes as text, and whether anything was cut."""
    return data[:limit].decode("utf-8", errors="replace"), len(data) > limit


def log_path_for(key: str) -> Path:
    """The JSON-lines file of one served model (by URI or folder) under the user's data dir."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", key).strip("-")[:60] or "model"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]
    return data_dir() / "inference" / f"{slug}-{digest}.jsonl"


class InferenceLog:
    """Thread-safe, bounded in memory, appended to a JSON-lines file (kept after a stop)."""

    def __init__(self, path: Path | None = None, max_entries: int = MAX_ENTRIES) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._entries: deque[InferenceEntry] = deque(maxlen=max_entries)
        self._listeners: list[Callable[[InferenceEntry], None]] = []
        self.changes = 0  # grows with every record or clear: a cheap "anything new?" for viewers
        if path is not None and path.is_file():
            self._entries.extend(read_entries(path, max_entries))

    @classmethod
    def for_model(cls, key: str) -> InferenceLog:
        """The log of one served model, with what earlier servers of it recorded."""
        return cls(log_path_for(key))

    def add_listener(self, listener: Callable[[InferenceEntry], None]) -> None:
        """Call ``listener(entry)`` (on the proxy's thread) for each new entry."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[InferenceEntry], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def record(self, entry: InferenceEntry) -> None:
        """Keep the entry, append it to the file, and tell the listeners."""
        with self._lock:
            self._entries.append(entry)
            self.changes += 1
            if self.path is not None:
                self._append(entry)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(entry)

    def _append(self, entry: InferenceEntry) -> None:
        """One JSON line at the end of the file (rotated past MAX_FILE_BYTES); never raises."""
        assert self.path is not None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.is_file() and self.path.stat().st_size > MAX_FILE_BYTES:
                self.path.replace(self.path.with_name(self.path.name + ".1"))
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(dataclasses.asdict(entry)) + "\n")
        except OSError:
            pass  # the in-memory log still has it; a full disk must not break serving

    def entries(self, filter_text: str | None = None) -> list[InferenceEntry]:
        """The kept entries, oldest first; only those matching ``filter_text`` if given."""
        with self._lock:
            found = list(self._entries)
        if filter_text and filter_text.strip():
            found = [entry for entry in found if entry.matches(filter_text.strip())]
        return found

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        """Forget the entries in memory and delete the file."""
        with self._lock:
            self._entries.clear()
            self.changes += 1
            if self.path is not None:
                self.path.unlink(missing_ok=True)

    def to_csv(self, path: Path, filter_text: str | None = None) -> int:
        """Write the (matching) entries as CSV; returns how many rows were written."""
        rows = self.entries(filter_text)
        with Path(path).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for entry in rows:
                values = dataclasses.asdict(entry)
                values["time"] = datetime.fromtimestamp(entry.time, UTC).isoformat(
                    timespec="milliseconds"
                )
                values["latency_ms"] = f"{entry.latency_ms:.3f}"
                writer.writerow([values[column] for column in CSV_COLUMNS])
        return len(rows)


def read_entries(path: Path, limit: int = MAX_ENTRIES) -> list[InferenceEntry]:
    """The last ``limit`` entries of a JSON-lines log (damaged lines skipped)."""
    names = {field.name for field in dataclasses.fields(InferenceEntry)}
    found: deque[InferenceEntry] = deque(maxlen=limit)
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                    found.append(InferenceEntry(**{k: v for k, v in record.items() if k in names}))
                except (ValueError, TypeError):
                    continue
    except OSError:
        return []
    return list(found)
