"""Start-up: process start to a usable window, and ``import flowdeck.ui.app``, in fresh processes.

Each sample is a new ``python -m flowdeck LOCATION --screenshot`` process (cold process, OS
cache warm after one unmeasured run) on a SQLite store, an mlruns/ folder and the demo store.
It reports, counted from the process's start:
  listed   the first store's experiments reached the sidebar (a probe on the sidebar model's
           ``store_loaded`` signal, the same for any checkout, so "before" and "after" compare);
  started  the ``started`` line: the sidebar has painted those experiments (older checkouts
           printed their first paint there instead);
  cpu      the process's CPU time at ``listed`` (steadier than wall time on a busy machine);
plus the page's ``load`` time and the ``longest stall`` of the GUI thread (which now covers the
warm-up after start-up). Also ``import flowdeck.ui.app`` and ``import flowdeck.ui.main_window``.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.bench_startup [--repeat 9]``;
``--source DIR`` measures another checkout's ``DIR/src`` instead, ``--against DIR`` as well,
alternating process by process (for "before": ``git archive HEAD | tar -x -C DIR``).
Budget: median ``listed`` and ``started`` under 1.0 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.gen_filestore import generate_file_store
from benchmarks.gen_sqlite import generate_sqlite_store

BUDGET_S = 1.0
DATA = Path(__file__).resolve().parent / "data"
RESULTS = Path(__file__).resolve().parent / "results"
IMPORTS = ("flowdeck.ui.app", "flowdeck.ui.main_window")

# Prints "probe listed <s> cpu <s>" when the first store's experiments reach the sidebar model.
# It only wraps StoreTreeModel once its module is imported: nothing is imported earlier.
PROBE = r"""
import importlib.abc, importlib.util, os, runpy, sys
from flowdeck.core.process_clock import seconds_since_start

class Probe(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "flowdeck.ui.sidebar.model":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            init = module.StoreTreeModel.__init__

            def patched(model, *args, **kwargs):
                init(model, *args, **kwargs)
                seen = []

                def listed(*_):
                    if not seen:
                        seen.append(True)
                        cpu = os.times().user + os.times().system
                        print(f"probe listed {seconds_since_start():.3f} cpu {cpu:.3f}",
                              file=sys.stderr, flush=True)

                model.store_loaded.connect(listed)

            module.StoreTreeModel.__init__ = patched

        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, Probe())
sys.argv = ["flowdeck", *sys.argv[1:]]
runpy.run_module("flowdeck", run_name="__main__")
"""


def _env(source: Path | None, config: Path) -> dict[str, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    env["XDG_CONFIG_HOME"] = str(config)  # no saved tabs or window state from the user
    env.pop("MLFLOW_TRACKING_URI", None)
    if source is not None:
        env["PYTHONPATH"] = str(source / "src")
    return env


def _number(pattern: str, text: str) -> float | None:
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else None


def start_once(location: str, source: Path | None, folder: Path) -> dict[str, float | None]:
    """One fresh process to its screenshot; the timings it printed."""
    command = [sys.executable, "-c", PROBE, location, "--screenshot", str(folder / "shot.png")]
    done = subprocess.run(
        command, capture_output=True, text=True, env=_env(source, folder / "config"), timeout=300
    )
    listed = re.search(r"^probe listed ([\d.]+) cpu ([\d.]+)$", done.stderr, re.MULTILINE)
    started = _number(r"^started ([\d.]+) s$", done.stderr)
    shown = _number(r"^window shown ([\d.]+) s$", done.stderr)
    if done.returncode != 0 or listed is None or started is None:
        raise RuntimeError(f"{location}: start-up failed ({done.returncode}):\n{done.stderr}")
    return {
        "listed_s": float(listed.group(1)),
        "cpu_s": float(listed.group(2)),
        "started_s": started,
        "shown_s": shown if shown is not None else started,
        "load_s": _number(r"^load ([\d.]+) s$", done.stderr),
        "stall_ms": _number(r"^longest stall (\d+) ms$", done.stderr),
    }


def import_once(module: str, source: Path | None, folder: Path) -> dict[str, float]:
    """Wall and CPU seconds of ``import module`` in a fresh interpreter."""
    script = (
        "import os, time\nt = time.perf_counter(); c = os.times()\n"
        f"import {module}\n"
        "e = os.times()\n"
        "print(time.perf_counter() - t, e.user + e.system - c.user - c.system)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=_env(source, folder / "config"),
        timeout=120,
        check=True,
    )
    wall, cpu = done.stdout.split()
    return {"wall_s": float(wall), "cpu_s": float(cpu)}


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def stores(full: bool) -> dict[str, str]:
    """The stores measured: the benchmark SQLite file, an mlruns/ folder, the demo store."""
    from flowdeck.demo import ensure_demo_store

    name, runs = ("bench.db", 10_000) if full else ("bench-quick.db", 200)
    db = generate_sqlite_store(DATA / name, n_runs=runs, long_points=runs * 100)
    folder = generate_file_store(DATA / ("mlruns" if full else "mlruns-quick"), n_runs=runs // 5)
    return {"sqlite": str(db), "mlruns": str(folder), "demo": str(ensure_demo_store())}


def _print_import(label: str, module: str, row: dict) -> None:
    wall, cpu = row["wall_s"], row["cpu_s"]
    print(
        f"{label:<7} import {module:<24} {wall['median']:.2f} s ({wall['min']:.2f}-"
        f"{wall['max']:.2f}), cpu {cpu['median']:.2f} s",
        flush=True,
    )


def _print_store(label: str, name: str, row: dict) -> None:
    listed, started = row["listed_s"], row["started_s"]
    shown = row.get("shown_s", started)
    print(
        f"{label:<7} {name:<7} shown {shown['median']:.2f} s ({shown['min']:.2f}-"
        f"{shown['max']:.2f})  listed {listed['median']:.2f} s ({listed['min']:.2f}-"
        f"{listed['max']:.2f})  started {started['median']:.2f} s ({started['min']:.2f}-"
        f"{started['max']:.2f})  cpu {row['cpu_s']['median']:.2f} s  stall "
        f"{row['stall_ms']['median']:.0f} ms (max {row['stall_ms']['max']:.0f})  "
        f"{'ok' if row['meets_budget'] else 'OVER BUDGET'}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=9, help="fresh processes per case")
    parser.add_argument("--source", type=Path, default=None, help="measure DIR/src instead")
    parser.add_argument(
        "--against",
        type=Path,
        default=None,
        help="also measure DIR/src, alternating process by process (a fair before/after on a "
        "machine whose load changes)",
    )
    parser.add_argument("--full", action="store_true", help="the 10,000-run benchmark stores")
    parser.add_argument("--output", type=Path, default=RESULTS / "startup.json")
    args = parser.parse_args(argv)
    sources: dict[str, Path | None] = {"this": args.source}
    if args.against is not None:
        sources["against"] = args.against
    report: dict = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "sources": {label: str(source or "this checkout") for label, source in sources.items()},
        "budget_s": BUDGET_S,
        "load_average_before": os.getloadavg(),
        **{label: {"imports": {}, "stores": {}} for label in sources},
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for module in IMPORTS:
            samples: dict[str, list[dict]] = {label: [] for label in sources}
            for index in range(args.repeat + 1):  # the first round warms the OS cache
                for label, source in sources.items():
                    sample = import_once(module, source, folder)
                    if index:
                        samples[label].append(sample)
            for label in sources:
                row = {k: summary([s[k] for s in samples[label]]) for k in ("wall_s", "cpu_s")}
                report[label]["imports"][module] = row
                _print_import(label, module, row)
        for name, location in stores(args.full).items():
            runs: dict[str, list[dict]] = {label: [] for label in sources}
            for index in range(args.repeat + 1):
                for label, source in sources.items():
                    sample = start_once(location, source, folder)
                    if index:
                        runs[label].append(sample)
            for label in sources:
                row = {
                    key: summary([r[key] for r in runs[label] if r[key] is not None])
                    for key in ("shown_s", "listed_s", "started_s", "cpu_s", "load_s", "stall_ms")
                }
                medians = (row["listed_s"]["median"], row["started_s"]["median"])
                row["meets_budget"] = max(medians) < BUDGET_S
                row["samples"] = runs[label]
                report[label]["stores"][name] = row
                _print_store(label, name, row)
    report["load_average_after"] = os.getloadavg()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    return 0 if all(row["meets_budget"] for row in report["this"]["stores"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
