"""The previewers; importing this package registers each of them."""

import flowdeck.ui.artifacts.previews.gallery  # noqa: F401
import flowdeck.ui.artifacts.previews.image  # noqa: F401
import flowdeck.ui.artifacts.previews.other  # noqa: F401
import flowdeck.ui.artifacts.previews.steps  # noqa: F401

# isort: split
import flowdeck.ui.artifacts.previews.mlmodel  # noqa: F401
import flowdeck.ui.artifacts.previews.structured  # noqa: F401
import flowdeck.ui.artifacts.previews.table  # noqa: F401
import flowdeck.ui.artifacts.previews.text  # noqa: F401
