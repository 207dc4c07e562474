"""Runs side by side (Qt-free): value rows, what differs, the best value per metric, text diffs."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest

from flowdeck.core.entities import RunDetail
from flowdeck.core.runs_table_format import colour_indices, format_number

PARAMS = "Params"
METRICS = "Metrics"
TAGS = "Tags"
SECTIONS = (PARAMS, METRICS, TAGS)
LATEST, MIN, MAX = "latest", "min", "max"
SYSTEM_TAG_PREFIX = "mlflow."
MISSING = "—"
LOWER_IS_BETTER = ("loss", "error", "err", "mae", "mse", "rmse", "perplexity")

# Kinds of diff lines and side-by-side rows.
HEADER, HUNK, CONTEXT, REMOVED, ADDED, CHANGED = (
    "header",
    "hunk",
    "context",
    "removed",
    "added",
    "changed",
)


def better_is_lower(key: str) -> bool:
    """True when a lower value of the metric ``key`` is better: its name contains loss, error,
    err, mae, mse, rmse or perplexity (any case); every other metric is better higher."""
    lowered = key.lower()
    return any(word in lowered for word in LOWER_IS_BETTER)


def run_colours(run_ids: Sequence[str], palette: Sequence[str]) -> list[str]:
    """Each run's colour as the runs table gives it (from the run id, not from its row)."""
    return [palette[i] for i in colour_indices(list(run_ids), len(palette)).tolist()]


# --- value rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompareRow:
    """One key across the runs: its texts (None where a run has no value) and, for metrics,
    the numbers, which value the row shows (latest/min/max) and the columns holding the best."""

    section: str
    key: str
    values: tuple[str | None, ...]
    numbers: tuple[float | None, ...] = ()
    stat: str = ""
    best: tuple[int, ...] = ()
    system: bool = False  # an ``mlflow.`` tag

    @property
    def label(self) -> str:
        return f"{self.key} ({self.stat})" if self.stat in (MIN, MAX) else self.key

    @property
    def differs(self) -> bool:
        """Some run's value is not the others' (a missing value counts as a value)."""
        if self.numbers:
            return len({_number_key(n) for n in self.numbers}) > 1
        return len(set(self.values)) > 1


def _number_key(number: float | None) -> object:
    return "nan" if number is not None and math.isnan(number) else number


def best_columns(numbers: Sequence[float | None], lower: bool) -> tuple[int, ...]:
    """The columns holding the best finite value; none unless two runs have different ones."""
    finite = [(i, n) for i, n in enumerate(numbers) if n is not None and math.isfinite(n)]
    if len(finite) < 2 or len({n for _, n in finite}) < 2:
        return ()
    best = min(n for _, n in finite) if lower else max(n for _, n in finite)
    return tuple(i for i, n in finite if n == best)


def compare_runs(
    details: Sequence[RunDetail],
    extremes: Mapping[tuple[str, str], tuple[float, float]] | None = None,
) -> list[CompareRow]:
    """Params, metrics (latest, then min and max where ``extremes`` has them: (run id, key) →
    (min, max)) and tags of the runs, each section sorted by key."""
    rows: list[CompareRow] = []
    for key in sorted({k for d in details for k in d.params}):
        rows.append(CompareRow(PARAMS, key, tuple(d.params.get(key) for d in details)))
    extremes = extremes or {}
    for key in sorted({k for d in details for k in d.metrics}):
        lower = better_is_lower(key)
        latest = tuple(d.metrics[key].value if key in d.metrics else None for d in details)
        rows.append(_metric_row(key, LATEST, latest, lower))
        if any((d.info.run_id, key) in extremes for d in details):
            for position, stat in enumerate((MIN, MAX)):
                numbers = tuple(
                    extremes[(d.info.run_id, key)][position]
                    if (d.info.run_id, key) in extremes
                    else None
                    for d in details
                )
                rows.append(_metric_row(key, stat, numbers, lower))
    for key in sorted({k for d in details for k in d.tags}):
        system = key.startswith(SYSTEM_TAG_PREFIX)
        rows.append(CompareRow(TAGS, key, tuple(d.tags.get(key) for d in details), system=system))
    return rows


def _metric_row(key: str, stat: str, numbers: tuple[float | None, ...], lower: bool) -> CompareRow:
    """The best is marked on the latest values and on the best ever reached (the min row of a
    lower-is-better metric, the max row of the others)."""
    texts = tuple(None if n is None else format_number(n) for n in numbers)
    marked = stat == LATEST or stat == (MIN if lower else MAX)
    best = best_columns(numbers, lower) if marked else ()
    return CompareRow(METRICS, key, texts, numbers, stat, best)


@dataclass(frozen=True)
class RowFilter:
    """What the values table shows of the rows."""

    differences_only: bool = False
    min_max: bool = False
    system_tags: bool = False
    search: str = ""

    def keeps(self, row: CompareRow) -> bool:
        if self.differences_only and not row.differs:
            return False
        if row.stat in (MIN, MAX) and not self.min_max:
            return False
        if row.system and not self.system_tags:
            return False
        return self.search.strip().lower() in row.key.lower()


def shown_rows(rows: Sequence[CompareRow], row_filter: RowFilter) -> list[CompareRow]:
    return [row for row in rows if row_filter.keeps(row)]


def as_tsv(names: Sequence[str], rows: Sequence[CompareRow]) -> str:
    """The rows as tab-separated text with a header line (missing values are empty)."""

    def cell(text: str | None) -> str:
        return " ".join((text or "").split("\t")).replace("\r", " ").replace("\n", " ")

    lines = ["\t".join(["Section", "Key", *(cell(n) for n in names)])]
    for row in rows:
        lines.append("\t".join([row.section, cell(row.label), *(cell(v) for v in row.values)]))
    return "\n".join(lines) + "\n"


# --- text diffs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff: its kind and its text with the leading marker."""

    kind: str
    text: str


@dataclass(frozen=True)
class SideRow:
    """One row of a side-by-side diff; a side is None where it has no line there."""

    kind: str  # CONTEXT, CHANGED, REMOVED or ADDED
    left: str | None
    right: str | None


@dataclass(frozen=True)
class TextDiff:
    """Both views of the differences between two texts."""

    unified: list[DiffLine] = field(default_factory=list)
    rows: list[SideRow] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return all(row.kind == CONTEXT for row in self.rows)


def unified_lines(
    old: str, new: str, old_name: str = "a", new_name: str = "b", context: int = 3
) -> list[DiffLine]:
    """The unified diff of two texts (empty when they are equal)."""
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), old_name, new_name, n=context, lineterm=""
    )
    out = []
    for index, line in enumerate(lines):
        if index < 2:
            out.append(DiffLine(HEADER, line))
        elif line.startswith("@@"):
            out.append(DiffLine(HUNK, line))
        elif line.startswith("-"):
            out.append(DiffLine(REMOVED, line))
        elif line.startswith("+"):
            out.append(DiffLine(ADDED, line))
        else:
            out.append(DiffLine(CONTEXT, line))
    return out


def side_by_side(old: str, new: str) -> list[SideRow]:
    """Every line of both texts, aligned: changed lines face each other, the rest face gaps."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[SideRow] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(SideRow(CONTEXT, line, line) for line in a[i1:i2])
        elif tag == "delete":
            rows.extend(SideRow(REMOVED, line, None) for line in a[i1:i2])
        elif tag == "insert":
            rows.extend(SideRow(ADDED, None, line) for line in b[j1:j2])
        else:
            for left, right in zip_longest(a[i1:i2], b[j1:j2]):
                kind = (
                    CHANGED
                    if left is not None and right is not None
                    else (REMOVED if right is None else ADDED)
                )
                rows.append(SideRow(kind, left, right))
    return rows


def text_diff(old: str, new: str, old_name: str = "a", new_name: str = "b") -> TextDiff:
    return TextDiff(unified_lines(old, new, old_name, new_name), side_by_side(old, new))
