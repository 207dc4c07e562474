"""Shared helpers for the test suite: server start-up, throw-away databases, scenario parts."""
