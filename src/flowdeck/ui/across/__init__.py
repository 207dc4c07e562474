"""Runs across stores: the command that picks experiments of several open stores."""
