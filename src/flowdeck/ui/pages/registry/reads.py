"""Worker reads of the registry pages (Qt-free): models with their versions, runs and history."""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from flowdeck.core.entities import ModelVersion, RegisteredModel, RunDetail
from flowdeck.core.errors import FlowdeckError, NotFound
from flowdeck.core.model_versions import DELETED_STAGE, model_id_from_source
from flowdeck.core.promotion_history import HistoryEntry, promotion_history
from flowdeck.core.task_state import TaskState
from flowdeck.core.text_format import first_line
from flowdeck.store.base import Store
from flowdeck.ui.pages.overview_reads import missing_as

PROMPT_TEXT_TAG = "mlflow.prompt.text"
PAGE_SIZE = 1000
KEY_METRICS = 3
RUN_ID_CHUNK = 100
STAGE_ORDER = ("Production", "Staging", "Archived", "None")
# Up to this many listed models, versions are read model by model, not all at once.
PER_MODEL_READS = 20

Fetch = Callable[[TaskState, str], Path]


def aliases_text(aliases: dict[str, int] | Sequence[str]) -> str:
    """``@a → v2, @b → v1`` for a model's aliases, ``@a, @b`` for a version's."""
    if isinstance(aliases, dict):
        return ", ".join(f"@{alias} → v{version}" for alias, version in sorted(aliases.items()))
    return ", ".join(f"@{alias}" for alias in sorted(aliases))


def tags_text(tags: dict[str, str]) -> str:
    """User tags as ``k=v; k2=v2`` (MLflow's own ``mlflow.*`` tags left out)."""
    shown = sorted((k, v) for k, v in tags.items() if not k.startswith("mlflow."))
    return "; ".join(f"{key}={value}" for key, value in shown)


def stages_text(versions: Sequence[ModelVersion]) -> str:
    """``Production 1 · Staging 2`` (versions in no stage are not counted)."""
    counts = Counter(v.current_stage for v in versions if v.current_stage not in ("None", ""))
    order = {stage: index for index, stage in enumerate(STAGE_ORDER)}
    ranked = sorted(counts, key=lambda stage: (order.get(stage, len(order)), stage))
    return " · ".join(f"{stage} {counts[stage]}" for stage in ranked)


def live(versions: Sequence[ModelVersion]) -> list[ModelVersion]:
    """Versions that are not soft-deleted, newest first."""
    kept = [v for v in versions if v.current_stage != DELETED_STAGE]
    return sorted(kept, key=lambda v: v.version, reverse=True)


def _versions(store: Store, name: str) -> list[ModelVersion]:
    with missing_as(f"There is no registered model named '{name}' in {store.display_name}."):
        return live(store.model_versions(name))


# --- models -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSummary:
    """One row of the models page (or of its prompts list)."""

    name: str
    latest: int | None
    aliases: str
    stages: str
    tags: str
    last_updated: int | None
    description: str
    is_prompt: bool
    template: str = ""


@dataclass(frozen=True)
class ModelsView:
    models: tuple[ModelSummary, ...]
    prompts: tuple[ModelSummary, ...]


def summarize(model: RegisteredModel, versions: Sequence[ModelVersion]) -> ModelSummary:
    newest = versions[0] if versions else None
    return ModelSummary(
        name=model.name,
        latest=newest.version if newest else None,
        aliases=aliases_text(model.aliases),
        stages=stages_text(versions),
        tags=tags_text(model.tags),
        last_updated=model.last_updated_time,
        description=first_line(model.description or ""),
        is_prompt=model.is_prompt,
        template=newest.tags.get(PROMPT_TEXT_TAG, "") if newest else "",
    )


def read_models(state: TaskState, store: Store, filter_string: str) -> ModelsView:
    """Every page of the registry matching the filter, each model with its live versions."""
    models: list[RegisteredModel] = []
    token: str | None = None
    while True:
        state.check()
        page = store.registered_models(filter_string, token, PAGE_SIZE)
        models.extend(page.items)
        token = page.next_token
        if not token or not page.items:
            break
    if len(models) > PER_MODEL_READS:
        every = store.all_model_versions(state=state)  # a few bulk queries or requests
        rows = [summarize(model, live(every.get(model.name, []))) for model in models]
    else:
        rows = []
        for index, model in enumerate(models):
            state.check()
            state.progress(index, len(models), "Reading versions")
            try:
                versions = live(store.model_versions(model.name))
            except NotFound:  # deleted since the listing
                versions = []
            rows.append(summarize(model, versions))
    return ModelsView(
        models=tuple(row for row in rows if not row.is_prompt),
        prompts=tuple(row for row in rows if row.is_prompt),
    )


# --- one model ------------------------------------------------------------------------------------


def _name_filter(name: str) -> str:
    if "'" not in name:
        return f"name = '{name}'"
    if '"' not in name:
        return f'name = "{name}"'
    return ""


def registered_model(store: Store, name: str) -> RegisteredModel | None:
    """The model's own record (None when it cannot be read by an exact-name filter)."""
    try:
        page = store.registered_models(_name_filter(name))
    except FlowdeckError:
        return None
    return next((model for model in page.items if model.name == name), None)


@dataclass(frozen=True)
class ModelDetail:
    name: str
    model: RegisteredModel | None
    versions: tuple[ModelVersion, ...]  # live ones, newest first
    metric_keys: tuple[str, ...]  # up to KEY_METRICS keys that every source run has
    metrics: dict[str, dict[str, float]]  # run id → key → latest value
    run_names: dict[str, str]
    history: tuple[HistoryEntry, ...]


def latest_metrics(
    state: TaskState, store: Store, run_ids: Sequence[str]
) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """Latest metric values and names of the runs, with one ``store.runs`` call per 100 ids."""
    wanted = list(dict.fromkeys(run_ids))
    names: dict[str, str] = {}
    if not wanted:
        return {}, names
    frame = store.experiments(view="all")
    experiment_ids = [str(value) for value in frame["experiment_id"]]
    found: dict[str, dict[str, float]] = {}
    for start in range(0, len(wanted), RUN_ID_CHUNK):
        state.check()
        chunk = wanted[start : start + RUN_ID_CHUNK]
        listed = ", ".join(f"'{run_id}'" for run_id in chunk)
        runs = store.runs(
            experiment_ids, f"attributes.run_id IN ({listed})", view="all", state=state
        )
        metric_columns = [c for c in runs.columns if str(c).startswith("metrics.")]
        for _index, row in runs.iterrows():
            values = {}
            for column in metric_columns:
                value = row[column]
                if value is not None and not (isinstance(value, float) and math.isnan(value)):
                    values[str(column)[len("metrics.") :]] = float(value)
            found[str(row["run_id"])] = values
            name = row.get("tags.mlflow.runName")
            if isinstance(name, str) and name:
                names[str(row["run_id"])] = name
    return found, names


def common_keys(metrics: dict[str, dict[str, float]], run_ids: Sequence[str]) -> tuple[str, ...]:
    """Up to ``KEY_METRICS`` metric keys present on every source run, by name."""
    sets = [set(metrics.get(run_id, {})) for run_id in dict.fromkeys(run_ids)]
    if not sets:
        return ()
    return tuple(sorted(set.intersection(*sets))[:KEY_METRICS])


def read_model(state: TaskState, store: Store, name: str) -> ModelDetail:
    versions = _versions(store, name)
    state.check()
    model = registered_model(store, name)
    run_ids = [v.run_id for v in versions if v.run_id]
    try:
        metrics, names = latest_metrics(state, store, run_ids)
    except NotFound:
        metrics, names = {}, {}
    return ModelDetail(
        name=name,
        model=model,
        versions=tuple(versions),
        metric_keys=common_keys(metrics, run_ids),
        metrics=metrics,
        run_names=names,
        history=tuple(promotion_history(versions)),
    )


# --- one version -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelFiles:
    """Where the version's MLmodel can be read: a fetch and the MLmodel's path for it."""

    fetch: Fetch | None
    path: str = ""
    where: str = ""  # plain words on where the files live when they cannot be read


@dataclass(frozen=True)
class VersionDetail:
    version: ModelVersion
    model: RegisteredModel | None
    run: RunDetail | None
    logged_model_id: str | None
    history: tuple[HistoryEntry, ...]
    files: ModelFiles = field(default_factory=lambda: ModelFiles(None))


def local_folder(location: str | None) -> Path | None:
    """A local folder for a plain path or ``file:`` URI, else None."""
    if not location:
        return None
    parsed = urlparse(location)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        return Path(location)
    return None


def model_files(store: Store, version: ModelVersion) -> ModelFiles:
    """How to reach the version's MLmodel: through its run's artifacts, or a local folder."""
    source = version.source or ""
    if source.startswith("runs:/"):
        run_id, _, path = source[len("runs:/") :].partition("/")
        path = path.strip("/")

        def fetch_run(state: TaskState, artifact: str) -> Path:
            return store.fetch_artifact(run_id, artifact, state=state)

        return ModelFiles(fetch_run, f"{path}/MLmodel" if path else "MLmodel")
    for location in (source, version.storage_location):
        folder = local_folder(location)
        if folder is not None and (folder / "MLmodel").is_file():

            def fetch_local(_state: TaskState, artifact: str, root: Path = folder) -> Path:
                return root / artifact

            return ModelFiles(fetch_local, "MLmodel")
    where = version.storage_location or source or "an unknown place"
    return ModelFiles(None, where=f"This version's files live elsewhere ({where}).")


def read_version(state: TaskState, store: Store, name: str, version: str) -> VersionDetail:
    versions = _versions(store, name)
    found = next((v for v in versions if str(v.version) == version.strip()), None)
    if found is None:
        raise NotFound(
            f"Registered model '{name}' has no version {version} in {store.display_name}."
        )
    state.check()
    run = None
    if found.run_id:
        try:
            run = store.run(found.run_id)
        except FlowdeckError:
            run = None
    history = [entry for entry in promotion_history(versions) if entry.version == found.version]
    return VersionDetail(
        version=found,
        model=registered_model(store, name),
        run=run,
        logged_model_id=found.model_id or model_id_from_source(found.source),
        history=tuple(history),
        files=model_files(store, found),
    )
