"""Display formatting for the runs table: numbers, infinities, durations, times, run colours."""

from __future__ import annotations

import time
import zlib
from collections.abc import Sequence
from datetime import datetime, tzinfo

import numpy as np
import pandas as pd

# MLflow's SQL stores save ±inf as ±max-float and hand those back from search_runs().
MAX_FLOAT = float(np.finfo(np.float64).max)

DEFAULT_PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


def normalise_infinities(values: np.ndarray) -> np.ndarray:
    """A float64 copy of ``values`` with ±max-float turned back into ±inf."""
    out = np.array(values, dtype=np.float64, copy=True)
    out[out >= MAX_FLOAT] = np.inf
    out[out <= -MAX_FLOAT] = -np.inf
    return out


def format_number(value: float) -> str:
    """Up to 6 significant digits; NaN as 'NaN', infinities (and ±max-float) as '∞' / '-∞'."""
    if value != value:
        return "NaN"
    if value >= MAX_FLOAT:
        return "∞"
    if value <= -MAX_FLOAT:
        return "-∞"
    return f"{value:.6g}"


def format_full_number(value: float) -> str:
    """Every digit of ``value`` (for tooltips), with the same NaN/∞ spelling."""
    if value != value or abs(value) >= MAX_FLOAT:
        return format_number(value)
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def format_numbers(values: np.ndarray, present: np.ndarray) -> list[str]:
    """Formatted numbers where ``present``, '' elsewhere."""
    text = list(map("{:.6g}".format, values.tolist()))
    for row in np.flatnonzero(~np.isfinite(values) | ~present).tolist():
        text[row] = format_number(values[row]) if present[row] else ""
    return text


def format_steps(values: np.ndarray, present: np.ndarray) -> list[str]:
    """Whole numbers (steps) where ``present``, '' elsewhere."""
    return [
        str(int(v)) if p else "" for v, p in zip(values.tolist(), present.tolist(), strict=True)
    ]


def format_duration(seconds: float) -> str:
    """Human durations: '0.25 s', '3.4 s', '42 s', '5m 07s', '1h 02m', '3d 04h'."""
    if seconds != seconds:
        return ""
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 1:
        return f"{sign}{seconds:.2f} s"
    if seconds < 10:
        return f"{sign}{seconds:.1f} s"
    if seconds < 60:
        return f"{sign}{seconds:.0f} s"
    whole = int(seconds)
    if whole < 3600:
        return f"{sign}{whole // 60}m {whole % 60:02d}s"
    if whole < 86400:
        return f"{sign}{whole // 3600}h {whole % 3600 // 60:02d}m"
    return f"{sign}{whole // 86400}d {whole % 86400 // 3600:02d}h"


def epoch_ms(times: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Milliseconds since the epoch (float64, NaN when missing) and a presence mask."""
    if len(times) == 0:
        return np.zeros(0), np.zeros(0, dtype=bool)
    series = pd.to_datetime(times, utc=True)
    stamps = series.to_numpy(dtype="datetime64[ms]")
    present = ~np.isnat(stamps)
    millis = np.where(present, stamps.astype(np.int64), 0).astype(np.float64)
    millis[~present] = np.nan
    return millis, present


def format_local_times(millis: np.ndarray, present: np.ndarray, tz: tzinfo | None) -> list[str]:
    """'YYYY-MM-DD HH:MM:SS' in ``tz`` (the machine's local time when None)."""
    pattern = "%Y-%m-%d %H:%M:%S"
    out: list[str] = []
    for value, here in zip(millis.tolist(), present.tolist(), strict=True):
        if not here:
            out.append("")
        elif tz is None:
            out.append(time.strftime(pattern, time.localtime(value / 1000.0)))
        else:
            out.append(datetime.fromtimestamp(value / 1000.0, tz).strftime(pattern))
    return out


def iso_times(millis: np.ndarray, present: np.ndarray) -> np.ndarray:
    """ISO 8601 UTC timestamps (object array, None when missing) for CSV export."""
    out = np.full(len(millis), None, dtype=object)
    stamps = millis[present].astype(np.int64).astype("datetime64[ms]")
    out[present] = [f"{s}Z" for s in np.datetime_as_string(stamps, unit="ms")]
    return out


def colour_indices(run_ids: Sequence[str], palette_size: int) -> np.ndarray:
    """A stable palette index per run id (CRC-32 of the id), the same on every machine."""
    if palette_size <= 0:
        raise ValueError("the palette needs at least one colour")
    return np.fromiter(
        (zlib.crc32(run_id.encode()) % palette_size for run_id in run_ids),
        dtype=np.int64,
        count=len(run_ids),
    )


def basename(path: str) -> str:
    """The last part of a '/' or '\\' separated path (an entry-point name stays as it is)."""
    trimmed = path.rstrip("/\\")
    cut = max(trimmed.rfind("/"), trimmed.rfind("\\"))
    return trimmed[cut + 1 :] if cut >= 0 else trimmed
