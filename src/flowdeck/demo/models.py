"""The demo model registry: a servable pyfunc model with versions, aliases and a stage."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from mlflow import MlflowClient

MODEL_NAME = "house-price-scorer"
SCORER_CODE = Path(__file__).with_name("scorer_model.py")
STAGES = {1: "Archived", 2: "Production", 3: "Staging"}


def _input_example():
    import pandas as pd

    return pd.DataFrame(
        {
            "sqft": [1450.0, 2300.0, 880.0],
            "bedrooms": [3.0, 4.0, 1.0],
            "age_years": [12.0, 3.0, 40.0],
        }
    )


def _signature():
    """The scorer's signature, spelled out: ``infer_signature`` needs scipy, which
    mlflow-skinny does not install, and silently degrades to ``Any`` without it."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    inputs = Schema([ColSpec("double", name) for name in ("sqft", "bedrooms", "age_years")])
    return ModelSignature(inputs=inputs, outputs=Schema([ColSpec("double", "price")]))


def register_models(client: MlflowClient, run_ids: list[str]) -> None:
    """Log one model per run and register them as versions 1..n of ``MODEL_NAME``.

    Version 1 is archived, version 2 is in Production with alias ``champion``, version 3
    is in Staging with alias ``challenger``.
    """
    import mlflow

    client.create_registered_model(
        MODEL_NAME,
        tags={"team": "pricing", "task": "regression"},
        description="Predicts a house's sale price from size, bedrooms and age.",
    )
    example = _input_example()
    rng = np.random.default_rng(11)
    for index, run_id in enumerate(run_ids):
        weights = [float(150 + rng.normal(0, 10)), float(8000 + rng.normal(0, 500)), -900.0]
        config = {"weights": weights, "bias": 25000.0 + 1000 * index}
        ended = client.get_run(run_id).info.end_time
        with mlflow.start_run(run_id=run_id):
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=str(SCORER_CODE),
                model_config=config,
                signature=_signature(),
                input_example=example,
                pip_requirements=["mlflow-skinny==3.17.2", "pandas", "numpy"],
            )
        client.set_terminated(run_id, "FINISHED", end_time=ended)  # leaving the run ended it now
        version = client.create_model_version(
            MODEL_NAME,
            source=info.model_uri,
            run_id=run_id,
            tags={"validated": str(index != 0)},
            description=f"Trained on housing features v{index + 1}.",
            model_id=info.model_id,
        )
        stage = STAGES.get(int(version.version))
        if stage:
            client.transition_model_version_stage(MODEL_NAME, version.version, stage)
    client.set_registered_model_alias(MODEL_NAME, "champion", "2")
    client.set_registered_model_alias(MODEL_NAME, "challenger", "3")
