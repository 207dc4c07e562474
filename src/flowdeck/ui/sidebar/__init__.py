"""The sidebar: open stores and their experiments, with search, selection and experiment edits."""

from flowdeck.ui.sidebar.model import ExperimentEntry, StoreTreeModel
from flowdeck.ui.sidebar.view import Sidebar

__all__ = ["ExperimentEntry", "Sidebar", "StoreTreeModel"]
