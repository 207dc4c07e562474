"""Artifacts copied beside a mirror: estimated first, filtered by pattern, readable offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from mlflow import MlflowClient

from flowdeck.store import open_store
from flowdeck.store.mirror.cli import mirror_from_cli


def _source(tmp_path: Path) -> tuple[Path, str, list[str]]:
    path = tmp_path / "source.db"
    artifacts = tmp_path / "source-artifacts"
    client = MlflowClient(tracking_uri=f"sqlite:///{path}")
    experiment_id = client.create_experiment("arts", artifact_location=str(artifacts))
    run_ids = []
    for number in range(2):
        run_id = client.create_run(experiment_id, run_name=f"r{number}").info.run_id
        client.log_dict(run_id, {"run": number}, "config/settings.json")
        client.log_text(run_id, "x" * 1000, "notes.txt")
        run_ids.append(run_id)
    client._tracking_client.store.engine.dispose()
    return path, experiment_id, run_ids


def test_the_estimate_comes_first_and_copies_nothing(tmp_path: Path, capsys) -> None:
    path, _, _ = _source(tmp_path)
    destination = tmp_path / "mirror.db"
    assert mirror_from_cli([str(path), str(destination), "--estimate"]) == 0
    err = capsys.readouterr().err
    assert "artifacts to copy: 4 artifact files of 2 runs" in err
    assert not destination.exists()


def test_artifacts_matching_the_pattern_are_read_offline(tmp_path: Path, capsys) -> None:
    path, experiment_id, run_ids = _source(tmp_path)
    destination = tmp_path / "mirror.db"
    code = mirror_from_cli(
        [str(path), str(destination), "--artifacts", "--artifact-pattern", "*.json"]
    )
    assert code == 0, capsys.readouterr().err
    assert "2 artifact files of 2 runs" in capsys.readouterr().err
    shutil.rmtree(tmp_path / "source-artifacts")  # the source's files are gone: offline

    client = MlflowClient(f"sqlite:///{destination}")
    for number, run_id in enumerate(run_ids):
        assert [f.path for f in client.list_artifacts(run_id)] == ["config"]
        local = client.download_artifacts(run_id, "config/settings.json", str(tmp_path))
        assert json.loads(Path(local).read_text()) == {"run": number}
    mirror = open_store(str(destination))
    try:
        local = mirror.fetch_artifact(run_ids[0], "config/settings.json")
        assert local.read_text() == '{\n  "run": 0\n}'
    finally:
        mirror.close()
    capsys.readouterr()
    again = [str(path), str(destination), "--artifacts", "--artifact-pattern", "*.json"]
    assert mirror_from_cli(again) == 0  # nothing changed: nothing copied, the copies kept
    assert ", 0 artifact files in" in capsys.readouterr().err
    assert len(list((tmp_path / "mirror.artifacts").rglob("*.json"))) == 2
