"""Serve Locally… from a page: the launch dialog, then the server in the Servers page."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QWidget

from flowdeck.core.addresses import Address
from flowdeck.store.base import Store
from flowdeck.ui.serving.launch_dialog import Inspected, LaunchDialog, inspect_model
from flowdeck.ui.serving.manager import servers_of
from flowdeck.ui.shell.page import Shell

SERVERS = Address("servers")


class ServeLocally(QObject):
    """Opens the launch dialog for a model URI; on Start hands it to the server manager."""

    open_requested = Signal(object, bool)  # the Servers page, once a server is starting

    def __init__(self, shell: Shell, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell, self.dialog_parent = shell, parent
        self.dialog: LaunchDialog | None = None

    def start(self, store: Store, uri: str) -> None:
        dialog = LaunchDialog(uri, self.dialog_parent)
        self.dialog = dialog
        self.shell.runner.submit(
            inspect_model,
            store,
            uri,
            owner=self,
            store=store,
            label=f"Fetching {uri}",
            on_result=dialog.show_inspected,
            on_error=lambda error, _d: dialog.show_problem(getattr(error, "message", str(error))),
        )

        def finished(result: int) -> None:
            self.dialog = None
            dialog.deleteLater()
            inspected: Inspected | None = dialog.inspected
            if result == QDialog.DialogCode.Accepted and inspected is not None:
                servers_of(self.shell).launch(
                    store,
                    uri,
                    inspected.label,
                    dialog.options(),
                    inspected.model_dir,
                    inspected.resolved_version,
                )
                self.open_requested.emit(SERVERS, False)
            else:
                self.shell.runner.cancel_owner(self)

        dialog.finished.connect(finished)
        dialog.open()
