"""From the runs table's selection to what the charts need: runs, metric keys and groups."""

from __future__ import annotations

import numpy as np

from flowdeck.core.runs_table import STORE, RunsTable
from flowdeck.core.runs_table_tree import RunGroup
from flowdeck.ui.charts.loading import ChartRun


def chart_runs(table: RunsTable, run_ids: list[str]) -> tuple[list[ChartRun], list[str]]:
    """The selected runs (in selection order) and the metric keys any of them logged."""
    rows = [row for run_id in run_ids if (row := table.row_of(run_id)) is not None]
    if not rows:
        return [], []
    names = table.column("name").display
    if table.has_column(STORE):  # runs of several stores: the legend says whose run it is
        stores = table.column(STORE).display
        names = [f"{name} · {store}" for name, store in zip(names, stores, strict=True)]
    statuses = table.column("status").raw
    starts = _start_ms(table, rows)
    runs = [
        ChartRun(
            table.run_ids[row],
            names[row] or table.run_ids[row],
            table.colours[row],
            start,
            statuses[row] == "RUNNING",
        )
        for row, start in zip(rows, starts, strict=True)
    ]
    index = np.array(rows, dtype=np.int64)
    keys = [
        key
        for key in table.keys("metric")
        if bool(np.any(table.column(f"metrics.{key}").present[index]))
    ]
    return runs, keys


def chart_groups(
    groups: list[RunGroup], table: RunsTable, run_ids: list[str]
) -> list[tuple[str, list[str]]]:
    """The runs table's groups restricted to the selected runs: (label, run ids) each."""
    chosen = set(run_ids)
    out = []
    for group in groups:
        members = [
            table.run_ids[row] for row in group.rows.tolist() if table.run_ids[row] in chosen
        ]
        if members:
            out.append((group.label, members))
    return out


def _start_ms(table: RunsTable, rows: list[int]) -> list[int | None]:
    if not table.has_column("start_time"):
        return [None] * len(rows)
    iso = table.column("start_time").raw
    return [
        None
        if iso[row] is None
        else int(np.datetime64(iso[row].rstrip("Z"), "ms").astype(np.int64))
        for row in rows
    ]
