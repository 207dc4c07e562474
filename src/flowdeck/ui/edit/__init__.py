"""Editing: the shared edit commands and their dialogs (name, tags, description, confirmation)."""

from flowdeck.ui.edit.confirm import ConfirmChangesDialog
from flowdeck.ui.edit.description_editor import DescriptionEditor
from flowdeck.ui.edit.edits import Edits
from flowdeck.ui.edit.name_dialog import NameDialog
from flowdeck.ui.edit.run_ref import RunRef
from flowdeck.ui.edit.tags_editor import TagsEditor

__all__ = ["ConfirmChangesDialog", "DescriptionEditor", "Edits", "NameDialog", "RunRef", "TagsEditor"]
