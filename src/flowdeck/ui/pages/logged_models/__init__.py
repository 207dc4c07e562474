"""Logged models (MLflow 3): the list of an experiment's and the page of one."""

from flowdeck.ui.pages.logged_models import list_page, model_page  # noqa: F401 - registers pages
