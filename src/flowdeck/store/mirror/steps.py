"""Registers the mirror's copy steps after the runs: registry, traces and logged models."""

from __future__ import annotations

from flowdeck.store.mirror.logged_models_copy import copy_logged_models
from flowdeck.store.mirror.registry_copy import copy_registry
from flowdeck.store.mirror.sync import register_step
from flowdeck.store.mirror.traces_copy import copy_traces

register_step("models", "models", copy_registry)
register_step("traces", "traces", copy_traces)
register_step("models", "logged models", copy_logged_models)
