"""Flowdeck: a fast native desktop explorer for MLflow tracking stores."""

__version__ = "0.1.0"
