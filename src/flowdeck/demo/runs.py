"""Experiments and runs of the demo store: sweeps, nested children, curves, statuses."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from flowdeck.demo.curves import CurveShape, random_shape, training_curves

if TYPE_CHECKING:
    from mlflow import MlflowClient

BATCH_SIZE = 1000
USERS = ("alice", "bob", "carol", "dmitri")
DAY_MS = 86_400_000
# Like real training loops: the training loss every step, validation now and then.
LOG_EVERY = {"train/loss": 1, "lr": 10, "val/loss": 20, "val/accuracy": 20}


@dataclass
class RunSpec:
    """One run to write: identity, params, tags and how its curves look."""

    name: str
    params: dict[str, str]
    status: str = "FINISHED"
    steps: int = 0
    curve: CurveShape | None = None
    base_lr: float = 1e-3
    parent_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    extra_metrics: dict[str, float] = field(default_factory=dict)
    deleted: bool = False


class RunWriter:
    """Writes runs into one experiment with batched metric logging and explicit timestamps."""

    def __init__(self, client: MlflowClient, experiment_id: str, start_ms: int, seed: int):
        self.client = client
        self.experiment_id = experiment_id
        self.clock_ms = start_ms
        self.rng = np.random.default_rng(seed)
        self.run_ids: list[str] = []

    def write(self, spec: RunSpec, step_ms: int = 900) -> str:
        from mlflow.entities import Metric, Param

        start = self.clock_ms
        user = USERS[int(self.rng.integers(len(USERS)))]
        tags = {
            "mlflow.user": user,
            "mlflow.source.name": spec.tags.pop("source", "train.py"),
            "mlflow.source.type": "LOCAL",
            "mlflow.source.git.commit": _fake_commit(spec.name, self.experiment_id),
            "mlflow.source.git.branch": "main",
            **spec.tags,
        }
        if spec.parent_id:
            tags["mlflow.parentRunId"] = spec.parent_id
        run = self.client.create_run(
            self.experiment_id, start_time=start, tags=tags, run_name=spec.name
        )
        run_id = run.info.run_id
        self.client.log_batch(
            run_id, params=[Param(k, str(v)) for k, v in spec.params.items()], synchronous=True
        )
        metrics: list[Metric] = []
        end = start + max(spec.steps, 1) * step_ms
        if spec.steps and spec.curve is not None:
            curves = training_curves(self.rng, spec.curve, spec.steps, spec.base_lr)
            stamps = start + np.arange(spec.steps, dtype=np.int64) * step_ms
            for key, values in curves.items():
                every = LOG_EVERY.get(key, 1)
                metrics.extend(
                    Metric(key, float(values[s]), int(stamps[s]), s)
                    for s in range(0, spec.steps, every)
                )
        metrics.extend(Metric(k, float(v), end, 0) for k, v in spec.extra_metrics.items())
        for chunk_start in range(0, len(metrics), BATCH_SIZE):
            chunk = metrics[chunk_start : chunk_start + BATCH_SIZE]
            self.client.log_batch(run_id, metrics=chunk, synchronous=True)
        if spec.status != "RUNNING":
            self.client.set_terminated(run_id, status=spec.status, end_time=end)
        if spec.deleted:
            self.client.delete_run(run_id)
        self.clock_ms = end + int(self.rng.integers(60_000, 3_600_000))
        self.run_ids.append(run_id)
        return run_id


def _fake_commit(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()


def image_classifier(writer: RunWriter, steps: int) -> None:
    """Three learning-rate sweeps of eight children each, plus a few standalone baselines."""
    rng = writer.rng
    for sweep_index, model in enumerate(("resnet18", "resnet50", "vit-tiny")):
        parent = writer.write(
            RunSpec(
                name=f"sweep-{model}",
                params={"model": model, "sweep": "lr x batch_size", "trials": "8"},
                tags={"sweep": "true", "dataset": "cifar10"},
            ),
            step_ms=1,
        )
        best = 0.0
        for trial in range(8):
            lr = float(10 ** rng.uniform(-4.3, -2.3))
            shape = random_shape(rng, lr)
            status = "FINISHED"
            child_steps = steps
            if sweep_index == 1 and trial in (5, 6):
                status = "FAILED"
                child_steps = int(steps * rng.uniform(0.2, 0.5))
                shape = CurveShape(**{**shape.__dict__, "diverge_at": child_steps - 3})
            if sweep_index == 2 and trial == 7:
                status = "RUNNING"
                child_steps = steps // 2
            spec = RunSpec(
                name=f"{model}-trial-{trial:02d}",
                params={
                    "model": model,
                    "lr": f"{lr:.2e}",
                    "batch_size": str(int(rng.choice([32, 64, 128, 256]))),
                    "optimizer": str(rng.choice(["adamw", "sgd", "lion"])),
                    "weight_decay": str(rng.choice([0.0, 1e-4, 5e-4])),
                    "epochs": "30",
                    "augment": str(rng.choice(["none", "randaug", "mixup"])),
                    "seed": str(trial),
                },
                status=status,
                steps=child_steps,
                curve=shape,
                base_lr=lr,
                parent_id=parent,
                tags={"dataset": "cifar10", "source": "vision/train.py"},
            )
            writer.write(spec)
            best = max(best, 1.0 - 0.9 * (shape.floor_loss * 1.08) / shape.start_loss)
        writer.client.log_metric(parent, "best/val_accuracy", best, timestamp=writer.clock_ms)
        writer.client.set_terminated(parent, "FINISHED", end_time=writer.clock_ms)
    for index, model in enumerate(("mobilenet-v3", "efficientnet-b0", "resnet18", "convnext-t")):
        lr = float(10 ** rng.uniform(-4, -3))
        writer.write(
            RunSpec(
                name=f"baseline-{model}",
                params={
                    "model": model,
                    "lr": f"{lr:.2e}",
                    "batch_size": "128",
                    "optimizer": "adamw",
                    "epochs": "30",
                },
                steps=steps,
                curve=random_shape(rng, lr),
                base_lr=lr,
                deleted=index == 3,
                tags={"dataset": "cifar10", "source": "vision/train.py"},
            )
        )


def tabular_regression(writer: RunWriter, steps: int) -> list[str]:
    """A gradient-boosting sweep with children and a set of flat runs; returns model runs."""
    rng = writer.rng
    parent = writer.write(
        RunSpec(
            name="gbm-depth-sweep",
            params={"model": "lightgbm", "trials": "12"},
            tags={"sweep": "true", "dataset": "housing"},
        ),
        step_ms=1,
    )
    for trial in range(12):
        depth = int(rng.integers(3, 12))
        lr = float(10 ** rng.uniform(-2.3, -0.7))
        writer.write(
            RunSpec(
                name=f"gbm-depth-{depth}-t{trial}",
                params={
                    "model": "lightgbm",
                    "max_depth": str(depth),
                    "lr": f"{lr:.3f}",
                    "num_leaves": str(2 ** min(depth, 8)),
                    "batch_size": "full",
                },
                steps=steps,
                curve=random_shape(rng, lr / 30),
                base_lr=lr,
                parent_id=parent,
                status="KILLED" if trial == 11 else "FINISHED",
                tags={"dataset": "housing", "source": "tabular/fit.py"},
            ),
            step_ms=200,
        )
    writer.client.set_terminated(parent, "FINISHED", end_time=writer.clock_ms)
    model_runs: list[str] = []
    for index in range(31):
        model = str(rng.choice(["ridge", "lightgbm", "xgboost", "mlp"]))
        lr = float(10 ** rng.uniform(-3.5, -1.5))
        run_id = writer.write(
            RunSpec(
                name=f"{model}-{index:02d}",
                params={
                    "model": model,
                    "lr": f"{lr:.2e}",
                    "batch_size": str(int(rng.choice([256, 512, 1024]))),
                    "optimizer": "adam",
                    "features": "v2" if index > 15 else "v1",
                },
                steps=steps,
                curve=random_shape(rng, lr / 10),
                base_lr=lr,
                status="FAILED" if index in (4, 17) else "FINISHED",
                deleted=index in (2, 9, 27),
                extra_metrics={
                    "test/rmse": float(rng.uniform(0.4, 0.9)),
                    "test/r2": float(rng.uniform(0.6, 0.93)),
                },
                tags={"dataset": "housing", "source": "tabular/fit.py"},
            ),
            step_ms=200,
        )
        if index in (24, 26, 29):
            model_runs.append(run_id)
    return model_runs


def llm_agent(writer: RunWriter) -> str:
    """Evaluation runs of the toy agent; returns the run the traces are linked to."""
    rng = writer.rng
    linked = ""
    for index in range(20):
        model = str(rng.choice(["gpt-4o-mini", "llama-3.1-8b", "claude-haiku", "mistral-7b"]))
        run_id = writer.write(
            RunSpec(
                name=f"agent-eval-{index:02d}",
                params={
                    "model": model,
                    "temperature": str(rng.choice([0.0, 0.2, 0.7])),
                    "top_k": str(int(rng.integers(2, 9))),
                    "prompt_version": f"v{index // 5 + 1}",
                },
                status="RUNNING" if index == 19 else "FINISHED",
                extra_metrics={
                    "answer_correctness": float(rng.uniform(0.55, 0.92)),
                    "faithfulness": float(rng.uniform(0.6, 0.98)),
                    "latency_ms": float(rng.uniform(400, 2600)),
                    "tokens_per_answer": float(rng.integers(180, 900)),
                },
                tags={"source": "agent/eval.py"},
            ),
            step_ms=5_000,
        )
        if index == 18:
            linked = run_id
    return linked


def default_and_scratch(
    client: MlflowClient,
    experiments: Mapping[str, str],
    start_ms: int,
    progress: Callable[[str], None],
) -> None:
    """Two runs in Default and a deleted 'scratch' experiment with three runs."""
    writer = RunWriter(client, experiments["Default"], start_ms, seed=7)
    for name in ("quick-check", "notebook-run"):
        writer.write(
            RunSpec(
                name=name, params={"lr": "0.001"}, steps=50, curve=random_shape(writer.rng, 1e-3)
            )
        )
    scratch = RunWriter(client, experiments["scratch"], start_ms, seed=8)
    for index in range(3):
        scratch.write(
            RunSpec(
                name=f"scratch-{index}",
                params={"lr": "0.01"},
                steps=20,
                curve=random_shape(scratch.rng, 1e-2),
            )
        )
    client.delete_experiment(experiments["scratch"])
    progress("default and scratch experiments written")
