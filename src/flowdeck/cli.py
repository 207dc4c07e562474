"""Command-line arguments and the choice of which store to open (no Qt, no MLflow imports)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from flowdeck import __version__

DESCRIPTION = "Flowdeck: a fast native desktop explorer for MLflow tracking stores."
EPILOG = """\
LOCATION may be an mlruns/ folder, a .db/.sqlite file, a file: URI, sqlite:///,
postgresql://, mysql+pymysql://, or the http(s):// address of an MLflow tracking server
(MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN are used for authentication).
Without LOCATION, Flowdeck opens MLFLOW_TRACKING_URI, ./mlruns or ./mlflow.db, and falls
back to the demo store when none of them exists.
"""


@dataclass(frozen=True)
class LaunchPlan:
    """What the app should open: a location, or the demo store (built first if absent)."""

    location: str | None
    use_demo: bool
    screenshot: Path | None = None


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
    # Hidden helper: render the window to a PNG once the experiments are listed, then exit.
    parser.add_argument("--screenshot", type=Path, default=None, help=argparse.SUPPRESS)
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse ``argv`` (``sys.argv[1:]`` when None); exits with a usage message on errors."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.demo and args.location:
        parser.error("give either LOCATION or --demo, not both")
    return args


def plan_launch(
    args: argparse.Namespace,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> LaunchPlan:
    """Decide what to open: LOCATION, else MLflow's default store, else the demo store."""
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    if args.demo:
        return LaunchPlan(None, True, args.screenshot)
    if args.location:
        return LaunchPlan(args.location, False, args.screenshot)
    tracking_uri = environ.get("MLFLOW_TRACKING_URI", "").strip()
    if tracking_uri:
        return LaunchPlan(tracking_uri, False, args.screenshot)
    if (cwd / "mlruns").is_dir():
        return LaunchPlan(str(cwd / "mlruns"), False, args.screenshot)
    if (cwd / "mlflow.db").is_file():
        return LaunchPlan(str(cwd / "mlflow.db"), False, args.screenshot)
    return LaunchPlan(None, True, args.screenshot)
