"""Widgets of the trace inspector: the span tree model, the span detail, JSON trees."""
