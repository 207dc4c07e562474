"""Keep Python's full garbage collections off the critical path after large imports."""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Collect once, then exempt every object alive now from future collections.

    Importing MLflow, SQLAlchemy and pandas leaves about a million long-lived objects; a full
    collection that walks them holds the GIL for 100-150 ms, whichever thread triggers it,
    and the window freezes for that long. Frozen objects are never scanned again."""
    gc.collect()
    gc.freeze()
