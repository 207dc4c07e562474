"""``python -m flowdeck mirror SOURCE DEST.db``: make or update an offline mirror headless."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from flowdeck.core.errors import Cancelled, FlowdeckError
from flowdeck.core.task_state import TaskState

EXIT_COMPLETE, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
LINE_INTERVAL_SECONDS = 0.5


def build_parser() -> argparse.ArgumentParser:
    """The ``flowdeck mirror`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="flowdeck mirror",
        description="Copy a tracking store (server, database or mlruns/ folder) into a local "
        "SQLite store that MLflow itself opens. Run it again to copy only what changed; an "
        "interrupted copy carries on where it stopped.",
    )
    parser.add_argument("source", metavar="SOURCE", help="the store to copy")
    parser.add_argument("destination", metavar="DEST.db", help="the mirror's SQLite file")
    parser.add_argument(
        "--experiment",
        action="append",
        default=[],
        metavar="NAME_OR_ID",
        help="copy only this experiment (repeat for several; default: all)",
    )
    parser.add_argument(
        "--models",
        action="store_true",
        help="also copy the model registry and logged models",
    )
    parser.add_argument("--no-traces", action="store_true", help="do not copy traces")
    parser.add_argument(
        "--artifacts",
        action="store_true",
        help="also copy each run's artifact files (their size is estimated and shown first)",
    )
    parser.add_argument(
        "--artifact-pattern",
        default=None,
        metavar="GLOB",
        help="copy only artifacts whose path matches, e.g. '*.json' or 'model/*'",
    )
    parser.add_argument(
        "--estimate",
        action="store_true",
        help="only show how much the artifacts would take, copy nothing",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="compare every run with the source, which also finds edits to old finished runs "
        "(done anyway once a day; other syncs copy what changed since the last one)",
    )
    parser.add_argument("--batch-runs", type=int, default=None, help=argparse.SUPPRESS)
    return parser


class ProgressLine:
    """Writes the sync's progress as one line, rewritten in place on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.last = 0.0
        self.text = ""

    def __call__(self, done: int, total: int, text: str) -> None:
        now = time.monotonic()
        if text == self.text and now - self.last < LINE_INTERVAL_SECONDS:
            return
        self.last, self.text = now, text
        line = f"{text} {done:,}/{total:,}" if total and "(" not in text else text
        if self.live:
            self.stream.write("\r\x1b[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.live and self.text:
            self.stream.write("\n")
            self.stream.flush()


def mirror_from_cli(argv: Sequence[str], stream: TextIO | None = None) -> int:
    """Run one sync; exit 0 only when the mirror is complete."""
    from flowdeck.store import open_store
    from flowdeck.store.mirror import MirrorOptions, sync_mirror

    out = stream or sys.stderr
    args = build_parser().parse_args(list(argv))
    options = MirrorOptions(
        experiments=tuple(args.experiment),
        models=args.models,
        traces=not args.no_traces,
        artifacts=args.artifacts or args.estimate,
        artifact_pattern=args.artifact_pattern,
        full=args.full,
    )
    if args.batch_runs:
        options = replace(options, batch_runs=args.batch_runs)
    line = ProgressLine(out)
    state = TaskState(line)
    previous = signal.signal(signal.SIGTERM, lambda *_: state.cancel())
    try:
        source = open_store(args.source)
        try:
            if options.artifacts:
                found = _estimate(source, options, state)
                line.finish()
                out.write(f"flowdeck mirror: artifacts to copy: {found.text()}.\n")
                if args.estimate:
                    return EXIT_COMPLETE
            report = sync_mirror(source, Path(args.destination), options, state)
        finally:
            source.close()
    except (KeyboardInterrupt, Cancelled):
        line.finish()
        out.write(
            "flowdeck mirror: interrupted; what was copied is kept and consistent. "
            "Run the same command again to carry on.\n"
        )
        return EXIT_INTERRUPTED
    except FlowdeckError as error:
        line.finish()
        out.write(f"flowdeck mirror: {error}\n")
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGTERM, previous)
    line.finish()
    out.write(f"flowdeck mirror: complete: {report.summary()}.\n")
    return EXIT_COMPLETE


def _estimate(source: Any, options: Any, state: TaskState) -> Any:
    """The artifacts' size for the runs the sync would copy."""
    from flowdeck.store.mirror.artifacts_copy import estimate
    from flowdeck.store.mirror.source import read_experiments
    from flowdeck.store.mirror.sync import chosen_experiments

    experiments = chosen_experiments(read_experiments(source), options.experiments)
    ids = list(experiments["experiment_id"])
    run_ids = list(source.runs(ids, view="all")["run_id"]) if ids else []
    return estimate(source, run_ids, options.artifact_pattern, state)
