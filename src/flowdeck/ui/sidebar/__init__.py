"""The sidebar: open stores and what they hold, as the app's navigation tree."""

from flowdeck.ui.sidebar.model import ExperimentEntry, StoreTreeModel
from flowdeck.ui.sidebar.view import Sidebar

__all__ = ["ExperimentEntry", "Sidebar", "StoreTreeModel"]
