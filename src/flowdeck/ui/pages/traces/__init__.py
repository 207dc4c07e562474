"""Trace pages: one trace as a span tree with a timeline and span detail."""

from flowdeck.ui.pages.traces import list_page, trace_page  # noqa: F401 - registers pages
