"""Run in another MLflow's venv: Flowdeck (this checkout) writes to a store, that MLflow reads back."""

from __future__ import annotations

import json
import sys
import warnings

import mlflow
from mlflow.tracking import MlflowClient

from flowdeck.store import open_store, schema_guard


def main(path: str, run_id: str) -> None:
    """Open with Flowdeck, check it is writable, tag a run and set an alias, read both back."""
    warnings.simplefilter("ignore")
    store = open_store(path)
    reason = store.read_only_reason
    head = schema_guard.installed_head()
    written = False
    if reason is None:
        writer = store.writer()
        writer.set_run_tag(run_id, "reviewed", "by-flowdeck")
        writer.set_alias("classifier", "staging", 1)
        written = True
    experiments = sorted(store.experiments()["name"])
    store.close()
    uri = f"sqlite:///{path}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    run = client.get_run(run_id)
    staging = client.get_model_version_by_alias("classifier", "staging") if written else None
    print(
        json.dumps(
            {
                "mlflow": mlflow.__version__,
                "head": head,
                "read_only_reason": reason,
                "tag": run.data.tags.get("reviewed"),
                "staging": str(staging.version) if staging else None,
                "experiments": experiments,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
