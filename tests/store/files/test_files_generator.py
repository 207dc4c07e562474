"""The benchmark generator writes what MLflow's own file store reads, in MLflow's format."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.store.files.conftest import assert_same_runs, mlflow_search

from flowdeck.store.files import FileStore
from flowdeck.store.files.meta import parse_meta

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from benchmarks.gen_filestore import BENCH_EXPERIMENT_ID, generate_file_store  # noqa: E402


def test_generated_store_matches_mlflow_format_and_reads(tmp_path, written):
    root = generate_file_store(tmp_path / "mlruns", n_runs=12, n_params=3, n_metrics=2, n_steps=4)
    run_folders = [p for p in (root / BENCH_EXPERIMENT_ID).iterdir() if p.is_dir()]
    assert len(run_folders) == 12
    generated_meta = parse_meta((run_folders[0] / "meta.yaml").read_bytes())
    mlflow_meta = parse_meta(
        (written.root / written.alpha / written.parent / "meta.yaml").read_bytes()
    )
    assert set(generated_meta) == set(mlflow_meta)
    assert set(parse_meta((root / BENCH_EXPERIMENT_ID / "meta.yaml").read_bytes())) == set(
        parse_meta((written.root / written.alpha / "meta.yaml").read_bytes())
    )
    ours = FileStore(str(root)).runs([BENCH_EXPERIMENT_ID])
    theirs = mlflow_search(root, [BENCH_EXPERIMENT_ID])
    assert ours.shape == (12, 6 + 2 + 3 + 4 + 3)
    assert_same_runs(ours, theirs)
    again = generate_file_store(tmp_path / "mlruns", n_runs=12, n_params=3, n_metrics=2, n_steps=4)
    assert again == root  # reused, not rewritten
