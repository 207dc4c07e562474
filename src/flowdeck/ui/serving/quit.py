"""Quitting with servers running: ask first, then stop them and all their children."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget


def confirm_stop_servers(parent: QWidget, shell: Any) -> bool:
    """True when the app may close: no server runs, or the user agreed to stop them (stopped)."""
    manager = getattr(shell, "servers", None)
    running = manager.running() if manager is not None else []
    if not running:
        return True
    names = "\n".join(f"• {served.label} at {served.url or 'starting'}" for served in running)
    answer = QMessageBox.question(
        parent,
        "Stop the local servers?",
        f"Closing Flowdeck stops {len(running)} model server(s) it started:\n{names}",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    if answer != QMessageBox.StandardButton.Yes:
        return False
    manager.stop_all()
    return True
