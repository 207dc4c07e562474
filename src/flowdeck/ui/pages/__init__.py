"""Page types of the shell; importing this package registers each of them."""

import flowdeck.ui.pages.compare  # noqa: F401
from flowdeck.ui.pages import experiment, overview, run  # noqa: F401
