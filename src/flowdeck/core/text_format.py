"""Short human-readable texts for sizes, times, durations, ids and descriptions (Qt-free)."""

from __future__ import annotations

import time

from flowdeck.core.runs_table_format import format_duration


def format_time(millis: int | None) -> str:
    """Local 'YYYY-MM-DD HH:MM:SS', or '' when unknown."""
    if not millis:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(millis / 1000.0))


def format_millis(millis: float | None) -> str:
    return "" if millis is None else format_duration(millis / 1000.0)


def format_size(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def first_line(text: str | None) -> str:
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")


def short_id(identifier: str) -> str:
    return identifier[:8]


def capped(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when anything was cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
