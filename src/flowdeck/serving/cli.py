"""``python -m flowdeck serve LOCATION MODEL_URI``: serve a model headless, logging requests."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from flowdeck.core.errors import FlowdeckError
from flowdeck.serving.inference_log import InferenceEntry
from flowdeck.serving.options import ENV_CURRENT, ENV_VIRTUALENV, LaunchOptions, remote_warning

if TYPE_CHECKING:
    from flowdeck.serving.models import ModelRef
    from flowdeck.serving.process import ServerProcess

EXIT_OK, EXIT_SERVER_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
LAST_LINES = 30


def build_parser() -> argparse.ArgumentParser:
    """The ``flowdeck serve`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="flowdeck serve",
        description="Serve a model from a tracking store with MLflow's scoring server; every "
        "request is logged to stdout and to Flowdeck's inference log.",
    )
    parser.add_argument("location", metavar="LOCATION", help="the tracking store")
    parser.add_argument(
        "model_uri",
        metavar="MODEL_URI",
        help="models:/<name>/<version>, models:/<name>@<alias>, models:/m-<id>, "
        "runs:/<run_id>/<path> or a model folder",
    )
    parser.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="host to listen on (127.0.0.1)")
    parser.add_argument(
        "--env",
        default=ENV_CURRENT,
        metavar="ENV",
        help=f"{ENV_CURRENT} (this Python), {ENV_VIRTUALENV} (built from the model's "
        "python_env.yaml), or the path of a Python interpreter with MLflow",
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (1)")
    parser.add_argument("--timeout", type=int, default=60, help="request timeout in seconds")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a host other than 127.0.0.1/::1/localhost (reachable from the network)",
    )
    parser.add_argument(
        "--startup-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="give up if /ping does not answer by then (300, 1800 for virtualenv)",
    )
    return parser


def serve_from_cli(
    argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command; 0 after a clean stop (Ctrl+C / SIGTERM), 1 if the server died or
    never answered, 2 if the options are wrong or the model cannot be resolved or fetched,
    130 if interrupted before the server started."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(list(argv))
    printer = _Printer(out)
    try:
        options = LaunchOptions(
            port=args.port,
            host=args.host,
            env=args.env,
            workers=args.workers,
            timeout=args.timeout,
            allow_remote=args.allow_remote,
        )
    except FlowdeckError as error:
        print(f"flowdeck serve: {error.message}", file=err)
        return EXIT_BAD_INPUT
    warning = remote_warning(options.host)
    if warning:
        print(f"flowdeck serve: warning: {warning}", file=err)
    try:
        prepared = _prepare(args, printer, err)
    except KeyboardInterrupt:
        print("flowdeck serve: interrupted before the server started.", file=err)
        return EXIT_INTERRUPTED
    if isinstance(prepared, int):
        return prepared
    ref, model_dir = prepared
    stop = threading.Event()
    previous = _install_signals(stop)
    try:
        return _run(args, options, ref, model_dir, printer, err, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _prepare(
    args: argparse.Namespace, printer: _Printer, err: TextIO
) -> tuple[ModelRef, Path] | int:
    """Open the store, resolve and fetch the model; an exit code on a plain error."""
    from flowdeck.serving.models import fetch_model, flavor_runs_code, resolve
    from flowdeck.store import open_store

    try:
        store = open_store(args.location)
        ref = resolve(store, args.model_uri)
        if ref.resolved_version:
            printer.line(f"Resolved {ref.uri} to version {ref.resolved_version}.")
        model_dir = fetch_model(store, ref)
    except FlowdeckError as error:
        print(f"flowdeck serve: {error.message}", file=err)
        return EXIT_BAD_INPUT
    warning = flavor_runs_code(model_dir)
    if warning:
        print(f"flowdeck serve: note: {warning}", file=err)
    return ref, model_dir


def _run(
    args: argparse.Namespace,
    options: LaunchOptions,
    ref: ModelRef,
    model_dir: Path,
    printer: _Printer,
    err: TextIO,
    stop: threading.Event,
) -> int:
    """Start the server, wait for /ping, print requests until stopped or dead."""
    from flowdeck.serving.process import RUNNING, STARTING, ServerProcess

    try:
        server = ServerProcess.start(model_dir, options, ref=ref)
    except FlowdeckError as error:
        print(f"flowdeck serve: {error.message}", file=err)
        return EXIT_BAD_INPUT
    server.inference_log.add_listener(printer.entry)
    try:
        startup = args.startup_timeout or (1800.0 if server.builds_environment else 300.0)
        deadline = time.monotonic() + startup
        printer.line(f"Starting {ref.label} ({server.environment}) ...")
        seen = 0
        while not stop.is_set() and time.monotonic() < deadline:
            if server.wait_until_ready(0.5) or server.state != STARTING:
                break
            if server.builds_environment:  # environment creation: show its progress
                for line in server.log_lines(since=seen):
                    printer.line(f"  {line.text}")
                    seen = line.seq
        if stop.is_set():
            server.stop()
            printer.line("Stopped.")
            return EXIT_OK
        if server.state != RUNNING:
            late = server.state == STARTING
            server.stop()
            why = "did not answer /ping in time" if late else "stopped while starting"
            _report_failure(server, why, err)
            return EXIT_SERVER_FAILED
        printer.line(f"Serving {ref.label} at {server.url}")
        printer.line("Press Ctrl+C to stop.")
        while not stop.wait(0.5):
            if server.state != RUNNING:
                _report_failure(server, "stopped unexpectedly", err)
                return EXIT_SERVER_FAILED
        server.stop()
        printer.line("Stopped.")
        return EXIT_OK
    finally:
        server.inference_log.remove_listener(printer.entry)
        server.stop()


def _report_failure(server: ServerProcess, why: str, err: TextIO) -> None:
    """The plain message and the server's last log lines."""
    code = server.exit_code
    exit_text = f" (exit code {code})" if code is not None else ""
    print(f"flowdeck serve: the model server {why}{exit_text}. Last log lines:", file=err)
    print(server.log_text(last=LAST_LINES), file=err)
    err.flush()


class _Printer:
    """Thread-safe line printing (requests arrive on the proxy's threads)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._lock = threading.Lock()

    def line(self, text: str) -> None:
        with self._lock:
            print(text, file=self._out, flush=True)

    def entry(self, entry: InferenceEntry) -> None:
        self.line(entry.summary())


def _install_signals(stop: threading.Event) -> dict[int, object]:
    """SIGINT and SIGTERM set ``stop`` (main thread only); returns the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous: dict[int, object] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, lambda _signum, _frame: stop.set())
    return previous
