"""Metric charts: curves per metric, comparison charts and export."""
