"""The demo store: a small, realistic MLflow store written with MLflow's own client."""

from __future__ import annotations

from flowdeck.demo.build import build_demo_store, ensure_demo_store

__all__ = ["build_demo_store", "ensure_demo_store"]
