"""Model-serving launcher logic (Qt-free): resolve, fetch, launch, proxy, inference log."""

from __future__ import annotations

from flowdeck.serving.cli import serve_from_cli
from flowdeck.serving.errors import ModelNotServable, PortInUse, RemoteHostRefused, ServingError
from flowdeck.serving.inference_log import InferenceEntry, InferenceLog, log_path_for
from flowdeck.serving.models import ModelRef, fetch_model, flavor_runs_code, resolve
from flowdeck.serving.options import LaunchOptions, free_port, is_loopback, remote_warning
from flowdeck.serving.process import LogLine, ServerProcess
from flowdeck.serving.proxy import InferenceProxy

__all__ = [
    "InferenceEntry",
    "InferenceLog",
    "InferenceProxy",
    "LaunchOptions",
    "LogLine",
    "ModelNotServable",
    "ModelRef",
    "PortInUse",
    "RemoteHostRefused",
    "ServerProcess",
    "ServingError",
    "fetch_model",
    "flavor_runs_code",
    "free_port",
    "is_loopback",
    "log_path_for",
    "remote_warning",
    "resolve",
    "serve_from_cli",
]
