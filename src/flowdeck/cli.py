"""Command-line arguments and the choice of which store to open (no Qt, no MLflow imports)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from flowdeck import __version__

DESCRIPTION = "Flowdeck: a fast native desktop explorer for MLflow tracking stores."
EPILOG = """\
LOCATION may be an mlruns/ folder, a .db/.sqlite file, a file: URI, sqlite:///,
postgresql://, mysql+pymysql://, or the http(s):// address of an MLflow tracking server
(MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN are used for authentication).
Without LOCATION, Flowdeck opens MLFLOW_TRACKING_URI, ./mlruns or ./mlflow.db, else the
store used last; the first time, when there is none, it shows the welcome page (open a store,
or the demo store). --page welcome shows that page at any time.

flowdeck serve LOCATION MODEL_URI [--port N] [--env current|virtualenv] [--host 127.0.0.1]
serves a model headless (see `flowdeck serve --help`).

flowdeck --install-desktop-entry [--yes] adds Flowdeck to the desktop's application menu for
this user: the .desktop file, icons and AppStream metadata under $XDG_DATA_HOME (default
~/.local/share); it lists the files and asks first. --uninstall-desktop-entry removes them.
"""
VIEWS = ("table", "charts")
WELCOME = "welcome"  # the address of the first-run page


@dataclass(frozen=True)
class LaunchPlan:
    """What the app should open: a location, or the demo store (built first if absent); with
    neither, the ``page`` is the welcome page (the first run)."""

    location: str | None
    use_demo: bool
    screenshot: Path | None = None
    experiment: str | None = None
    filter_string: str = ""
    select: int = 0
    view: str = "table"
    page: str | None = None
    timeout: float = 300.0


def build_parser() -> argparse.ArgumentParser:
    """The ``flowdeck`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="flowdeck",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "location",
        nargs="?",
        default=None,
        metavar="LOCATION",
        help="the tracking store to open (folder, database file or URI)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the demo store (built in the user data folder on first use)",
    )
    parser.add_argument("--version", action="version", version=f"flowdeck {__version__}")
    parser.add_argument(
        "--experiment", default=None, metavar="NAME", help="select this experiment on opening"
    )
    parser.add_argument(
        "--filter",
        dest="filter_string",
        default="",
        metavar="STRING",
        help='apply this MLflow filter to the runs, e.g. "metrics.loss < 0.5"',
    )
    parser.add_argument(
        "--select", type=int, default=0, metavar="N", help="select the first N runs once loaded"
    )
    parser.add_argument(
        "--view",
        choices=VIEWS,
        default="table",
        help="what fills the window: the runs table, or the charts of the selected runs",
    )
    parser.add_argument(
        "--page",
        default=None,
        metavar="ADDRESS",
        help="open this page, e.g. experiment/1?filter=metrics.loss%%20%%3C%%200.5, run/<run_id>, "
        "compare/<id>,<id>, models, model/<name>/<version>, traces/<experiment_id>, trace/<id>, "
        "servers, welcome",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="with --screenshot: give up (exit 1) if the page has not loaded by then",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        default=None,
        metavar="FILE.png",
        help="once the page has loaded, save the window as a PNG, print the load time, the "
        "longest stall of the window and the start-up time on stderr, and exit (1 if the page "
        "failed to load, 2 if the address names nothing)",
    )
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse ``argv`` (``sys.argv[1:]`` when None); exits with a usage message on errors."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.demo and args.location:
        parser.error("give either LOCATION or --demo, not both")
    if args.select < 0:
        parser.error("--select needs a number of runs (0 or more)")
    if args.page is not None and args.experiment is not None:
        parser.error("give either --page or --experiment, not both")
    if args.page is not None:
        from flowdeck.core.addresses import BadAddress, parse_address

        try:
            parse_address(args.page)
        except BadAddress as error:
            parser.exit(2, f"flowdeck: {error.message}\n")
    return args


def plan_launch(
    args: argparse.Namespace,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
    recent_stores: Callable[[], Sequence[str]] | None = None,
) -> LaunchPlan:
    """Decide what to open: LOCATION, else MLflow's default store, else the last store used,
    else (the first run) the welcome page, or the demo store when the command line asks for a
    store's page or experiment. ``recent_stores`` is only asked when it comes to that."""
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    options = {
        "screenshot": args.screenshot,
        "experiment": getattr(args, "experiment", None),
        "filter_string": getattr(args, "filter_string", ""),
        "select": getattr(args, "select", 0),
        "view": getattr(args, "view", "table"),
        "page": getattr(args, "page", None),
        "timeout": getattr(args, "timeout", 300.0),
    }
    if args.demo:
        return LaunchPlan(None, True, **options)
    if args.location:
        return LaunchPlan(args.location, False, **options)
    tracking_uri = environ.get("MLFLOW_TRACKING_URI", "").strip()
    if tracking_uri:
        return LaunchPlan(tracking_uri, False, **options)
    if (cwd / "mlruns").is_dir():
        return LaunchPlan(str(cwd / "mlruns"), False, **options)
    if (cwd / "mlflow.db").is_file():
        return LaunchPlan(str(cwd / "mlflow.db"), False, **options)
    recent = list(recent_stores()) if recent_stores is not None else []
    if recent:
        return LaunchPlan(recent[0], False, **options)
    asks_for_runs = (
        options["experiment"] is not None
        or options["filter_string"]
        or (options["select"] or options["view"] != "table")
    )
    if options["page"] not in (None, WELCOME) or asks_for_runs:
        return LaunchPlan(None, True, **options)
    return LaunchPlan(None, False, **{**options, "page": WELCOME})
