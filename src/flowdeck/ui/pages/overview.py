"""The servers overview page (until local serving arrives)."""

from __future__ import annotations

from flowdeck.core.addresses import Address
from flowdeck.store.base import Store
from flowdeck.ui.pages.overview_widgets import OverviewPage, plain_label
from flowdeck.ui.shell.page import Shell
from flowdeck.ui.shell.page_types import page_type

SERVERS_NEXT = (
    "Serving a model version locally arrives with the serving feature; the servers you start "
    "will be listed here with their address, model and log."
)


@page_type
class ServersPage(OverviewPage):
    """``servers``: local model servers (none can run yet). ``store`` may be None."""

    family = "servers"
    next_text = SERVERS_NEXT

    def __init__(self, shell: Shell, store: Store | None, address: Address) -> None:
        super().__init__(shell, store, address)  # type: ignore[arg-type]
        self.set_title("Servers")
        self.set_heading("Servers")
        self.set_facts([])
        self.body_layout.addWidget(plain_label("No local model servers are running.", wrap=True))
        self.show_body(True)
        self.page_layout.setStretchFactor(self.body, 0)
        self.page_layout.addStretch(1)  # the next-page note right under the text

    def start(self) -> None:
        self.finish_loading()
