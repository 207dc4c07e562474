"""Where the shared reference files and real-world MLflow stores live, beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared"
REFERENCE = SHARED / "reference"
REALWORLD = Path(os.environ.get("FLOWDECK_REALWORLD", SHARED / "realworld"))
HOUSING_DB = REALWORLD / "housing-2025-sqlite" / "mlflow.db"
GENRE_MLRUNS = REALWORLD / "genre-2021-files" / "mlruns"

needs_housing = pytest.mark.skipif(
    not HOUSING_DB.is_file(), reason="the real-world stores are not beside the project"
)
needs_genre = pytest.mark.skipif(
    not GENRE_MLRUNS.is_dir(), reason="the real-world stores are not beside the project"
)
