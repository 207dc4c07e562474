"""The comparison page (``compare/<id>,<id>[,…]``); importing this package registers it."""

from flowdeck.ui.pages.compare.page import ComparePage

__all__ = ["ComparePage"]
