"""A tiny linear house-price scorer, logged by the demo as an MLflow model from code."""

from __future__ import annotations

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel

FEATURES = ("sqft", "bedrooms", "age_years")


class LinearScorer(PythonModel):
    """Predicts ``price`` as a weighted sum of the features; weights come from model_config."""

    def load_context(self, context) -> None:  # noqa: ANN001 - MLflow's PythonModelContext
        config = context.model_config or {}
        self.weights = [float(w) for w in config.get("weights", [150.0, 8000.0, -900.0])]
        self.bias = float(config.get("bias", 25000.0))

    # No type hints on predict: MLflow would derive the signature from them instead.
    def predict(self, context, model_input, params=None):  # noqa: ANN001, ANN201
        frame = pd.DataFrame(model_input)
        price = self.bias + sum(
            weight * frame[name].astype(float)
            for weight, name in zip(self.weights, FEATURES, strict=True)
        )
        return pd.DataFrame({"price": price})


mlflow.models.set_model(LinearScorer())
