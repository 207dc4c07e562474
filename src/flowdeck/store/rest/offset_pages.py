"""Pages of an MLflow listing asked for several at a time, when its page tokens are offsets."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

Item = TypeVar("Item")
Fetch = Callable[[str], tuple[list[Item], str | None]]


class NotOffsets(Exception):
    """A page token that is not the offset the page should end at: read page after page."""


def offset_of(token: str) -> int | None:
    """The offset in an MLflow page token (base64 JSON ``{"offset": N}``), else None."""
    try:
        data = json.loads(base64.b64decode(token, validate=True))
    except (ValueError, TypeError):
        return None
    offset = data.get("offset") if isinstance(data, dict) and len(data) == 1 else None
    return offset if isinstance(offset, int) else None


def token_for(offset: int) -> str:
    """MLflow's page token for ``offset``."""
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def offset_pages(
    fetch: Fetch[Item], start: int, size: int, in_flight: int, name: str = "flowdeck-pages"
) -> Iterator[tuple[int, list[Item]]]:
    """(offset, page) from ``start`` on, in the order they arrive, with ``in_flight`` requests
    always under way (a request is sent the moment one returns).

    ``fetch(token)`` asks for the page at that token, ``size`` items long. Raises
    ``NotOffsets`` when an answer's token is not the offset it should be. Pages asked for
    past the end before the end was known are empty and not given.
    """
    pending: dict[int, Future[tuple[list[Item], str | None]]] = {}
    next_offset, end = start, None
    with ThreadPoolExecutor(in_flight, thread_name_prefix=name) as pool:
        try:
            while True:
                while end is None and len(pending) < in_flight:
                    pending[next_offset] = pool.submit(fetch, token_for(next_offset))
                    next_offset += size
                if not pending:
                    return
                wait(pending.values(), return_when=FIRST_COMPLETED)
                for offset in sorted(o for o, future in pending.items() if future.done()):
                    items, token = pending.pop(offset).result()
                    if end is not None and offset > end:
                        continue
                    if token is None:  # the last page: later offsets hold nothing
                        end = offset
                    elif offset_of(token) != offset + size or len(items) != size:
                        raise NotOffsets(token)
                    if items:
                        yield offset, items
                if end is not None:
                    for offset in [o for o in pending if o > end]:
                        pending.pop(offset).cancel()
        finally:
            for future in pending.values():
                future.cancel()
