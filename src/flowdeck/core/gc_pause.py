"""Pause Python's cyclic garbage collector while building many objects at once."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused(freeze: bool = False) -> Iterator[None]:
    """No cyclic collection inside (100,000 new spans would trigger dozens of full passes).

    ``freeze``: the objects built inside are long-lived, so exempt them (and everything alive)
    from later collections before collecting again. Otherwise the first young-generation pass
    after the pause walks every one of them: 250 ms with the GIL held for a 100,000-span trace,
    a stall of the window whichever thread runs it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was_enabled:
            gc.enable()
