"""Page types of the shell; importing this package registers each of them."""

import flowdeck.ui.pages.compare  # noqa: F401
from flowdeck.ui.pages import (  # noqa: F401
    across,
    experiment,
    logged_models,
    registry,  # noqa: F401
    run,
    servers,
    traces,
    welcome,
)
