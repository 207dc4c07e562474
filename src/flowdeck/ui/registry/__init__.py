"""Model-registry dialogs: promoting a version to an alias or stage."""
