"""Local serving: start-up time to the first /ping, and the console's latency next to curl's."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "serving.json"
REQUESTS = 30


def _store(folder: Path) -> Path:
    import mlflow
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.set_experiment("bench-serve")
    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    with mlflow.start_run():
        mlflow.sklearn.log_model(
            LogisticRegression().fit(frame, [0, 0, 1, 1]),
            name="model",
            input_example=frame.head(2),
            registered_model_name="bench-clf",
        )
    return folder / "mlflow.db"


def main() -> None:
    from flowdeck.core.task_state import TaskState
    from flowdeck.serving import LaunchOptions, ServerProcess, fetch_model, resolve
    from flowdeck.store import open_store
    from flowdeck.ui.serving.console import example_body, send

    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")
    folder = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    store = open_store(_store(folder))
    ref = resolve(store, "models:/bench-clf/1")
    model_dir = Path(fetch_model(store, ref))
    started = time.perf_counter()
    server = ServerProcess.start(model_dir, LaunchOptions())
    try:
        ready = server.wait_until_ready(300)
        startup_s = time.perf_counter() - started
        assert ready, server.log_text(last=30)
        body = example_body(model_dir)
        console = []
        for _ in range(REQUESTS):
            answer = send(TaskState(), server.url, body)
            assert answer.status == 200
            console.append(answer.latency_ms)
        curl = []
        for _ in range(REQUESTS):
            begun = time.perf_counter()
            subprocess.run(
                [
                    "curl",
                    "-s",
                    "-o",
                    "/dev/null",
                    "-X",
                    "POST",
                    f"{server.url}/invocations",
                    "-H",
                    "Content-Type: application/json",
                    "-d",
                    body,
                ],
                check=True,
            )
            curl.append((time.perf_counter() - begun) * 1000)
    finally:
        server.stop()
        store.close()
    result = {
        "environment": "current",
        "startup_to_first_ping_s": round(startup_s, 2),
        "console_latency_ms_median": round(statistics.median(console), 1),
        "curl_latency_ms_median": round(statistics.median(curl), 1),
        "requests": REQUESTS,
        "note": "curl's figure includes starting the curl process; both go through the proxy",
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
