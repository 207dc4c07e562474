"""Regenerate the user guide's pictures (docs/guide/*.png) with Flowdeck itself, from the demo store.

Run from the repository root: ``.venv/bin/python docs/make_guide_pictures.py [NAME …]``.
Each picture is ``flowdeck DEMO_STORE --page ADDRESS --screenshot FILE`` (printed as it runs),
with settings of its own (so your tabs, layout and recent stores stay out of the pictures),
then scaled down to ``WIDTH`` pixels so that each file stays small. The demo store is built
first if it is absent. Ids (run, trace) are looked up by name, because every build makes new ones.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
OUT = DOCS / "guide"
WIDTH = 1200  # px; the window is grabbed at 1440 x 860
MAX_BYTES = 250_000


def demo_addresses(store: object) -> dict[str, list[str]]:
    """Picture name -> the extra command-line arguments that show it."""
    runs = store.runs(["1"])  # type: ignore[attr-defined]
    by_name = dict(zip(runs["tags.mlflow.runName"], runs["run_id"], strict=True))
    baselines = [by_name[f"baseline-{m}"] for m in ("resnet18", "efficientnet-b0", "mobilenet-v3")]
    traces, _token = store.search_traces(["3"], max_results=100)  # type: ignore[attr-defined]
    failing = next(t.trace_id for t in traces if "timed out" in (t.response_preview or ""))
    return {
        "welcome": ["--page", "welcome"],
        "runs": ["--experiment", "image-classifier", "--select", "3", "--view", "charts"],
        "charts": [
            "--experiment", "image-classifier",
            "--filter", "attributes.run_name LIKE 'resnet18-trial%'",
            "--select", "8", "--view", "charts",
        ],
        "run": ["--page", f"run/{baselines[0]}"],
        "compare": ["--page", "compare/" + ",".join(baselines)],
        "model": ["--page", "model/house-price-scorer"],
        "trace": ["--page", f"trace/{failing}"],
    }


def settings_folder(demo: Path) -> Path:
    """A config folder whose only setting is one recent store: the demo store."""
    from PySide6.QtCore import QSettings

    folder = Path(tempfile.mkdtemp(prefix="flowdeck-guide-"))
    ini = folder / "Flowdeck" / "Flowdeck.ini"
    settings = QSettings(str(ini), QSettings.Format.IniFormat)
    settings.setValue("recent_stores", [str(demo), "/data/old-project/mlruns"])
    settings.sync()
    return folder


def shrink(path: Path) -> int:
    """Scale ``path`` down to ``WIDTH`` pixels wide (smoothly); returns its size in bytes."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    if image.width() > WIDTH:
        image = image.scaledToWidth(WIDTH, Qt.TransformationMode.SmoothTransformation)
    image.convertTo(QImage.Format.Format_RGB888)
    image.save(str(path), "PNG", 0)  # quality 0: the smallest PNG
    return path.stat().st_size


def main(names: list[str]) -> int:
    from flowdeck.demo import ensure_demo_store
    from flowdeck.store import open_store

    demo = ensure_demo_store()
    store = open_store(str(demo))
    try:
        wanted = demo_addresses(store)
    finally:
        store.close()
    unknown = sorted(set(names) - set(wanted))
    if unknown:
        print(f"unknown picture(s): {', '.join(unknown)}; known: {', '.join(wanted)}")
        return 2
    OUT.mkdir(exist_ok=True)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(settings_folder(demo)))
    env.pop("MLFLOW_TRACKING_URI", None)
    failed = 0
    for name, extra in wanted.items():
        if names and name not in names:
            continue
        target = OUT / f"{name}.png"
        command = [sys.executable, "-m", "flowdeck", str(demo), *extra, "--screenshot", str(target)]
        if name == "welcome":  # the store used last is opened beside the page
            command.remove(str(demo))
        print("flowdeck " + shlex.join(command[3:]), flush=True)
        result = subprocess.run(command, env=env, cwd=tempfile.gettempdir(), check=False)
        if result.returncode != 0:
            print(f"  failed with exit code {result.returncode}")
            failed += 1
            continue
        size = shrink(target)
        print(f"  {target.relative_to(DOCS.parent)}: {size / 1000:.0f} KB")
        if size > MAX_BYTES:
            print(f"  larger than {MAX_BYTES / 1000:.0f} KB: lower WIDTH")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
