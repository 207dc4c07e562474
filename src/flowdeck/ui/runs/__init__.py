"""The runs table and its companions: model, filter bar, column chooser."""
