"""Offline mirrors in the window: make one, sync it, open its source."""
