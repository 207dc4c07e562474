"""Which mirrors exist for an origin: a small index beside Flowdeck's data, checked on use."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from flowdeck.paths import data_dir
from flowdeck.store.mirror.identity import MirrorInfo, mirror_info


def index_path() -> Path:
    return data_dir() / "mirrors" / "index.json"


def _read_index() -> dict[str, list[str]]:
    try:
        data = json.loads(index_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): [str(p) for p in v] for k, v in data.items() if isinstance(v, list)}


def remember_mirror(origin: str, path: Path) -> None:
    """Note that ``path`` mirrors ``origin`` (written atomically; errors are ignored)."""
    index = _read_index()
    paths = [p for p in index.get(origin, []) if p != str(path.resolve())]
    index[origin] = [str(path.resolve()), *paths]
    target = index_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(index, stream, indent=1)
        os.replace(temporary, target)
    except OSError:
        return


def find_mirror(origin: str) -> MirrorInfo | None:
    """The most recently synced complete mirror of ``origin``, or None."""
    candidates = {Path(p) for p in _read_index().get(origin, [])}
    folder = data_dir() / "mirrors"
    if folder.is_dir():
        candidates.update(folder.glob("*.db"))
    found = [
        info
        for info in (mirror_info(path) for path in candidates if path.is_file())
        if info is not None and info.origin == origin and info.complete
    ]
    return max(found, key=lambda info: info.last_sync or 0, default=None)


def cached_if_mirrored(store: Any) -> Any:
    """``store`` behind its mirror when it is a server with a complete mirror; else ``store``."""
    if store.kind != "rest":
        return store
    from flowdeck.core.redact import redact_location

    info = find_mirror(redact_location(store.location))
    if info is None:
        return store
    from flowdeck.store.mirror.cached import CachedStore

    return CachedStore(store, info)
