"""Launch options of a model server, their checks, free ports, and MLflow's scoring argv."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from flowdeck.serving.errors import RemoteHostRefused, ServingError

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
ENV_CURRENT = "current"
ENV_VIRTUALENV = "virtualenv"


def is_loopback(host: str) -> bool:
    """True for the hosts only this machine can reach (127.0.0.1, ::1, localhost)."""
    return host.strip().strip("[]").lower() in LOOPBACK_HOSTS


def remote_warning(host: str) -> str | None:
    """The plain warning shown before serving on a non-loopback host, None for loopback."""
    if is_loopback(host):
        return None
    return (
        f"Serving on {host} lets other machines on the network send requests to this model, "
        "with no authentication. The model runs with your user's rights. Choose it only on a "
        "network you trust."
    )


@dataclass(frozen=True)
class LaunchOptions:
    """How to serve: port (None for a free one), host, environment, workers, request timeout."""

    port: int | None = None
    host: str = "127.0.0.1"
    env: str = ENV_CURRENT  # "current" | "virtualenv" | path to a Python interpreter
    workers: int = 1
    timeout: int = 60
    allow_remote: bool = False

    def __post_init__(self) -> None:
        """Refuse bad values, and a non-loopback host without ``allow_remote``."""
        if self.port is not None and not 1 <= int(self.port) <= 65535:
            raise ServingError(f"Port {self.port} is not between 1 and 65535.")
        if not self.host.strip():
            raise ServingError("Choose a host to serve on, e.g. 127.0.0.1.")
        if not is_loopback(self.host) and not self.allow_remote:
            raise RemoteHostRefused(
                f"Host {self.host} is reachable from other machines; "
                "choose it explicitly (allow_remote) to serve there."
            )
        if int(self.workers) < 1:
            raise ServingError("A server needs at least 1 worker.")
        if int(self.timeout) < 1:
            raise ServingError("The request timeout must be at least 1 second.")
        if self.env not in (ENV_CURRENT, ENV_VIRTUALENV):
            interpreter = Path(self.env).expanduser()
            if not interpreter.is_file() or not os.access(interpreter, os.X_OK):
                raise ServingError(
                    f"Environment '{self.env}' is neither 'current', 'virtualenv' nor "
                    "an executable Python interpreter."
                )

    @property
    def env_label(self) -> str:
        """The environment in words: current Python, virtualenv, or the interpreter path."""
        if self.env == ENV_CURRENT:
            from flowdeck.serving.interpreters import running_from_bundle

            return "a Python with MLflow on PATH" if running_from_bundle() else "current Python"
        if self.env == ENV_VIRTUALENV:
            return "virtualenv"
        return self.env


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now at ``host``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host.strip("[]"), 0))
        return int(sock.getsockname()[1])


def url_for(host: str, port: int) -> str:
    """``http://host:port`` (IPv6 hosts in brackets; 0.0.0.0/:: shown as loopback)."""
    host = host.strip("[]")
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve_argv(model_dir: Path, options: LaunchOptions, port: int, host: str) -> list[str]:
    """The argv of ``mlflow models serve`` for the chosen environment (run with no shell)."""
    from flowdeck.serving.interpreters import serving_python

    if options.env == ENV_CURRENT:
        python, manager = serving_python(), "local"
    elif options.env == ENV_VIRTUALENV:
        python, manager = serving_python(), "virtualenv"
    else:
        python, manager = str(Path(options.env).expanduser()), "local"
    return [
        python,
        "-m",
        "mlflow",
        "models",
        "serve",
        "-m",
        str(model_dir),
        "--env-manager",
        manager,
        "-p",
        str(port),
        "-h",
        host,
        "-w",
        str(options.workers),
        "-t",
        str(options.timeout),
    ]
