"""Entry point of ``python -m flowdeck`` and the ``flowdeck`` command; heavy imports are lazy."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, build the demo store if needed, and run the window.

    ``flowdeck serve LOCATION MODEL_URI …`` serves a model headless instead (no Qt),
    ``flowdeck mirror SOURCE DEST.db …`` makes or updates an offline mirror (no Qt), and
    ``flowdeck --install-desktop-entry`` / ``--uninstall-desktop-entry`` add Flowdeck to the
    desktop's menu or remove it (no Qt).
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["serve"]:
        from flowdeck.serving.cli import serve_from_cli

        return serve_from_cli(arguments[1:])
    if arguments[:1] == ["mirror"]:
        from flowdeck.store.mirror.cli import mirror_from_cli

        return mirror_from_cli(arguments[1:])
    if {"--install-desktop-entry", "--uninstall-desktop-entry"} & set(arguments):
        from flowdeck.desktop_entry import desktop_entry_from_cli

        return desktop_entry_from_cli(arguments)
    from flowdeck.cli import parse_args, plan_launch

    args = parse_args(arguments)
    plan = plan_launch(args, recent_stores=_recent_stores)
    location = plan.location
    if plan.use_demo:
        from flowdeck.demo import ensure_demo_store

        try:
            location = str(ensure_demo_store())
        except KeyboardInterrupt:
            print("flowdeck: demo build interrupted; nothing was left behind.", file=sys.stderr)
            return 130
    from flowdeck.ui.app import run_app

    return run_app(
        location or "",
        screenshot=plan.screenshot,
        experiment=plan.experiment,
        filter_string=plan.filter_string,
        select=plan.select,
        view=plan.view,
        page=plan.page,
        timeout=plan.timeout,
    )


def _recent_stores() -> list[str]:
    """The stores opened last (newest first), from Flowdeck's settings."""
    from flowdeck.ui.settings import Settings

    return Settings().recent_stores


if __name__ == "__main__":
    sys.exit(main())
