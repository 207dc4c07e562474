"""The first rows and the row count of CSV, TSV, Parquet and MLflow ``log_table`` JSON files."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowdeck.core.errors import CorruptStore, FlowdeckError
from flowdeck.core.task_state import TaskState

MIB = 1024 * 1024
MAX_ROWS = 10_000
MAX_CELLS = 2_000_000  # a very wide table keeps fewer rows
MAX_CELL_CHARS = 1_000
COUNT_CHUNK_BYTES = 4 * MIB
COUNT_INLINE_BYTES = 32 * MIB  # smaller CSV files are counted before they are shown
MAX_JSON_TABLE_BYTES = 64 * MIB
DELIMITERS = (",", ";", "\t", "|")


@dataclass
class TablePreview:
    """The first rows of a table as strings, all as long as ``columns``."""

    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool]  # per column: every non-empty cell is a number
    total_rows: int | None  # None until counted
    fmt: str  # "csv", "tsv", "parquet" or "json"
    approximate: bool = False  # counted by line ends in a file with line breaks inside cells
    notes: list[str] = field(default_factory=list)

    @property
    def needs_count(self) -> bool:
        return self.total_rows is None


def table_format(name: str) -> str:
    lowered = name.lower()
    for suffix in ("tsv", "parquet", "json"):
        if lowered.endswith("." + suffix):
            return suffix
    return "csv"


def read_table(state: TaskState | None, path: Path, name: str | None = None) -> TablePreview:
    """The first rows of the table file ``path`` (its format from ``name``'s suffix)."""
    fmt = table_format(name or path.name)
    if fmt == "parquet":
        return read_parquet(path)
    if fmt == "json":
        return read_table_json(path)
    preview = read_csv(state, path, delimiter="\t" if fmt == "tsv" else None)
    if preview.needs_count and path.stat().st_size <= COUNT_INLINE_BYTES:
        finish_count(state, path, preview)
    return preview


# --- CSV / TSV --------------------------------------------------------------------------------


def sniff_delimiter(first_line: str) -> str:
    """The likeliest of ``, ; tab |`` in a CSV header line (a comma when none appears)."""
    counts = {delimiter: first_line.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def read_csv(
    state: TaskState | None,
    path: Path,
    *,
    delimiter: str | None = None,
    max_rows: int = MAX_ROWS,
) -> TablePreview:
    """The header and the first rows; rows of the wrong length are padded and noted. The total
    is known when the file ended within ``max_rows``; else it is left for ``finish_count``."""
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
        if delimiter is None:
            delimiter = sniff_delimiter(text.readline(64 * 1024))
            text.seek(0)
        reader = csv.reader(text, delimiter=delimiter)
        notes: list[str] = []
        header: list[str] = []
        rows: list[list[str]] = []
        ragged = blank = 0
        complete = True
        try:
            header = next(reader, [])
            row_cap = max(1, min(max_rows, MAX_CELLS // max(1, len(header))))
            for row in reader:
                if not row:
                    blank += 1
                    continue
                if len(rows) >= row_cap:
                    complete = False
                    break
                if len(rows) % 1000 == 0 and state is not None:
                    state.check()
                if len(row) != len(header):
                    ragged += 1
                rows.append([_clip(cell) for cell in row])
        except csv.Error as error:
            if not header and not rows:
                raise CorruptStore(f"This file cannot be read as CSV: {error}.") from None
            notes.append(f"Reading stopped at line {reader.line_num:,}: {error}.")
            complete = False
        multiline = reader.line_num > 1 + len(rows) + blank + (0 if complete else 1)
    if ragged:
        fields = "field" if len(header) == 1 else "fields"
        notes.append(
            f"{ragged:,} {'row' if ragged == 1 else 'rows'} had the wrong number of fields "
            f"(the header has {len(header):,} {fields})."
        )
    columns = _widen([_clip(name) for name in header], rows)
    fmt = "tsv" if delimiter == "\t" else "csv"
    total = len(rows) if complete else None
    preview = TablePreview(columns, rows, _numeric_columns(columns, rows), total, fmt, multiline)
    preview.notes.extend(notes)
    return preview


def count_lines(state: TaskState | None, path: Path, chunk_bytes: int = COUNT_CHUNK_BYTES) -> int:
    """The number of lines (a last line without a line end counts), read in chunks."""
    lines = 0
    last = b"\n"
    size = path.stat().st_size
    done = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            if state is not None:
                state.check()
            lines += chunk.count(b"\n")
            last = chunk[-1:]
            done += len(chunk)
            if state is not None:
                state.progress(done, size, "Counting rows…")
    return lines + (0 if last == b"\n" else 1)


def count_csv_rows(state: TaskState | None, path: Path) -> int:
    """Data rows of a CSV file by its line ends (the header and blank last lines not counted)."""
    return max(0, count_lines(state, path) - 1)


def finish_count(state: TaskState | None, path: Path, preview: TablePreview) -> TablePreview:
    """Fill in ``preview.total_rows`` by counting the file's lines (cancellable)."""
    preview.total_rows = max(len(preview.rows), count_csv_rows(state, path))
    return preview


# --- Parquet ----------------------------------------------------------------------------------


def read_parquet(path: Path, max_rows: int = MAX_ROWS) -> TablePreview:
    """The first rows of a Parquet file; the total comes from its metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        schema = parquet.schema_arrow
        columns = [str(name) for name in schema.names]
        row_cap = max(1, min(max_rows, MAX_CELLS // max(1, len(columns))))
        rows: list[list[str]] = []
        for batch in parquet.iter_batches(batch_size=min(row_cap, 4096)):
            values = [batch.column(index).to_pylist() for index in range(batch.num_columns)]
            rows.extend([_cell(value) for value in row] for row in zip(*values, strict=True))
            if len(rows) >= row_cap:
                break
        total = parquet.metadata.num_rows
    except (pa.ArrowException, OSError, ValueError) as error:
        raise CorruptStore(f"This Parquet file cannot be read: {error}") from None
    rows = rows[:row_cap]
    numeric = [_is_numeric_type(pa, schema.field(index).type) for index in range(len(columns))]
    return TablePreview(columns, rows, numeric, total, "parquet")


def _is_numeric_type(pa: Any, data_type: Any) -> bool:
    return bool(
        pa.types.is_integer(data_type)
        or pa.types.is_floating(data_type)
        or pa.types.is_decimal(data_type)
    )


# --- MLflow log_table JSON --------------------------------------------------------------------


def is_table_value(value: Any) -> bool:
    """True for what ``mlflow.log_table`` writes: ``{"columns": [...], "data": [[...], ...]}``."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("columns"), list)
        and isinstance(value.get("data"), list)
        and set(value) <= {"columns", "data", "index"}
        and all(isinstance(row, list) for row in value["data"][:100])
    )


def table_from_value(value: Any, max_rows: int = MAX_ROWS) -> TablePreview:
    """The table of a parsed ``log_table`` JSON value (see ``is_table_value``)."""
    header = [_clip(str(name)) for name in value["columns"]]
    data = value["data"]
    row_cap = max(1, min(max_rows, MAX_CELLS // max(1, len(header))))
    rows: list[list[str]] = []
    numeric = [True] * len(header)
    ragged = 0
    for item in data[:row_cap]:
        row = item if isinstance(item, list) else [item]
        if len(row) != len(header):
            ragged += 1
        for index, cell in enumerate(row[: len(numeric)]):
            if cell is not None and not _is_number(cell):
                numeric[index] = False
        rows.append([_cell(cell) for cell in row])
    columns = _widen(header, rows)
    numeric += [False] * (len(columns) - len(numeric))
    preview = TablePreview(columns, rows, numeric, len(data), "json")
    if ragged:
        preview.notes.append(
            f"{ragged:,} {'row' if ragged == 1 else 'rows'} had the wrong number of fields "
            f"(the table has {len(header):,} columns)."
        )
    return preview


def read_table_json(path: Path, max_rows: int = MAX_ROWS) -> TablePreview:
    """The table in a JSON file written by ``mlflow.log_table``."""
    size = path.stat().st_size
    if size > MAX_JSON_TABLE_BYTES:
        raise FlowdeckError(
            f"This JSON table is {size / MIB:,.0f} MB; tables in JSON are shown up to "
            f"{MAX_JSON_TABLE_BYTES // MIB} MB."
        )
    try:
        value = json.loads(path.read_bytes().decode("utf-8", errors="replace"))
    except json.JSONDecodeError as error:
        raise CorruptStore(
            f"Invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}."
        ) from None
    if not is_table_value(value):
        raise CorruptStore('This JSON file is not a table (it needs "columns" and "data").')
    return table_from_value(value, max_rows)


# --- cells ------------------------------------------------------------------------------------


def _widen(columns: list[str], rows: list[list[str]]) -> list[str]:
    """Columns for the widest row (extra ones are numbered); every row padded to match."""
    width = max([len(columns), *(len(row) for row in rows)])
    columns = columns + [f"({index + 1})" for index in range(len(columns), width)]
    for row in rows:
        if len(row) < width:
            row.extend([""] * (width - len(row)))
    return columns


def _numeric_columns(columns: list[str], rows: list[list[str]]) -> list[bool]:
    numeric = []
    for index in range(len(columns)):
        cells = [row[index] for row in rows if row[index].strip()]
        numeric.append(bool(cells) and all(_parses_as_number(cell) for cell in cells))
    return numeric


def _parses_as_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, bytes):
        return f"<{len(value):,} bytes>"
    if isinstance(value, dict | list | tuple):
        return _clip(json.dumps(value, ensure_ascii=False, default=str))
    return _clip(str(value))


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS] + "…"
