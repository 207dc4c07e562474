"""Keys of items of several open stores: ``<store number>:<id>``, stores numbered from 1."""

from __future__ import annotations

from collections.abc import Iterable

SEPARATOR = ":"


def key_of(number: int, item_id: str) -> str:
    """The key of an id (a run's, an experiment's) of store ``number``: ``<number>:<id>``."""
    return f"{number}{SEPARATOR}{item_id}"


def split_key(key: str) -> tuple[int, str]:
    """``(store number, id)`` of a key; ``ValueError`` when it is not ``<number>:<id>``."""
    number, separator, item_id = str(key).partition(SEPARATOR)
    if not separator or not number.isdigit() or int(number) < 1 or not item_id:
        raise ValueError(f"{key!r} is not <store number>:<id>")
    return int(number), item_id


def by_store(keys: Iterable[str]) -> dict[int, list[str]]:
    """The ids behind ``keys`` grouped by store number (stores and ids in first-seen order)."""
    grouped: dict[int, list[str]] = {}
    for key in keys:
        number, item_id = split_key(key)
        ids = grouped.setdefault(number, [])
        if item_id not in ids:
            ids.append(item_id)
    return grouped
