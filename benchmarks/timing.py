"""Small timing helpers for side-by-side benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of repeated calls and the last result."""

    seconds: list[float]
    result: Any

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def time_call(fn: Callable[[], Any], repeat: int = 3) -> Timing:
    """Call ``fn`` ``repeat`` times and keep each duration."""
    seconds: list[float] = []
    result: Any = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - started)
    return Timing(seconds, result)


@dataclass(frozen=True)
class Comparison:
    """One workload timed with Flowdeck and with MLflow on the same data."""

    name: str
    flowdeck: Timing
    mlflow: Timing
    target_ratio: float

    @property
    def ratio(self) -> float:
        return self.mlflow.median / self.flowdeck.median

    @property
    def meets_target(self) -> bool:
        return self.ratio >= self.target_ratio

    def as_dict(self) -> dict[str, Any]:
        return {
            "workload": self.name,
            "flowdeck_s": round(self.flowdeck.median, 4),
            "mlflow_s": round(self.mlflow.median, 4),
            "ratio": round(self.ratio, 1),
            "target": self.target_ratio,
            "meets_target": self.meets_target,
        }
