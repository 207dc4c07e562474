"""Registry reads on 1,000 models × 20 versions: Flowdeck vs MlflowClient, and the models page.

(1) SQLite: ``registered_models()`` (all pages) + ``all_model_versions()`` vs MlflowClient's
``search_registered_models`` + ``search_model_versions`` paged through everything (MLflow's
largest pages, 1,000 models and 200,000 versions, so MLflow makes as few calls as it can); the
old model-by-model read (the base class default, one ``model_versions`` per model) beside it.
(2) The same through a real ``mlflow server`` on a copy of the database (Flowdeck's REST store vs
MlflowClient on the server's URL). (3) The ``models`` page opened in a fresh GUI process
(offscreen, ``bench_pages.snapshot``): time to loaded and longest GUI stall.
Store: ``benchmarks/gen_registry.py`` (cached under benchmarks/data). Results:
``benchmarks/results/registry.json``.
Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.bench_registry [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.bench_pages import STALL_BUDGET_MS, snapshot
from benchmarks.gen_registry import generate_registry_store
from benchmarks.timing import Comparison, time_call

DATA = Path(__file__).resolve().parent / "data"
RESULTS = Path(__file__).resolve().parent / "results"
MODELS_PAGE = 1000  # the most MLflow returns in one registered-models search
VERSIONS_PAGE = 200_000  # the most MLflow returns in one model-versions search
SQLITE_TARGET = 5.0
SERVER_TARGET = 1.0  # both clients wait on the same server-side work; not slower is the bar

Pairs = set[tuple[str, int]]


def _pages(search: Callable[..., Any], max_results: int) -> list[Any]:
    found, token = [], None
    while True:
        page = search(max_results=max_results, page_token=token)
        found.extend(page)
        token = page.token
        if not token:
            return found


def mlflow_read(uri: str) -> tuple[int, Pairs]:
    """Every model and every version through MLflow's client (a fresh client each time)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    models = _pages(client.search_registered_models, MODELS_PAGE)
    versions = _pages(client.search_model_versions, VERSIONS_PAGE)
    return len(models), {(v.name, int(v.version)) for v in versions}


def flowdeck_read(location: str, bulk: bool = True) -> tuple[int, Pairs]:
    """Every model and version through a fresh Flowdeck store: bulk, or model by model."""
    from flowdeck.store import open_store
    from flowdeck.store.base import Store

    store = open_store(location)
    try:
        models, token = [], None
        while True:
            page = store.registered_models("", token, MODELS_PAGE)
            models.extend(page.items)
            token = page.next_token
            if not token:
                break
        every = store.all_model_versions() if bulk else Store.all_model_versions(store)
        return len(models), {(v.name, v.version) for listed in every.values() for v in listed}
    finally:
        store.close()


def compare(name: str, location: str, uri: str, repeat: int, target: float) -> dict[str, Any]:
    ours = time_call(lambda: flowdeck_read(location), repeat)
    theirs = time_call(lambda: mlflow_read(uri), repeat)
    per_model = time_call(lambda: flowdeck_read(location, bulk=False), 1)
    for other in (theirs, per_model):
        assert other.result == ours.result, f"{name}: Flowdeck and MLflow read different data"
    models, pairs = ours.result
    row = Comparison(
        f"{name}: {models:,} models, {len(pairs):,} versions", ours, theirs, target
    ).as_dict()
    row["flowdeck_per_model_s"] = round(per_model.median, 4)
    row["bulk_speedup_over_per_model"] = round(per_model.median / ours.median, 1)
    return row


def bench_server(db: Path, repeat: int) -> dict[str, Any]:
    from tests.helpers.servers import start_mlflow_server

    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        shutil.copy2(db, workdir / "mlflow.db")
        server = start_mlflow_server(workdir)
        try:
            return compare("mlflow server", server.url, server.url, repeat, SERVER_TARGET)
        finally:
            server.stop()


def bench_models_page(db: Path, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        runs = [snapshot(db, "models", Path(folder) / f"{i}.png") for i in range(repeat)]
    row: dict[str, Any] = {
        "address": "models",
        "load_s": [r["load_s"] for r in runs],
        "stall_ms": [r["stall_ms"] for r in runs],
        "started_s": [r["started_s"] for r in runs],
    }
    row["meets_budget"] = max(row["stall_ms"]) < STALL_BUDGET_MS
    return row


def print_table(report: dict[str, Any]) -> None:
    print(f"{'workload':<52} {'flowdeck':>9} {'mlflow':>9} {'ratio':>6} {'per-model':>10}")
    for row in report["reads"]:
        print(
            f"{row['workload']:<52} {row['flowdeck_s']:>8.3f}s {row['mlflow_s']:>8.3f}s "
            f"{row['ratio']:>5.1f}x {row['flowdeck_per_model_s']:>9.3f}s"
            f"{'' if row['meets_target'] else '  UNDER TARGET'}"
        )
    page = report["models_page"]
    print(
        f"models page (GUI, offscreen): load {min(page['load_s']):.2f}-{max(page['load_s']):.2f} s"
        f", longest stall {min(page['stall_ms']):.0f}-{max(page['stall_ms']):.0f} ms"
        f"{'' if page['meets_budget'] else '  OVER BUDGET'}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    db = generate_registry_store(DATA / "registry.db")
    uri = f"sqlite:///{db}"
    report: dict[str, Any] = {
        "store": {"models": 1000, "versions_per_model": 20, "path": db.name},
        "reads": [compare("SQLite", str(db), uri, args.repeat, SQLITE_TARGET)],
    }
    report["reads"].append(bench_server(db, args.repeat))
    report["models_page"] = bench_models_page(db, args.repeat)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "registry.json").write_text(json.dumps(report, indent=2))
    print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
