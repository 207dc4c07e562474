"""The runs of the test scenario as data: names, nesting, statuses, params, tags, metric points."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

T0 = 1_700_000_000_000  # ms; every timestamp in the scenario is relative to it
EXP_MAIN = "flowdeck-main"
EXP_SIDE = "flowdeck-side"
EXP_DOOMED = "flowdeck-doomed"

Point = tuple[int, int, float]  # (step, timestamp ms, value)


@dataclass(frozen=True)
class RunSpec:
    """One run to log, with everything the tests expect to read back."""

    name: str
    experiment: str
    status: str = "FINISHED"
    parent: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, list[Point]] = field(default_factory=dict)  # in logging order
    deleted: bool = False


def latest_point(points: list[Point]) -> Point:
    """MLflow's latest value: highest step, then newest timestamp, then largest value."""
    return max(points, key=lambda p: (p[0], p[1], -math.inf if math.isnan(p[2]) else p[2]))


def sorted_history(points: list[Point]) -> list[Point]:
    """A history as Flowdeck returns it: by step, then timestamp."""
    return sorted(points, key=lambda p: (p[0], p[1]))


def _simple(loss: list[float], acc: float | None = None, offset: int = 0) -> dict[str, list[Point]]:
    metrics = {"loss": [(step, T0 + offset + step * 1000, v) for step, v in enumerate(loss)]}
    if acc is not None:
        last_step = len(loss) - 1
        metrics["acc"] = [(last_step, T0 + offset + last_step * 1000, acc)]
    return metrics


def _curve() -> dict[str, list[Point]]:
    points = []
    for step in range(500):
        wobble = 0.02 * math.sin(step / 7.0)
        points.append((step, T0 + 10_000 + step * 100, math.exp(-step / 120.0) + wobble))
    return {"loss": points, "acc": [(499, T0 + 60_000, 0.93)]}


def run_plan() -> list[RunSpec]:
    """The ~20 runs of the scenario, in creation order (parents before children)."""
    adam = {"optimizer": "adam"}
    sgd = {"optimizer": "sgd"}
    vision = {"team": "vision"}
    nlp = {"team": "nlp"}
    return [
        RunSpec(
            "parent",
            EXP_MAIN,
            params={**adam, "lr": "0.01", "epochs": "3"},
            tags=vision,
            metrics=_simple([1.0, 0.6, 0.4], acc=0.81),
        ),
        RunSpec(
            "child-a",
            EXP_MAIN,
            parent="parent",
            params={**adam, "lr": "0.02"},
            tags=vision,
            metrics=_simple([0.9, 0.5], acc=0.77, offset=5),
        ),
        RunSpec(
            "child-b",
            EXP_MAIN,
            status="FAILED",
            parent="parent",
            params={**sgd, "lr": "0.5"},
            tags=vision,
            metrics=_simple([2.5], acc=0.1, offset=7),
        ),
        RunSpec(
            "grandchild-a1",
            EXP_MAIN,
            parent="child-a",
            params={**adam, "lr": "0.021"},
            tags=vision,
            metrics=_simple([0.8, 0.45], acc=0.79, offset=11),
        ),
        RunSpec(
            "grandchild-a2",
            EXP_MAIN,
            status="KILLED",
            parent="child-a",
            params={**adam, "lr": "0.022"},
            tags=nlp,
            metrics=_simple([0.85], offset=13),
        ),
        RunSpec("curve", EXP_MAIN, params={**adam, "lr": "0.003"}, tags=nlp, metrics=_curve()),
        RunSpec(
            "nan-latest",
            EXP_MAIN,
            status="FAILED",
            params={**adam, "lr": "1.0"},
            tags=nlp,
            metrics={
                "loss": [(0, T0 + 1, 1.0), (1, T0 + 2, 0.5), (2, T0 + 3, math.nan)],
                "acc": [(0, T0 + 1, 0.3)],
            },
        ),
        RunSpec(
            "inf-values",
            EXP_MAIN,
            params={**sgd, "lr": "9.0"},
            metrics={
                "peak": [(0, T0 + 1, 1.0), (1, T0 + 2, math.inf)],
                "floor": [(0, T0 + 1, -1.0), (3, T0 + 2, -math.inf)],
                "grad": [
                    (0, T0 + 1, 0.5),
                    (1, T0 + 2, math.inf),
                    (2, T0 + 3, math.nan),
                    (3, T0 + 4, 0.25),
                ],
            },
        ),
        # Logged out of order: step 5 first, step 3 with the newest timestamp; latest is step 5.
        RunSpec(
            "out-of-order",
            EXP_MAIN,
            params={**sgd, "lr": "0.1"},
            metrics={
                "loss": [
                    (5, T0 + 500, 0.2),
                    (1, T0 + 100, 0.9),
                    (3, T0 + 900, 0.4),
                    (0, T0 + 50, 1.1),
                ],
                "acc": [(5, T0 + 500, 0.66)],
            },
        ),
        # Repeated steps with different timestamps; the newest point of step 1 is the latest.
        RunSpec(
            "repeated-steps",
            EXP_MAIN,
            params={**sgd, "lr": "0.2"},
            metrics={
                "val_loss": [
                    (1, T0 + 10, 0.9),
                    (1, T0 + 5, 0.95),
                    (0, T0 + 20, 1.2),
                    (1, T0 + 7, 0.92),
                ],
                "acc": [(1, T0 + 10, 0.55)],
            },
        ),
        RunSpec(
            "single-point",
            EXP_MAIN,
            params={"lr": "0.3"},
            metrics={
                "final_score": [(7, T0 + 70, 42.5)],
            },
        ),
        RunSpec(
            "special-params",
            EXP_MAIN,
            params={
                "ünïcødé": "välüe ✓ ünïcødé",
                "quotes": 'it\'s "quoted"',
                "opt/lr": "0.001",
                "batch size": "32",
            },
            tags={"owner": "zoë", "quote tag": 'say "hi"'},
            metrics=_simple([0.7], offset=17),
        ),
        RunSpec(
            "still-running",
            EXP_MAIN,
            status="RUNNING",
            params={**adam, "lr": "0.05"},
            metrics=_simple([1.5, 1.2], offset=19),
        ),
        RunSpec(
            "killed",
            EXP_MAIN,
            status="KILLED",
            params={**sgd, "lr": "0.07"},
            metrics=_simple([3.0], acc=0.2, offset=23),
        ),
        RunSpec(
            "with-dataset",
            EXP_MAIN,
            params={**adam, "lr": "0.04"},
            tags=vision,
            metrics=_simple([0.6, 0.3], acc=0.88, offset=29),
        ),
        RunSpec(
            "with-artifacts",
            EXP_MAIN,
            params={**adam, "lr": "0.06"},
            tags=nlp,
            metrics=_simple([0.65, 0.35], acc=0.86, offset=31),
        ),
        RunSpec(
            "deleted-one",
            EXP_MAIN,
            params={**adam, "lr": "0.08"},
            deleted=True,
            metrics=_simple([0.5], acc=0.99, offset=37),
        ),
        RunSpec(
            "deleted-two",
            EXP_MAIN,
            status="FAILED",
            params={**sgd, "lr": "0.09"},
            deleted=True,
            tags=vision,
            metrics=_simple([4.0], offset=41),
        ),
        RunSpec(
            "side-1",
            EXP_SIDE,
            params={**sgd, "lr": "0.1"},
            tags=nlp,
            metrics=_simple([0.9, 0.8], acc=0.6, offset=43),
        ),
        RunSpec(
            "side-2",
            EXP_SIDE,
            params={**adam, "lr": "0.2"},
            metrics=_simple([0.7], acc=0.7, offset=47),
        ),
        RunSpec("doomed-1", EXP_DOOMED, params={"lr": "0.3"}, metrics=_simple([1.0], offset=53)),
    ]
