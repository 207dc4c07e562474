"""The model registry pages: models, one model, one version."""

from flowdeck.ui.pages.registry import model, models, version  # noqa: F401
