"""Artifacts: the browser of a run's artifact tree, the preview host and the previewers."""
