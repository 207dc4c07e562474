"""Evaluation runs: their rows × judges table, and two runs compared row by row."""
