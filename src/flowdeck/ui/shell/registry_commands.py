"""The Registry menu: the model and version pages' edits, promotion, the workflow, Register…

Each command presses the matching button (or action) of the current page, so it is enabled
exactly when that button is, with the button's reason as its own when it is not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowdeck.ui.shell.commands import Command, CommandRegistry

if TYPE_CHECKING:
    from flowdeck.ui.main_window import MainWindow

MODEL_PAGE = "Open a registered model's page first."
VERSION_PAGE = "Open a model version's page first."
REGISTER_PAGE = "Open a logged model, or a run's Artifacts tab with a model folder selected, first."

# id, text, shortcut, tip, page family, what to press on that page
EDIT_BAR_COMMANDS = (
    (
        "registry.rename_model",
        "&Rename Model…",
        "",
        "Rename the registered model",
        "model",
        "Rename…",
    ),
    (
        "registry.delete_model",
        "Delete &Model…",
        "",
        "Delete the model and all its versions",
        "model",
        "Delete…",
    ),
    (
        "registry.model_description",
        "Model &Description…",
        "",
        "Edit the model's description",
        "model",
        "Description…",
    ),
    ("registry.model_tags", "Model &Tags…", "", "Edit the model's tags", "model", "Tags…"),
    (
        "registry.workflow",
        "Deployment &Workflow…",
        "",
        "Set the model's evaluate → approve → deploy workflow",
        "model",
        "Workflow…",
    ),
    (
        "registry.set_alias",
        "Set &Alias…",
        "Ctrl+Alt+A",
        "Point an alias at this version",
        "model-version",
        "Set Alias…",
    ),
    (
        "registry.remove_aliases",
        "Remove A&liases…",
        "",
        "Delete the aliases this version holds",
        "model-version",
        "Remove Aliases…",
    ),
    (
        "registry.stage",
        "Transition &Stage…",
        "",
        "Move this version to another stage",
        "model-version",
        "Stage…",
    ),
    (
        "registry.version_description",
        "Version D&escription…",
        "",
        "Edit this version's description",
        "model-version",
        "Description…",
    ),
    (
        "registry.version_tags",
        "Version Ta&gs…",
        "",
        "Edit this version's tags",
        "model-version",
        "Tags…",
    ),
    (
        "registry.delete_version",
        "Delete &Version…",
        "",
        "Delete this model version",
        "model-version",
        "Delete…",
    ),
)
WORKFLOW_COMMANDS = (
    (
        "registry.evaluate",
        "E&valuate Version",
        "Evaluate this version against the workflow",
        "evaluate",
    ),
    (
        "registry.approve",
        "Appro&ve Version",
        "Approve this version (with the note typed)",
        "approve",
    ),
    (
        "registry.deploy",
        "&Deploy Version…",
        "Move the workflow's alias or stage to this version",
        "deploy",
    ),
)


def _page(window: MainWindow) -> Any:
    return window.host.current_page()


def _pressable(button: Any, missing: str) -> tuple[Any, str | None]:
    if button is None:
        return None, missing
    if not button.isEnabled():
        return button, button.toolTip() or "Not possible right now."
    return button, None


def edit_button(window: MainWindow, family: str, text: str) -> tuple[Any, str | None]:
    """The current page's edit-bar button ``text``, or why there is none to press."""
    page = _page(window)
    missing = MODEL_PAGE if family == "model" else VERSION_PAGE
    if page is None or page.family != family:
        return None, missing
    return _pressable(page.edit_bar.buttons.get(text), missing)


def promote_button(window: MainWindow) -> tuple[Any, str | None]:
    page = _page(window)
    if page is None or page.family != "model-version":
        return None, VERSION_PAGE
    return _pressable(page.promote, VERSION_PAGE)


def workflow_button(window: MainWindow, key: str) -> tuple[Any, str | None]:
    page = _page(window)
    if page is None or page.family != "model-version":
        return None, VERSION_PAGE
    return _pressable(page.workflow.buttons.get(key), VERSION_PAGE)


def serve_button(window: MainWindow) -> tuple[Any, str | None]:
    """Serve Locally… of a version's or a logged model's page."""
    page = _page(window)
    missing = "Open a model version's or a logged model's page first."
    if page is None or page.family not in ("model-version", "logged-model"):
        return None, missing
    return _pressable(page.serve_button, missing)


def register_target(window: MainWindow) -> tuple[Any, str | None]:
    """The Register… button or action of the current page, or why there is none."""
    page = _page(window)
    if page is None:
        return None, REGISTER_PAGE
    if page.family in ("logged-model", "logged-models"):
        return _pressable(page.register_button, REGISTER_PAGE)
    if page.family == "run" and getattr(page, "artifacts", None) is not None:
        action = page.artifacts.artifact_actions.register
        return _pressable(action, REGISTER_PAGE)
    return None, REGISTER_PAGE


def _press(find: Callable[[], tuple[Any, str | None]]) -> None:
    target, reason = find()
    if target is None or reason is not None:
        return
    if hasattr(target, "click"):
        target.click()
    else:
        target.trigger()


def _add(
    registry: CommandRegistry, command: Command, find: Callable[[], tuple[Any, str | None]]
) -> None:
    registry.add(command, lambda: _press(find), lambda: find()[1])


def add_registry_commands(registry: CommandRegistry, window: MainWindow) -> None:
    """Register the Registry menu's commands."""
    _add(
        registry,
        Command(
            "registry.register",
            "&Register Model…",
            "Registry",
            tip="Register the selected logged model or model folder as a version",
        ),
        lambda: register_target(window),
    )
    _add(
        registry,
        Command(
            "registry.promote",
            "&Promote Version…",
            "Registry",
            "Ctrl+Alt+P",
            tip="Move an alias or stage to this version, comparing it with the holder",
        ),
        lambda: promote_button(window),
    )
    _add(
        registry,
        Command(
            "registry.serve",
            "Ser&ve Locally…",
            "Registry",
            tip="Run MLflow's scoring server on this model, on this machine",
        ),
        lambda: serve_button(window),
    )
    for command_id, text, shortcut, tip, family, button in EDIT_BAR_COMMANDS:
        _add(
            registry,
            Command(command_id, text, "Registry", shortcut, tip=tip),
            lambda f=family, b=button: edit_button(window, f, b),
        )
    for command_id, text, tip, key in WORKFLOW_COMMANDS:
        _add(
            registry,
            Command(command_id, text, "Registry", tip=tip),
            lambda k=key: workflow_button(window, k),
        )
