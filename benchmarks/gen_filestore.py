"""Generate the mlruns/ benchmark folder in MLflow's exact file-store format, fast."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

import numpy as np
import yaml

BENCH_EXPERIMENT_ID = "1"
BENCH_EXPERIMENT = "bench"
FORMAT_VERSION = "2"  # bump when the shape changes, so cached folders are rebuilt
_DONE_MARKER = ".flowdeck-bench-done"

_EXPERIMENT_META = """artifact_location: {artifact_location}
creation_time: {time}
effective_trace_archival_retention: null
experiment_id: '{experiment_id}'
last_update_time: {time}
lifecycle_stage: active
name: {name}
trace_location: null
workspace: default
"""

_RUN_META = """artifact_uri: {artifact_uri}
end_time: {end_time}
entry_point_name: ''
experiment_id: '{experiment_id}'
lifecycle_stage: active
run_id: {run_id}
run_name: {run_name}
source_name: ''
source_type: 4
source_version: ''
start_time: {start_time}
status: {status}
tags: []
user_id: bench
"""


def _yaml_text(text: str) -> str:
    """The text as MLflow's yaml.safe_dump writes it: quoted when YAML would read a non-string."""
    return text if yaml.safe_load(text) == text else "'" + text.replace("'", "''") + "'"


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _write_experiment(root: Path, experiment_id: str, name: str, now: int) -> Path:
    folder = root / experiment_id
    folder.mkdir(parents=True, exist_ok=True)
    _write(
        folder / "meta.yaml",
        _EXPERIMENT_META.format(
            artifact_location=folder.as_uri(), time=now, experiment_id=experiment_id, name=name
        ),
    )
    return folder


def _write_run(
    experiment_folder: Path,
    experiment_id: str,
    index: int,
    rng: np.random.Generator,
    start: int,
    n_params: int,
    n_metrics: int,
    n_steps: int,
    n_tags: int,
) -> None:
    run_id = uuid.UUID(bytes=rng.bytes(16), version=4).hex
    run_folder = experiment_folder / run_id
    run_name = f"run-{index}"
    for sub in ("params", "metrics", "tags", "artifacts"):
        (run_folder / sub).mkdir(parents=True, exist_ok=True)
    status = 3 if index % 10 else 4
    _write(
        run_folder / "meta.yaml",
        _RUN_META.format(
            artifact_uri=(run_folder / "artifacts").as_uri(),
            end_time=start + 60_000,
            experiment_id=experiment_id,
            run_id=_yaml_text(run_id),
            run_name=_yaml_text(run_name),
            start_time=start,
            status=status,
        ),
    )
    for p in range(n_params):
        _write(run_folder / "params" / f"param_{p}", str(round(float(rng.random()), 6)))
    values = rng.random((n_metrics, n_steps))
    for m in range(n_metrics):
        lines = [f"{start + s * 100} {float(values[m, s])!r} {s}" for s in range(n_steps)]
        _write(run_folder / "metrics" / f"metric_{m}", "\n".join(lines) + "\n")
    tags = {
        "mlflow.runName": run_name,
        "mlflow.user": "bench",
        "mlflow.source.name": "bench.py",
        "mlflow.source.type": "LOCAL",
    }
    for t in range(n_tags):
        tags[f"tag_{t}"] = f"value-{int(rng.integers(0, 5))}"
    for key, value in tags.items():
        _write(run_folder / "tags" / key, value)


def generate_file_store(
    path: str | os.PathLike[str],
    n_runs: int = 2000,
    n_params: int = 20,
    n_metrics: int = 10,
    n_steps: int = 20,
    n_tags: int = 3,
    seed: int = 7,
) -> Path:
    """Write an mlruns/ folder at ``path`` (one experiment ``bench``), reusing a finished one.

    The files match what MLflow 3.17's file store writes (meta.yaml key order and quoting,
    ``ts value step`` metric lines, one file per param/tag), checked against an
    MLflow-written sample in tests/store/files/test_generator.py.
    """
    root = Path(path)
    shape = f"{FORMAT_VERSION} {n_runs} {n_params} {n_metrics} {n_steps} {n_tags} {seed}"
    marker = root / _DONE_MARKER
    if marker.is_file() and marker.read_text() == shape:
        return root
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    now = int(time.time() * 1000)
    _write_experiment(root, "0", "Default", now)
    experiment_folder = _write_experiment(root, BENCH_EXPERIMENT_ID, BENCH_EXPERIMENT, now)
    for index in range(n_runs):
        _write_run(
            experiment_folder,
            BENCH_EXPERIMENT_ID,
            index,
            rng,
            now - (n_runs - index) * 1000,
            n_params,
            n_metrics,
            n_steps,
            n_tags,
        )
    # The marker sits beside the experiments; MLflow ignores plain files in the root.
    marker.write_text(shape)
    return root


if __name__ == "__main__":
    started = time.perf_counter()
    out = generate_file_store("/tmp/flowdeck-bench/mlruns-2000")
    print(f"wrote {out} in {time.perf_counter() - started:.1f}s")
