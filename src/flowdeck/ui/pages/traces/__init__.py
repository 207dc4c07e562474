"""Trace pages: one trace as a span tree with a timeline and span detail."""

from flowdeck.ui.pages.traces import trace_page  # noqa: F401 - registers the page
