"""`flowdeck LOCATION --experiment NAME --screenshot FILE.png` in a subprocess, offscreen."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIMEOUT_S = 120


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One experiment with three finished runs, written by MLflow."""
    from mlflow import MlflowClient

    folder = tmp_path_factory.mktemp("snapshot-store")
    db_path = folder / "mlflow.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{db_path}")
    experiment = client.create_experiment("vision", artifact_location=str(folder / "artifacts"))
    for number in range(3):
        run = client.create_run(experiment, run_name=f"resnet-{number}")
        client.log_metric(run.info.run_id, "loss", 1.0 / (number + 1))
        client.set_terminated(run.info.run_id)
    return db_path


def run_flowdeck(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run(
        [sys.executable, "-m", "flowdeck", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=TIMEOUT_S,
        check=False,
    )


def test_snapshot_saves_a_png_and_prints_its_timings(store_path, tmp_path):
    output = tmp_path / "out.png"
    result = run_flowdeck(
        tmp_path,
        str(store_path),
        "--experiment",
        "vision",
        "--select",
        "2",
        "--screenshot",
        str(output),
    )
    assert result.returncode == 0, result.stderr
    assert output.read_bytes()[:8] == PNG_SIGNATURE
    assert output.stat().st_size > 10_000  # a whole window, not an empty image
    assert re.search(r"^load \d+\.\d\d s$", result.stderr, re.MULTILINE), result.stderr
    assert re.search(r"^longest stall \d+ ms$", result.stderr, re.MULTILINE), result.stderr
    assert not (tmp_path / "config" / "Flowdeck" / "Flowdeck.ini").read_text().count("geometry")


def test_snapshot_of_a_missing_experiment_exits_2_in_plain_words(store_path, tmp_path):
    output = tmp_path / "out.png"
    result = run_flowdeck(
        tmp_path, str(store_path), "--experiment", "no-such", "--screenshot", str(output)
    )
    assert result.returncode == 2
    assert "no experiment named 'no-such'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not output.exists()


def test_snapshot_of_the_charts_waits_for_the_curves(store_path, tmp_path):
    output = tmp_path / "charts.png"
    result = run_flowdeck(
        tmp_path,
        str(store_path),
        "--experiment",
        "vision",
        "--select",
        "3",
        "--view",
        "charts",
        "--screenshot",
        str(output),
    )
    assert result.returncode == 0, result.stderr
    assert output.read_bytes()[:8] == PNG_SIGNATURE
    drawn = re.search(r"^charts drawn (\d+\.\d\d) s$", result.stderr, re.MULTILINE)
    load = re.search(r"^load (\d+\.\d\d) s$", result.stderr, re.MULTILINE)
    assert drawn and load, result.stderr
    assert float(drawn.group(1)) >= float(load.group(1))  # the curves come after the runs


def run_id_named(store_path: Path, name: str) -> str:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{store_path}")
    experiment = client.get_experiment_by_name("vision")
    runs = client.search_runs([experiment.experiment_id], f"attributes.run_name = '{name}'")
    return runs[0].info.run_id


def test_page_addresses_open_their_page_and_print_start_up(store_path, tmp_path):
    run_id = run_id_named(store_path, "resnet-1")
    for address in (f"run/{run_id}", "models", "servers", "experiment/1?filter=metrics.loss%20%3C%200.6"):
        output = tmp_path / "page.png"
        result = run_flowdeck(tmp_path, str(store_path), "--page", address, "--screenshot", str(output))
        assert result.returncode == 0, (address, result.stderr)
        assert output.read_bytes()[:8] == PNG_SIGNATURE
        assert re.search(r"^started \d+\.\d\d s$", result.stderr, re.MULTILINE), result.stderr
        assert re.search(r"^longest stall \d+ ms$", result.stderr, re.MULTILINE), result.stderr
        output.unlink()


def test_an_address_naming_nothing_exits_2_and_a_malformed_one_too(store_path, tmp_path):
    for address, words in (
        ("run/" + "f" * 32, "There is no run with ID"),
        ("model/nothing-here", "There is no registered model named 'nothing-here'"),
        ("compare/only-one", "A comparison takes 2 to 10 runs"),
        ("nonsense/1", "is not a page address"),
    ):
        output = tmp_path / "page.png"
        result = run_flowdeck(tmp_path, str(store_path), "--page", address, "--screenshot", str(output))
        assert result.returncode == 2, (address, result.stderr)
        assert words in result.stderr and "Traceback" not in result.stderr
        assert not output.exists()


def test_charts_of_a_filter_matching_nothing_do_not_wait_forever(store_path, tmp_path):
    output = tmp_path / "empty.png"
    result = run_flowdeck(
        tmp_path,
        str(store_path),
        "--experiment",
        "vision",
        "--filter",
        "metrics.loss > 1000",
        "--view",
        "charts",
        "--select",
        "2",
        "--screenshot",
        str(output),
    )
    assert result.returncode == 0, result.stderr
    assert output.read_bytes()[:8] == PNG_SIGNATURE


def test_an_invalid_filter_exits_2_in_plain_words(store_path, tmp_path):
    output = tmp_path / "bad.png"
    for extra in (["--experiment", "vision", "--filter", "metrics.loss <<< 1"],
                  ["--page", "experiment/1?filter=metrics.loss%20%3C%3C%3C%201"]):
        result = run_flowdeck(tmp_path, str(store_path), *extra, "--screenshot", str(output))
        assert result.returncode == 2, result.stderr
        assert "invalid filter" in result.stderr and "Traceback" not in result.stderr
        assert not output.exists()
