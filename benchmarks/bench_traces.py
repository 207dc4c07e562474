"""A 100,000-span trace (depth 20, 1 KB payloads): store read vs MLflow, memory, and the GUI.

Store: ``store.trace`` + ``build_trace_tree`` vs ``MlflowClient.get_trace`` on the same trace,
SQLite and file store, each in a fresh process (time, peak RSS and tracemalloc peak).
GUI: ``flowdeck LOCATION --page trace/<id> --screenshot`` (load, longest stall), then in one
process: open the page and scroll, expand all (every span: the rows shown are recorded), scroll,
filter by text, clear, expand to a depth, collapse, select a deep span — the longest GUI-thread
stall of each step, with the GUI thread's own CPU time in it (``stall_cpu_ms``: a stall with
little CPU is the machine or the GIL, not the window's work) and the step's CPU time.
Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.bench_traces [--repeat 3]``.
Budgets: usable tree < 2 s, no stall ≥ 100 ms, < 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_pages import snapshot
from benchmarks.gen_big_trace import generate_big_trace

DATA = Path(__file__).resolve().parent / "data"
RESULTS = Path(__file__).resolve().parent / "results"
STALL_BUDGET_MS, LOAD_BUDGET_S, MEMORY_BUDGET_MB = 100.0, 2.0, 1024.0
SETTLE_S = 0.5


def _read_once(reader: str, location: str, trace_id: str) -> dict[str, float]:
    """One read in this process: seconds, span count, peak RSS and tracemalloc peak (MB)."""
    import tracemalloc

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    if reader == "flowdeck":
        from flowdeck.core.trace_tree import build_trace_tree
        from flowdeck.store import open_store

        store = open_store(location)
        store.experiments()  # connect first: only the trace read is timed
    else:
        from mlflow import MlflowClient

        uri = f"sqlite:///{location}" if location.endswith(".db") else Path(location).as_uri()
        client = MlflowClient(tracking_uri=uri)
        client.get_experiment("0")

    def read() -> int:
        if reader == "flowdeck":
            return len(build_trace_tree(store.trace(trace_id).spans))
        return len(client.get_trace(trace_id).data.spans)

    started = time.perf_counter()
    count = read()
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak of the whole process
    tracemalloc.start()  # a second read, traced (tracing slows it: not timed)
    read()
    _, peak = tracemalloc.get_traced_memory()
    return {"seconds": seconds, "spans": count, "rss_mb": rss, "traced_mb": peak / 2**20}


def read_in_child(reader: str, location: str, trace_id: str) -> dict[str, float]:
    command = [sys.executable, "-m", "benchmarks.bench_traces", "--child", reader, location]
    done = subprocess.run(
        [*command, trace_id], capture_output=True, text=True, timeout=1800, check=False
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def gui_steps(location: str, trace_id: str) -> list[dict[str, float | str]]:
    """Longest stall of each step on the trace page (one process)."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from flowdeck.ui.main_window import MainWindow
    from flowdeck.ui.snapshot import StallMeter

    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.persist_state = False
    window.sessions.restore_tabs = False
    window.resize(1440, 860)
    window.show()

    def wait(condition, timeout_s: float = 300.0) -> None:  # noqa: ANN001
        end = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > end:
                raise TimeoutError("the trace page did not settle")
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 10)

    window.open_location(location)
    wait(lambda: bool(window.stores()))
    meter = StallMeter()
    rows: list[dict[str, float | str]] = []

    def step(name: str, action) -> None:  # noqa: ANN001
        meter.start()
        started, cpu = time.perf_counter(), time.process_time()
        action()
        wait(lambda: not window.runner.busy and not getattr(page, "busy", False))
        done, cpu = time.perf_counter() - started, time.process_time() - cpu
        until = time.monotonic() + SETTLE_S
        wait(lambda: time.monotonic() > until)
        meter.stop()
        shown = page.model.rowCount() if page is not None else 0
        rows.append(
            {
                "step": name,
                "seconds": round(done, 2),
                "cpu_s": round(cpu, 2),  # both threads, until the step's work is done
                "stall_ms": round(meter.longest_ms),
                "stall_cpu_ms": round(meter.longest_cpu_ms),  # the GUI thread's, in that stall
                "rows": shown,
            }
        )
        print(
            f"  {name:<28} {done:6.2f} s  cpu {cpu:5.2f} s  stall {meter.longest_ms:4.0f} ms"
            f" (GUI cpu {meter.longest_cpu_ms:3.0f} ms)  {shown:,} rows",
            flush=True,
        )

    page = None

    def open_page() -> None:
        nonlocal page
        page = window.open_page(window.stores()[0], f"trace/{trace_id}")
        wait(lambda: not page.loading)

    step("open the page", open_page)
    tree = page.tree
    step("scroll to the bottom", tree.scrollToBottom)
    step("expand all", page.expand_all)
    step("scroll to the bottom", tree.scrollToBottom)
    step("scroll to the top", tree.scrollToTop)

    def filter_text(text: str) -> None:
        page.search.setText(text)
        page.refilter()

    step("filter 'step-20'", lambda: filter_text("step-20"))
    step("scroll to the bottom", tree.scrollToBottom)
    step("filter 'step-1' (wide)", lambda: filter_text("step-1"))  # step-1, step-10…19: most
    step("scroll to the bottom", tree.scrollToBottom)
    step("filter '#777'", lambda: filter_text("#777"))
    step("clear the filter", lambda: filter_text(""))
    page.depth.setValue(4)
    step("expand to depth 4", page.expand_to_depth)
    step("collapse all", tree.collapseAll)
    step("next error", page.select_next_error)
    window.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("READER", "LOCATION", "TRACE"))
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_read_once(*args.child)))
        return 0
    data = generate_big_trace(DATA)
    report: dict[str, list] = {"reads": [], "pages": [], "steps": []}
    for kind in ("sqlite", "files"):
        location, trace_id = data[kind], data[f"{kind}_trace"]
        ours = [read_in_child("flowdeck", location, trace_id) for _ in range(args.repeat)]
        theirs = read_in_child("mlflow", location, trace_id)
        best = min(ours, key=lambda r: r["seconds"])
        row = {
            "store": kind,
            "spans": best["spans"],
            "flowdeck_s": [round(r["seconds"], 2) for r in ours],
            "flowdeck_rss_mb": round(max(r["rss_mb"] for r in ours)),
            "flowdeck_traced_mb": round(max(r["traced_mb"] for r in ours)),
            "mlflow": {k: round(v, 2) if isinstance(v, float) else v for k, v in theirs.items()},
        }
        if "seconds" in theirs:
            row["ratio"] = round(theirs["seconds"] / best["seconds"], 1)
        report["reads"].append(row)
        print(json.dumps(row), flush=True)
        with tempfile.TemporaryDirectory() as folder:
            shots = [
                snapshot(Path(location), f"trace/{trace_id}", Path(folder) / f"{i}.png")
                for i in range(args.repeat)
            ]
        page = {"store": kind, **{k: [s[k] for s in shots] for k in shots[0]}}
        report["pages"].append(page)
        print(json.dumps(page), flush=True)
        print(f"{kind}: GUI steps", flush=True)
        report["steps"].append({"store": kind, "steps": gui_steps(location, trace_id)})
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "traces.json").write_text(json.dumps(report, indent=2))
    stalls = [max(p["stall_ms"]) for p in report["pages"]]
    stalls += [s["stall_ms"] for group in report["steps"] for s in group["steps"]]
    loads = [max(p["load_s"]) for p in report["pages"]]
    memory = [r["flowdeck_rss_mb"] for r in report["reads"]]
    ok = max(stalls) < STALL_BUDGET_MS and max(loads) < LOAD_BUDGET_S
    return 0 if ok and max(memory) < MEMORY_BUDGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
