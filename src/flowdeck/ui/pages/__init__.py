"""Page types of the shell; importing this package registers each of them."""

from flowdeck.ui.pages import experiment, overview  # noqa: F401
