"""What to serve: model URIs resolved through a store, their files fetched, and code warnings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from flowdeck.core.errors import FlowdeckError, NotFound
from flowdeck.core.model_versions import model_id_from_source
from flowdeck.serving.errors import ModelNotServable

if TYPE_CHECKING:
    from flowdeck.core.entities import ModelVersion
    from flowdeck.core.task_state import TaskState
    from flowdeck.store.base import Store

STAGES = ("production", "staging", "archived", "none")
#: Flavors whose saved model is a pickle (or cloudpickle) that runs code when loaded.
PICKLE_FLAVORS = frozenset(
    {
        "sklearn",
        "pytorch",
        "statsmodels",
        "fastai",
        "pmdarima",
        "diviner",
        "h2o",
        "langchain",
        "llama_index",
        "dspy",
        "sentence_transformers",
        "paddle",
    }
)
#: Serialization formats of the sklearn-style flavors that do not unpickle.
SAFE_FORMATS = frozenset({"skops"})


@dataclass(frozen=True)
class ModelRef:
    """A model to serve: the URI the user gave, a label, and what it resolved to."""

    uri: str
    label: str
    resolved_version: str | None = None
    kind: str = "path"  # "version" | "run" | "logged_model" | "path"
    name: str | None = None  # registered model name (kind "version")
    alias: str | None = None  # the alias or stage the URI named, if any
    run_id: str | None = None
    artifact_path: str = ""  # path in the run's artifacts (kind "run")
    model_id: str | None = None  # logged model id (kind "logged_model", or a version's)
    source: str | None = None  # the registry version's source


def resolve(store: Store, uri: str) -> ModelRef:
    """Resolve ``models:/name/3``, ``models:/name@alias``, ``models:/name/Stage``,
    ``models:/name/latest``, ``models:/m-<id>``, ``runs:/<run>/<path>`` or a local model folder.

    Raises ``ModelNotServable`` (or the store's ``NotFound``) with a plain message.
    """
    uri = uri.strip()
    if uri.startswith("models:/"):
        rest = uri[len("models:/") :].strip("/")
        model_id = model_id_from_source(uri)
        if model_id is not None:
            model = store.logged_model(model_id)
            return ModelRef(
                uri,
                f"{model.name} ({model_id})",
                None,
                "logged_model",
                run_id=model.source_run_id,
                model_id=model_id,
            )
        return _resolve_version(store, uri, rest)
    if uri.startswith("runs:/"):
        run_id, _, path = uri[len("runs:/") :].partition("/")
        path = path.strip("/")
        if not run_id or not path:
            raise ModelNotServable(
                f"'{uri}' needs a run id and a model path: runs:/<run_id>/<path>."
            )
        run = store.run(run_id)
        name = run.info.run_name or run_id[:8]
        return ModelRef(uri, f"{name} / {path}", None, "run", run_id=run_id, artifact_path=path)
    folder = _local_folder(uri)
    if folder is not None and (folder / "MLmodel").is_file():
        return ModelRef(uri, folder.name, None, "path")
    raise ModelNotServable(
        f"'{uri}' is not a model URI Flowdeck can serve: use models:/<name>/<version>, "
        "models:/<name>@<alias>, models:/m-<id>, runs:/<run_id>/<path> or a model folder."
    )


def _resolve_version(store: Store, uri: str, rest: str) -> ModelRef:
    """A registered model version named by number, alias, stage or ``latest``."""
    alias = None
    if "@" in rest:
        name, _, alias = rest.rpartition("@")
        selector = None
    else:
        name, _, selector = rest.rpartition("/")
    if not name or not (alias or selector):
        raise ModelNotServable(
            f"'{uri}' needs a version, an alias or a stage: models:/<name>/<version> "
            "or models:/<name>@<alias>."
        )
    versions = store.model_versions(name)
    found = _pick_version(versions, alias, selector)
    if found is None:
        what = f"alias @{alias}" if alias else f"version {selector}"
        raise ModelNotServable(f"Registered model '{name}' has no {what} in {store.display_name}.")
    named = alias or (selector if selector and not selector.isdigit() else None)
    label = f"{name} v{found.version}" + (f" (@{alias})" if alias else "")
    if named and not alias:
        label = f"{name} v{found.version} ({selector})"
    return ModelRef(
        uri,
        label,
        str(found.version),
        "version",
        name=name,
        alias=named,
        run_id=found.run_id,
        model_id=found.model_id or model_id_from_source(found.source),
        source=found.source,
    )


def _pick_version(
    versions: list[ModelVersion], alias: str | None, selector: str | None
) -> ModelVersion | None:
    """The version an alias, a number, a stage or ``latest`` points at (None if none)."""
    if alias:
        return next((v for v in versions if alias in v.aliases), None)
    assert selector is not None
    if selector.isdigit():
        return next((v for v in versions if v.version == int(selector)), None)
    if selector.lower() == "latest":
        return max(versions, key=lambda v: v.version, default=None)
    if selector.lower() in STAGES:
        staged = [v for v in versions if (v.current_stage or "None").lower() == selector.lower()]
        return max(staged, key=lambda v: v.version, default=None)
    return None


def fetch_model(store: Store, ref: ModelRef, *, state: TaskState | None = None) -> Path:
    """A local folder holding the model's MLmodel: local artifacts in place, remote ones
    downloaded into Flowdeck's artifact cache through the store (credentials included)."""
    if ref.kind == "path":
        folder = _local_folder(ref.uri)
    elif ref.kind == "logged_model":
        assert ref.model_id is not None
        folder = store.fetch_logged_model_artifact(ref.model_id, "", state=state)
    elif ref.kind == "run":
        assert ref.run_id is not None
        folder = _fetch_run_model(store, ref.run_id, ref.artifact_path, state)
    else:
        folder = _fetch_version(store, ref, state)
    if folder is None or not (Path(folder) / "MLmodel").is_file():
        raise ModelNotServable(f"The files of {ref.label} hold no MLmodel file ({folder}).")
    return Path(folder)


def _fetch_version(store: Store, ref: ModelRef, state: TaskState | None) -> Path:
    """A registry version's files, found from its source like MLflow does."""
    assert ref.name is not None and ref.resolved_version is not None
    version = next(
        (v for v in store.model_versions(ref.name) if str(v.version) == ref.resolved_version),
        None,
    )
    if version is None:
        raise NotFound(f"Registered model '{ref.name}' has no version {ref.resolved_version}.")
    source = version.source or ""
    if source.startswith("runs:/"):
        run_id, _, path = source[len("runs:/") :].partition("/")
        return _fetch_run_model(store, run_id, path.strip("/"), state)
    model_id = model_id_from_source(source) or version.model_id
    for location in (source, version.storage_location):
        folder = _local_folder(location)
        if folder is not None and (folder / "MLmodel").is_file():
            return folder
    if model_id:
        return store.fetch_logged_model_artifact(model_id, "", state=state)
    where = version.storage_location or source or "an unknown place"
    raise ModelNotServable(f"The files of {ref.label} live where Flowdeck cannot read ({where}).")


def _fetch_run_model(store: Store, run_id: str, path: str, state: TaskState | None) -> Path:
    """A run's model folder: in its artifacts (MLflow 2), else its logged model (MLflow 3)."""
    try:
        folder = store.fetch_artifact(run_id, path, state=state)
        if (folder / "MLmodel").is_file():
            return folder
    except NotFound:
        pass
    run = store.run(run_id)
    try:
        models = store.logged_models([run.info.experiment_id], state=state)
    except FlowdeckError:
        models = []
    for model in models:
        if model.source_run_id == run_id and model.name == path:
            return store.fetch_logged_model_artifact(model.model_id, "", state=state)
    raise ModelNotServable(f"Run {run_id} has no model at '{path}'.")


def _local_folder(location: str | None) -> Path | None:
    """A local folder for a plain path or ``file:`` URI, else None."""
    if not location:
        return None
    from urllib.parse import unquote, urlparse

    parsed = urlparse(location)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" or len(parsed.scheme) == 1:
        return Path(location).expanduser()
    return None


def flavor_runs_code(mlmodel_path: str | Path) -> str | None:
    """A warning when loading the model runs code stored with it (pickles, Python models,
    custom loaders, code paths), else None. Takes the MLmodel file or its folder."""
    path = Path(mlmodel_path)
    if path.is_dir():
        path = path / "MLmodel"
    try:
        meta = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return "Flowdeck could not read this model's MLmodel; loading it may run its code."
    flavors = meta.get("flavors") or {}
    reasons: list[str] = []
    pyfunc = flavors.get("python_function") or {}
    if "python_model" in pyfunc or "cloudpickle_version" in pyfunc:
        reasons.append("a pickled Python model (cloudpickle)")
    loader = str(pyfunc.get("loader_module") or "")
    if loader and not loader.startswith("mlflow."):
        reasons.append(f"a custom loader module ({loader})")
    if pyfunc.get("code") or meta.get("code_paths") or pyfunc.get("model_code_path"):
        reasons.append("Python code saved with the model")
    for flavor, config in flavors.items():
        config = config if isinstance(config, dict) else {}
        pickled = flavor in PICKLE_FLAVORS or "pickled_model" in config
        if pickled and config.get("serialization_format") not in SAFE_FORMATS:
            fmt = config.get("serialization_format") or "pickle"
            reasons.append(f"a {flavor} model saved with {fmt}")
    if not reasons:
        return None
    return (
        "Loading this model runs code stored in it ("
        + "; ".join(dict.fromkeys(reasons))
        + "). Serve only models from a source you trust."
    )
