"""The run page; importing this package registers it for ``run`` addresses."""

from flowdeck.ui.pages.run import page  # noqa: F401
