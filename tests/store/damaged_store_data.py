"""Small stores written by real MLflow for the damaged-store tests, and helpers to inspect them."""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

T0 = 1_700_000_000_000
# Metrics with a NaN and a number logged at the same step and timestamp, in this order.
TIES = {
    "nan_first": (math.nan, 0.5),
    "number_first": (0.5, math.nan),
    "nan_then_negative": (math.nan, -1.0),
}
LOSS = (1.0, 0.8, 0.5, 0.4)
# Words that must never reach a user-facing message.
DRIVER_WORDS = ("sqlite3.", "psycopg2.", "Traceback", "OperationalError", "DatabaseError")


@dataclass(frozen=True)
class Written:
    """A store MLflow wrote: its location (a .db file or an mlruns/ folder) and ids."""

    location: Path
    experiment_id: str
    run_id: str

    @property
    def uri(self) -> str:
        """The tracking URI MLflow's own client uses for this store."""
        if self.location.suffix == ".db":
            return f"sqlite:///{self.location}"
        return self.location.as_uri()


def write_store(uri: str, location: Path) -> Written:
    """One experiment with one run: a param, a 4-point ``loss`` and the ``TIES`` metrics."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment("damaged", artifact_location=str(location) + "-art")
    run_id = client.create_run(experiment_id, run_name="victim").info.run_id
    client.log_param(run_id, "lr", "0.1")
    for step, value in enumerate(LOSS):
        client.log_metric(run_id, "loss", value, timestamp=T0 + step, step=step)
    for key, values in TIES.items():
        for value in values:  # one call each: the order is what decides MLflow's "latest"
            client.log_metric(run_id, key, value, timestamp=T0, step=3)
    client.set_terminated(run_id, end_time=T0 + 100)
    return Written(location=location, experiment_id=experiment_id, run_id=run_id)


def folder_snapshot(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` -> the SHA-256 of its bytes ("" for folders and FIFOs)."""
    found: dict[str, str] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            relative = str(path.relative_to(folder))
            found[relative] = (
                hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
            )
    return found


def same_number(a: float, b: float) -> bool:
    """Equal, NaN equal to NaN."""
    return (math.isnan(a) and math.isnan(b)) or a == b


def assert_plain(error: BaseException) -> None:
    """A user-facing message: no driver class names, no traceback."""
    message = str(error)
    assert message.strip()
    for word in DRIVER_WORDS:
        assert word not in message, message


class OtherProcessLock:
    """Another process holding an exclusive lock on a SQLite file until ``release()``."""

    SCRIPT = (
        "import sqlite3, sys\n"
        "connection = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "connection.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "sys.stdin.readline()\n"
        "connection.execute('ROLLBACK')\n"
        "connection.close()\n"
        "print('released', flush=True)\n"
        "sys.stdin.readline()\n"
    )

    def __init__(self, path: Path) -> None:
        import subprocess
        import sys

        self.process = subprocess.Popen(
            [sys.executable, "-c", self.SCRIPT, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stdin is not None
        assert self.process.stdout.readline().strip() == "locked"
        self.held = True

    def release(self) -> None:
        """Roll back and close the writer's connection; returns once the lock is gone."""
        if self.held:
            self.held = False
            self.process.stdin.write("\n")  # type: ignore[union-attr]
            self.process.stdin.flush()  # type: ignore[union-attr]
            assert self.process.stdout.readline().strip() == "released"  # type: ignore[union-attr]

    def stop(self) -> None:
        self.release()
        self.process.stdin.close()  # type: ignore[union-attr]
        self.process.wait()
        self.process.stdout.close()  # type: ignore[union-attr]
