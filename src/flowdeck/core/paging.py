"""Offset page tokens in MLflow's format and slicing a fully read, ordered list into a Page."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import TypeVar

from flowdeck.core.entities import Page
from flowdeck.core.errors import InvalidFilter

T = TypeVar("T")


def encode_offset_token(offset: int) -> str:
    """MLflow's page token format: base64 of ``{"offset": N}``."""
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_offset_token(token: str | None) -> int:
    """The offset of a token from ``encode_offset_token`` (0 for none); ``InvalidFilter`` if bad."""
    if not token:
        return 0
    try:
        offset = json.loads(base64.b64decode(token))["offset"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError(offset)
        return offset
    except Exception as exc:
        raise InvalidFilter(f"Invalid page token {token!r}.") from exc


def offset_page(items: Sequence[T], offset: int, max_results: int) -> Page[T]:
    """``items[offset:offset + max_results]`` with a token for the rest when there is more."""
    end = offset + max_results
    more = end < len(items)
    return Page(list(items[offset:end]), encode_offset_token(end) if more else None)
