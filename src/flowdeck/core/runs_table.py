"""The runs table's data: pre-formatted column arrays, sort ranks, nesting, groups, CSV export.

Build it off the GUI thread (``RunsTable.build``); everything after that is array lookups.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from datetime import tzinfo
from pathlib import Path

import numpy as np
import pandas as pd

from flowdeck.core.runs_table_columns import (
    FIXED,
    METRIC,
    PARAM,
    SUMMARY_KINDS,
    TAG,
    Column,
    ColumnSpec,
    number_column,
    numeric_ranks,
    object_values,
    param_or_tag_column,
    summary_arrays,
    text_column,
)
from flowdeck.core.runs_table_format import (
    DEFAULT_PALETTE,
    basename,
    colour_indices,
    epoch_ms,
    format_duration,
    format_local_times,
    iso_times,
)
from flowdeck.core.runs_table_tree import (
    RunGroup,
    RunTree,
    build_tree,
    make_groups,
    parent_links,
    with_ancestors,
)

PARENT_TAG = "mlflow.parentRunId"
SWATCH = "swatch"
STORE = "store"  # a frame of several stores' runs names each run's store here
SOURCE_RUN_ID = "source_run_id"  # ... and keeps its own run id here (``run_id`` is a key)


class RunsTable:
    """Column arrays over the rows of one runs frame (row = position in that frame)."""

    def __init__(
        self,
        columns: list[Column],
        run_ids: list[str],
        parent: np.ndarray,
        colours: list[str],
    ) -> None:
        self.columns = columns
        self.run_ids = run_ids
        self.parent = parent
        self.colours = colours  # hex colour per row
        self._by_id = {column.spec.id: i for i, column in enumerate(columns)}
        self._row_of = {run_id: row for row, run_id in enumerate(run_ids)}
        self._natural_tree: RunTree | None = None
        self._folded_names: list[str] | None = None

    # --- construction -----------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        frame: pd.DataFrame,
        summaries: pd.DataFrame | None = None,
        colours: Sequence[str] = DEFAULT_PALETTE,
        tz: tzinfo | None = None,
        now: float | None = None,
    ) -> RunsTable:
        """Everything the view shows, formatted once. ``frame`` is what ``store.runs()`` returns.

        ``summaries`` (``store.metric_summaries``) adds min/max/step columns and tells a metric
        logged as NaN from a missing one; ``tz`` defaults to local time; ``now`` (epoch seconds)
        is the end of still-running runs.
        """
        frame = frame.reset_index(drop=True)
        n = len(frame)
        run_ids = [str(v) for v in frame["run_id"]] if n else []
        run_index = pd.Index(run_ids, dtype=object)

        def tag(name: str) -> np.ndarray:
            column = f"tags.{name}"
            if column not in frame:
                return np.full(n, None, dtype=object)
            return object_values(frame[column])

        palette = list(colours)
        colour_index = colour_indices(run_ids, len(palette))
        run_colours = [palette[i] for i in colour_index.tolist()]
        columns = [
            Column(
                ColumnSpec(SWATCH, "", FIXED),
                [""] * n,
                np.array(run_colours, dtype=object),
                np.ones(n, dtype=bool),
                colour_index,
                len(palette),
            )
        ]
        names = tag("mlflow.runName")
        names = np.array(
            [name if name else run_id for name, run_id in zip(names, run_ids, strict=True)],
            dtype=object,
        )
        columns.append(text_column(ColumnSpec("name", "Name", FIXED), names))
        if STORE in frame:  # runs of several stores (flowdeck.core.across_stores)
            columns.append(text_column(ColumnSpec(STORE, "Store", FIXED), _texts(frame, STORE)))
        columns.append(text_column(ColumnSpec("status", "Status", FIXED), _texts(frame, "status")))
        start, start_present = epoch_ms(_series(frame, "start_time"))
        end, end_present = epoch_ms(_series(frame, "end_time"))
        columns.append(_time_column("start_time", "Start time", start, start_present, tz, True))
        status = _texts(frame, "status")
        columns.append(_duration_column(start, end, status, now))
        columns.append(text_column(ColumnSpec("user", "User", FIXED), tag("mlflow.user")))
        sources = tag("mlflow.source.name")
        columns.append(
            text_column(
                ColumnSpec("source", "Source", FIXED),
                sources,
                ["" if s is None else basename(s) for s in sources],
            )
        )
        commits = tag("mlflow.source.git.commit")
        columns.append(
            text_column(
                ColumnSpec("git_commit", "Commit", FIXED),
                commits,
                ["" if c is None else c[:8] for c in commits],
            )
        )
        own_ids = np.array(run_ids, dtype=object)  # a run's id in its store, not its row key
        if SOURCE_RUN_ID in frame:
            own_ids = _texts(frame, SOURCE_RUN_ID)
        columns.append(
            text_column(ColumnSpec("run_id", "Run ID", FIXED, default_visible=False), own_ids)
        )
        columns.append(
            text_column(
                ColumnSpec("experiment_id", "Experiment", FIXED, default_visible=False),
                _texts(frame, "experiment_id"),
            )
        )
        columns.append(_time_column("end_time", "End time", end, end_present, tz, False))

        for key in _keys(frame, "params."):
            spec = ColumnSpec(f"params.{key}", key, PARAM, key)
            columns.append(param_or_tag_column(spec, frame[f"params.{key}"]))
        per_metric = summary_arrays(summaries, run_index) if summaries is not None else {}
        metric_keys = _keys(frame, "metrics.")
        for key in metric_keys:
            values = frame[f"metrics.{key}"].to_numpy(dtype=np.float64, na_value=np.nan)
            present = ~np.isnan(values)
            if key in per_metric:
                present |= ~np.isnan(per_metric[key]["count"])  # a summary row: it was logged
            spec = ColumnSpec(f"metrics.{key}", key, METRIC, key, numeric=True)
            columns.append(number_column(spec, values, present))
        for key in metric_keys:
            if key not in per_metric:
                continue
            arrays = per_metric[key]
            for kind, (field, suffix) in SUMMARY_KINDS.items():
                spec = ColumnSpec(
                    f"metrics.{key}#{field}", f"{key} ({suffix})", kind, key, True, False
                )
                whole = field.endswith("_step")
                columns.append(number_column(spec, arrays[field], whole=whole))
        for key in _keys(frame, "tags."):
            if key.startswith("mlflow."):
                continue
            spec = ColumnSpec(f"tags.{key}", key, TAG, key, default_visible=False)
            columns.append(param_or_tag_column(spec, frame[f"tags.{key}"]))

        parents = parent_links(run_ids, list(tag(PARENT_TAG)))
        return cls(columns, run_ids, parents, run_colours)

    # --- columns and rows -------------------------------------------------------------------

    @property
    def n_rows(self) -> int:
        return len(self.run_ids)

    def specs(self) -> list[ColumnSpec]:
        return [column.spec for column in self.columns]

    def column(self, column: str | int) -> Column:
        return self.columns[column if isinstance(column, int) else self._by_id[column]]

    def has_column(self, column_id: str) -> bool:
        return column_id in self._by_id

    def row_of(self, run_id: str) -> int | None:
        return self._row_of.get(run_id)

    def keys(self, kind: str) -> list[str]:
        """Param, metric or tag keys (``kind`` is 'param', 'metric' or 'tag')."""
        return [c.spec.key for c in self.columns if c.spec.kind == kind]

    # --- sorting, nesting, grouping ---------------------------------------------------------

    def sort_order(self, column: str | int, descending: bool = False) -> np.ndarray:
        """Row map: rows sorted by ``column`` (stable; NaN then missing last either way)."""
        key = self.column(column).sort_key(descending)
        return np.argsort(key, kind="stable")

    def tree(
        self,
        order: np.ndarray | None = None,
        mask: np.ndarray | None = None,
        nested: bool = True,
    ) -> RunTree:
        """The shown rows (``mask``; with their ancestors when nested) in ``order``."""
        order = np.arange(self.n_rows) if order is None else np.asarray(order, dtype=np.int64)
        if mask is not None:
            shown = with_ancestors(self.parent, mask) if nested else mask
            order = order[shown[order]]
        return build_tree(self.parent, order, nested)

    def _tree(self) -> RunTree:
        if self._natural_tree is None:
            self._natural_tree = self.tree()
        return self._natural_tree

    def roots(self) -> np.ndarray:
        """Top-level rows (runs without a parent in this table), in frame order."""
        return self._tree().roots

    def children_of(self, row: int) -> np.ndarray:
        return self._tree().children_of(row)

    def parent_of(self, row: int) -> int:
        """The parent row, or -1 for a root."""
        return int(self.parent[row])

    def group_by(
        self,
        column: str,
        metric: str | None = None,
        order: np.ndarray | None = None,
        mask: np.ndarray | None = None,
    ) -> list[RunGroup]:
        """Groups of equal ``column`` values, with count and mean/min/max of ``metric``.

        ``metric`` is a column id (``metrics.loss``) or a metric key (``loss``).
        """
        order = np.arange(self.n_rows) if order is None else np.asarray(order, dtype=np.int64)
        if mask is not None:
            order = order[mask[order]]
        values = None
        if metric:
            metric_id = metric if self.has_column(metric) else f"metrics.{metric}"
            values = np.asarray(self.column(metric_id).raw, dtype=np.float64)
        by = self.column(column)
        return make_groups(by.rank, by.present, by.display, order, values)

    # --- filters ----------------------------------------------------------------------------

    def name_matches(self, text: str) -> np.ndarray:
        """Rows whose name contains ``text`` (case-insensitive) or whose run id starts with it."""
        needle = text.strip().casefold()
        if not needle:
            return np.ones(self.n_rows, dtype=bool)
        if self._folded_names is None:
            self._folded_names = [name.casefold() for name in self.column("name").display]
        return np.fromiter(
            (
                needle in name or run_id.startswith(needle)
                for name, run_id in zip(self._folded_names, self.run_ids, strict=True)
            ),
            dtype=bool,
            count=self.n_rows,
        )

    def status_in(self, statuses: Collection[str] | None) -> np.ndarray:
        """Rows whose status is one of ``statuses`` (all rows for None)."""
        if statuses is None:
            return np.ones(self.n_rows, dtype=bool)
        status = self.column("status").raw
        return np.isin(status.astype(str), [s.upper() for s in statuses])

    # --- export -----------------------------------------------------------------------------

    def export_frame(
        self, rows: Sequence[int] | np.ndarray | None = None, columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Raw (unformatted) values of ``columns`` (default: visible-by-default) for ``rows``."""
        if columns is None:
            columns = [c.spec.id for c in self.columns if c.spec.default_visible]
        columns = [c for c in columns if c != SWATCH and self.has_column(c)]
        rows = np.arange(self.n_rows) if rows is None else np.asarray(rows, dtype=np.int64)
        data = {}
        for column_id in columns:
            column = self.column(column_id)
            data[column_id] = pd.Series(column.raw[rows], dtype=column.raw.dtype)
        return pd.DataFrame(data, columns=list(columns))

    def to_csv(
        self,
        path: str | Path,
        rows: Sequence[int] | np.ndarray | None = None,
        columns: Sequence[str] | None = None,
    ) -> None:
        """Write ``export_frame(rows, columns)`` as UTF-8 CSV; the header row holds column ids."""
        self.export_frame(rows, columns).to_csv(path, index=False, na_rep="")


def _series(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return frame[name]
    return pd.Series([pd.NaT] * len(frame), dtype="datetime64[ms, UTC]")


def _texts(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), None, dtype=object)
    return object_values(frame[name])


def _keys(frame: pd.DataFrame, prefix: str) -> list[str]:
    keys = [c[len(prefix) :] for c in frame.columns if c.startswith(prefix)]
    return sorted(keys, key=lambda k: (k.casefold(), k))


def _time_column(
    column_id: str,
    title: str,
    millis: np.ndarray,
    present: np.ndarray,
    tz: tzinfo | None,
    visible: bool,
) -> Column:
    """Local-time text, ISO UTC raw values, sorted by time."""
    rank, n_ordered = numeric_ranks(millis, present)
    return Column(
        ColumnSpec(column_id, title, FIXED, default_visible=visible),
        format_local_times(millis, present, tz),
        iso_times(millis, present),
        present,
        rank,
        n_ordered,
    )


def _duration_column(
    start: np.ndarray, end: np.ndarray, status: np.ndarray, now: float | None
) -> Column:
    """End minus start; a running run without an end counts until ``now``."""
    now_ms = (time.time() if now is None else now) * 1000.0
    running = np.array([s == "RUNNING" for s in status], dtype=bool)
    finish = np.where(np.isnan(end) & running, now_ms, end)
    seconds = (finish - start) / 1000.0
    present = ~np.isnan(seconds)
    display = [format_duration(s) if p else "" for s, p in zip(seconds, present, strict=True)]
    spec = ColumnSpec("duration", "Duration", FIXED, numeric=True)
    return number_column(spec, seconds, present, display)
