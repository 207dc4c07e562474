"""Generate a SQLite store with one heavy run, written by MLflow's own client.

The run has 5,000 params, 500 metrics of 200 steps each, 1,000 small artifact files in one
folder, a 200 MB log file, a 100,000-row CSV and 300 images logged per step with
``log_image(key=…, step=…)`` — the run page's worst case from issue 9.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

HEAVY_EXPERIMENT = "heavy"
HEAVY_RUN = "heavy-run"
FORMAT_VERSION = "1"
N_PARAMS, N_METRICS, N_STEPS = 5_000, 500, 200
N_FILES, LOG_MB, CSV_ROWS, N_IMAGES = 1_000, 200, 100_000, 300
LOG_PATH = "logs/train.log"
CSV_PATH = "tables/predictions.csv"
FILES_DIR = "many"
IMAGES_KEY = "samples"


def generate_heavy_store(folder: Path) -> tuple[Path, str]:
    """(database, run id) of the heavy run below ``folder``; reused when already complete."""
    folder = Path(folder).resolve()
    db, stamp = folder / "heavy.db", folder / "heavy.ready"
    shape = f"{FORMAT_VERSION} {N_PARAMS} {N_METRICS} {N_STEPS} {N_FILES} {LOG_MB} {CSV_ROWS}"
    if db.exists() and stamp.exists() and stamp.read_text().startswith(shape + "\n"):
        return db, stamp.read_text().split("\n")[1]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    run_id = _write(db, folder)
    stamp.write_text(f"{shape}\n{run_id}")
    return db, run_id


def _write(db: Path, folder: Path) -> str:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    experiment = client.create_experiment(
        HEAVY_EXPERIMENT, artifact_location=(folder / "artifacts").as_uri()
    )
    run_id = client.create_run(experiment, run_name=HEAVY_RUN).info.run_id
    params = [Param(f"param_{i:04d}", f"value-{i}") for i in range(N_PARAMS)]
    for start in range(0, len(params), 100):
        client.log_batch(run_id, params=params[start : start + 100], synchronous=True)
    now = int(time.time() * 1000)
    rng = np.random.default_rng(3)
    for key in range(N_METRICS):
        values = np.cumsum(rng.normal(0, 1, N_STEPS))
        metrics = [
            Metric(f"metric_{key:03d}", float(v), now + step, step) for step, v in enumerate(values)
        ]
        for start in range(0, N_STEPS, 1000):
            client.log_batch(run_id, metrics=metrics[start : start + 1000], synchronous=True)
    staging = folder / "staging"
    _write_files(staging, rng)
    client.log_artifacts(run_id, str(staging / FILES_DIR), FILES_DIR)
    client.log_artifact(run_id, str(staging / "train.log"), "logs")
    client.log_artifact(run_id, str(staging / "predictions.csv"), "tables")
    shutil.rmtree(staging)
    for step in range(N_IMAGES):
        image = (rng.random((64, 64, 3)) * 255).astype(np.uint8)
        client.log_image(run_id, image, key=IMAGES_KEY, step=step)
    client.set_terminated(run_id)
    return run_id


def _write_files(staging: Path, rng: np.random.Generator) -> None:
    many = staging / FILES_DIR
    many.mkdir(parents=True)
    for index in range(N_FILES):
        (many / f"file_{index:04d}.txt").write_text(f"artifact {index}\n" * 10)
    line = "2026-12-05 10:00:00 INFO step=%07d loss=%.6f lr=0.001 some words of a training log\n"
    with (staging / "train.log").open("w") as log:
        written, step = 0, 0
        while written < LOG_MB * 1024 * 1024:
            chunk = "".join(line % (step + i, 1.0 / (step + i + 1)) for i in range(10_000))
            log.write(chunk)
            written += len(chunk)
            step += 10_000
    frame_rows = np.arange(CSV_ROWS)
    with (staging / "predictions.csv").open("w") as csv:
        csv.write("row,label,score,split\n")
        scores = rng.random(CSV_ROWS)
        csv.writelines(
            f"{i},{i % 7},{score:.6f},{'train' if i % 5 else 'val'}\n"
            for i, score in zip(frame_rows, scores, strict=True)
        )


if __name__ == "__main__":
    import sys

    print(generate_heavy_store(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("benchmarks/data/heavy")))
