"""Stored cells as numbers, with damaged ones (text where a number belongs) as missing."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal

import numpy as np
import pandas as pd

# (where, text): how readers record a store problem (``SqlStore.note_problem``).
NoteProblem = Callable[[str, str], None]
_NUMBERS = (int, float, Decimal, np.integer, np.floating)


def as_float(value: object) -> float | None:
    """The cell as a float; None for NULL, text, bytes or anything else that is no number."""
    if isinstance(value, bool) or not isinstance(value, _NUMBERS):
        return None
    return float(value)


def as_int(value: object) -> int | None:
    """The cell as an int; None for NULL, text, a fraction or anything else."""
    if isinstance(value, bool) or not isinstance(value, _NUMBERS):
        return None
    if isinstance(value, int | np.integer):
        return int(value)
    number = float(value)
    return int(number) if math.isfinite(number) and number.is_integer() else None


def is_damaged(value: object) -> bool:
    """True for a non-NULL cell that is not a number."""
    return value is not None and as_float(value) is None


def float_array(values: Sequence[object]) -> tuple[np.ndarray, int]:
    """float64 values (damaged cells NaN) and how many cells were damaged."""
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is not None and not any(isinstance(v, str | bytes) for v in values):
        return array, 0
    converted = [as_float(v) for v in values]
    bad = sum(1 for v, c in zip(values, converted, strict=True) if c is None and v is not None)
    return np.array([np.nan if c is None else c for c in converted], dtype=np.float64), bad


def nullable_ints(values: Sequence[object]) -> tuple[pd.arrays.IntegerArray, int]:
    """Int64 values (NULL and damaged cells <NA>) and how many cells were damaged."""
    converted = [as_int(v) for v in values]
    bad = sum(1 for v, c in zip(values, converted, strict=True) if c is None and v is not None)
    return pd.array(converted, dtype="Int64"), bad


def note_damaged_cells(note_problem: NoteProblem | None, table: str, count: int) -> None:
    """Record that ``count`` cells of ``table`` hold text where numbers belong."""
    if note_problem is None or count <= 0:
        return
    cells = "cell" if count == 1 else "cells"
    note_problem(
        f"cells:{table}",
        f"{count} {cells} of the {table} table hold text where numbers belong; shown as missing.",
    )
