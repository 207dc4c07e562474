"""The run page on the heavy run (issue 9): every tab and the heaviest artifacts, timed.

Fresh processes: ``flowdeck heavy.db --page ADDRESS --screenshot`` for the run page and for
artifact previews (200 MB log, 100,000-row CSV, 1,000-file folder, 300 step images), reading
``load``, ``longest stall`` and ``started``. In one process: open the run page, then show each
of its tabs in turn and wait until it has settled, with the GUI-thread stall meter running.
Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.bench_run_page [--repeat 3]``.
Budget: no stall ≥ 100 ms.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_pages import snapshot
from benchmarks.gen_heavy_run import CSV_PATH, FILES_DIR, LOG_PATH, generate_heavy_store

STALL_BUDGET_MS = 100.0
DATA = Path(__file__).resolve().parent / "data" / "heavy"
RESULTS = Path(__file__).resolve().parent / "results"
SETTLE_S = 1.5


def addresses(run_id: str) -> list[str]:
    return [
        f"run/{run_id}",
        f"run/{run_id}/artifacts",
        f"run/{run_id}/artifacts/{LOG_PATH}",
        f"run/{run_id}/artifacts/{CSV_PATH}",
        f"run/{run_id}/artifacts/{FILES_DIR}",
        f"run/{run_id}/artifacts/images",
    ]


def tab_switches(db: Path, run_id: str) -> list[dict[str, float]]:
    """Longest stall while each tab of the run page is shown and settles (one process)."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication, QTabWidget

    from flowdeck.ui.main_window import MainWindow
    from flowdeck.ui.snapshot import StallMeter

    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.persist_state = False
    window.sessions.restore_tabs = False
    window.resize(1440, 860)
    window.show()

    def wait(condition, timeout_s: float = 120.0) -> None:  # noqa: ANN001
        end = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > end:
                raise TimeoutError("the run page did not settle")
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 10)

    window.open_location(str(db))
    wait(lambda: bool(window.stores()))
    page = window.open_page(window.stores()[0], f"run/{run_id}")
    wait(lambda: not page.loading)
    tabs = page.findChild(QTabWidget)
    rows = []
    meter = StallMeter()
    for index in range(tabs.count()):
        meter.start()
        started = time.perf_counter()
        tabs.setCurrentIndex(index)
        settle_until = time.monotonic() + SETTLE_S
        wait(lambda until=settle_until: time.monotonic() > until and not window.runner.busy)
        meter.stop()
        rows.append(
            {
                "tab": tabs.tabText(index),
                "settled_s": round(time.perf_counter() - started - SETTLE_S, 2),
                "stall_ms": round(meter.longest_ms),
            }
        )
    window.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    db, run_id = generate_heavy_store(DATA)
    report: dict[str, list] = {"pages": [], "tabs": []}
    with tempfile.TemporaryDirectory() as folder:
        for address in addresses(run_id):
            runs = [snapshot(db, address, Path(folder) / f"{i}.png") for i in range(args.repeat)]
            row = {
                "address": address.replace(run_id, "<run>"),
                "load_s": [r["load_s"] for r in runs],
                "stall_ms": [r["stall_ms"] for r in runs],
                "started_s": [r["started_s"] for r in runs],
            }
            report["pages"].append(row)
            print(
                f"{row['address']:<40} load {min(row['load_s']):.2f}-{max(row['load_s']):.2f} s"
                f"  stall {min(row['stall_ms']):.0f}-{max(row['stall_ms']):.0f} ms"
                f"  started {min(row['started_s']):.2f}-{max(row['started_s']):.2f} s",
                flush=True,
            )
    for row in tab_switches(db, run_id):
        report["tabs"].append(row)
        print(f"tab {row['tab']:<20} settled {row['settled_s']:.2f} s  stall {row['stall_ms']} ms")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "run_page.json").write_text(json.dumps(report, indent=2))
    stalls = [max(r["stall_ms"]) for r in report["pages"]] + [r["stall_ms"] for r in report["tabs"]]
    return 0 if max(stalls) < STALL_BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
