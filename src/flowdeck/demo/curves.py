"""Realistic-looking training curves (noisy exponential decay) for the demo runs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CurveShape:
    """How one run trains: start and floor of the loss, speed, noise, overfitting."""

    start_loss: float
    floor_loss: float
    decay_steps: float
    noise: float
    overfit: float = 0.0
    diverge_at: int | None = None


def random_shape(rng: np.random.Generator, lr: float) -> CurveShape:
    """A plausible curve shape for a run trained with learning rate ``lr``."""
    speed = np.clip(lr / 1e-3, 0.05, 20.0)
    return CurveShape(
        start_loss=float(rng.uniform(2.0, 2.6)),
        floor_loss=float(rng.uniform(0.05, 0.35) + 0.02 * abs(np.log10(lr / 3e-4))),
        decay_steps=float(rng.uniform(150, 400) / np.sqrt(speed)),
        noise=float(rng.uniform(0.02, 0.06) * np.sqrt(speed)),
        overfit=float(rng.uniform(0.0, 0.25)),
    )


def training_curves(
    rng: np.random.Generator, shape: CurveShape, steps: int, base_lr: float, warmup: int = 50
) -> dict[str, np.ndarray]:
    """Per-step values of train/loss, val/loss, val/accuracy and lr (one value per step)."""
    step = np.arange(steps, dtype=np.float64)
    progress = step / max(steps - 1, 1)
    clean = shape.floor_loss + (shape.start_loss - shape.floor_loss) * np.exp(
        -step / shape.decay_steps
    )
    jitter = rng.normal(0.0, shape.noise, steps) * np.sqrt(clean)
    window = min(25, steps)
    smooth_noise = np.convolve(
        rng.normal(0.0, shape.noise, steps), np.ones(window) / window, "same"
    )
    train_loss = np.maximum(clean + jitter, 1e-3)
    val_loss = np.maximum(
        clean * 1.08 + shape.overfit * progress**2 + smooth_noise * 2 + jitter * 0.3, 1e-3
    )
    accuracy = np.clip(1.0 - 0.9 * val_loss / shape.start_loss, 0.0, 1.0)
    lr = base_lr * np.where(
        step < warmup, (step + 1) / warmup, 0.5 * (1 + np.cos(np.pi * progress))
    )
    curves = {
        "train/loss": train_loss,
        "val/loss": val_loss,
        "val/accuracy": accuracy,
        "lr": lr,
    }
    if shape.diverge_at is not None:
        for key in ("train/loss", "val/loss"):
            curves[key] = curves[key].copy()
            curves[key][shape.diverge_at :] = np.nan
    return curves
