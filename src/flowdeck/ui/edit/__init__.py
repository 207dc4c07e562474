"""Editing runs: tags and description editors, change confirmations and the run actions."""

from flowdeck.ui.edit.confirm import ConfirmChangesDialog
from flowdeck.ui.edit.description_editor import DescriptionEditor
from flowdeck.ui.edit.run_actions import RunActions, RunRef
from flowdeck.ui.edit.tags_editor import TagsEditor

__all__ = ["ConfirmChangesDialog", "DescriptionEditor", "RunActions", "RunRef", "TagsEditor"]
