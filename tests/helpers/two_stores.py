"""A live SQLite store and a copy of it that went its own way, written by real MLflow.

Both hold the run "shared" with the same run id; after the copy each store logs its own
later loss of it, and each gets a run of its own ("live-only", "mirror-only").
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

EXPERIMENT = "training"
SHARED_LOSS = [1.0, 0.5]  # steps 0 and 1, in both stores
LIVE_LATER_LOSS = 0.25  # step 2 of "shared", logged to the live store after the copy
MIRROR_LATER_LOSS = 0.75  # step 2 of "shared", logged to the copy


_WRITTEN: dict[Path, TwoStores] = {}


@dataclass(frozen=True)
class TwoStores:
    live: Path
    mirror: Path
    experiment_id: str  # the same in both
    shared_run_id: str  # in both stores
    live_only_run_id: str
    mirror_only_run_id: str


def two_stores(tmp_path_factory: object) -> TwoStores:
    """The two stores of this test session (written once; tests only read them)."""
    base = tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    if base not in _WRITTEN:
        _WRITTEN[base] = write_two_stores(tmp_path_factory.mktemp("two-stores"))  # type: ignore[attr-defined]
    return _WRITTEN[base]


def write_two_stores(folder: Path) -> TwoStores:
    """Write the live store, copy its file, then add runs and points to each."""
    from mlflow import MlflowClient

    live, mirror = folder / "live.db", folder / "mirror.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{live}")
    experiment_id = client.create_experiment(EXPERIMENT, artifact_location=str(folder / "art"))
    shared = client.create_run(experiment_id, run_name="shared").info.run_id
    client.log_param(shared, "lr", "0.1")
    for step, value in enumerate(SHARED_LOSS):
        client.log_metric(shared, "loss", value, step=step, timestamp=1_000 + step)
    client.set_terminated(shared)
    shutil.copyfile(live, mirror)

    client.log_metric(shared, "loss", LIVE_LATER_LOSS, step=2, timestamp=1_002)
    live_only = client.create_run(experiment_id, run_name="live-only").info.run_id
    client.log_metric(live_only, "loss", 0.9, step=0, timestamp=1_000)
    client.set_terminated(live_only)

    other = MlflowClient(tracking_uri=f"sqlite:///{mirror}")
    other.log_metric(shared, "loss", MIRROR_LATER_LOSS, step=2, timestamp=1_002)
    mirror_only = other.create_run(experiment_id, run_name="mirror-only").info.run_id
    other.log_metric(mirror_only, "loss", 0.6, step=0, timestamp=1_000)
    other.log_param(mirror_only, "lr", "0.01")
    other.set_terminated(mirror_only)
    return TwoStores(live, mirror, experiment_id, shared, live_only, mirror_only)
