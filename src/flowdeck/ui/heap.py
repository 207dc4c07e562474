"""Keep Python's full garbage collections off the critical path after large imports."""

from __future__ import annotations

import gc


def settle_heap(collect: bool = True) -> None:
    """Exempt every object alive now from future collections (after one collection).

    Importing MLflow, SQLAlchemy and pandas leaves about a million long-lived objects; a full
    collection that walks them holds the GIL for 100-150 ms, whichever thread triggers it,
    and the window freezes for that long. Frozen objects are never scanned again.
    ``collect=False`` skips the collection itself (~70 ms): for when the window is up."""
    if collect:
        gc.collect()
    gc.freeze()
