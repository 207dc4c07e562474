"""``RestStore``: the Store contract over an MLflow tracking server's REST API."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Unpack
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from flowdeck.core.entities import (
    ArtifactEntry,
    LoggedModel,
    ModelVersion,
    Page,
    RegisteredModel,
    RunDetail,
    Trace,
    TraceInfo,
)
from flowdeck.core.redact import redact_location
from flowdeck.core.task_state import TaskState, check
from flowdeck.store.artifacts import clean_relative
from flowdeck.store.base import (
    CAP_ARTIFACTS,
    CAP_LOGGED_MODELS,
    CAP_REGISTRY,
    CAP_TRACES,
    CAP_WRITE,
    Store,
)
from flowdeck.store.rest import artifacts, history, logged_models, registry, runs, traces
from flowdeck.store.rest.client import ClientOptions, RestClient
from flowdeck.store.rest.fields import answer_of


class RestStore(Store):
    """A remote tracking server (``http(s)://host[:port][/prefix]``), read with ``requests``.

    Options are ``ClientOptions`` (credentials, timeout, TLS verification); unset ones come
    from MLflow's environment variables. Connecting is lazy: nothing is sent until the first
    call.
    """

    kind = "rest"

    def __init__(self, base_url: str, **options: Unpack[ClientOptions]) -> None:
        super().__init__(base_url.rstrip("/"))
        self.client = RestClient(self.location, **options)
        self._artifact_uris: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self._listing = registry.ListingMemo()

    # --- identity and capabilities -----------------------------------------------------------

    @property
    def display_name(self) -> str:
        parsed = urlparse(self.location)
        host = parsed.netloc.rsplit("@", 1)[-1]  # never the userinfo: it may hold a password
        return (host + parsed.path.rstrip("/")) or redact_location(self.location)

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset({CAP_REGISTRY, CAP_TRACES, CAP_LOGGED_MODELS, CAP_ARTIFACTS, CAP_WRITE})

    @property
    def read_only_reason(self) -> str | None:
        try:
            from flowdeck.store.schema_guard import rest_read_only_reason
        except ImportError:
            return None
        return rest_read_only_reason(self)

    @property
    def tracking_uri(self) -> str:
        return self.location

    def close(self) -> None:
        self.client.close()

    # --- experiments and runs ----------------------------------------------------------------

    def experiments(self, view: str = "active") -> pd.DataFrame:
        return runs.read_experiments(self.client, view)

    def runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        order_by: Sequence[str] = (),
        view: str = "active",
        max_results: int | None = None,
        *,
        state: TaskState | None = None,
    ) -> pd.DataFrame:
        if isinstance(experiment_ids, str):
            experiment_ids = [experiment_ids]
        return runs.search_runs(
            self.client, list(experiment_ids), filter_string, order_by, view, max_results, state
        )

    def run(self, run_id: str) -> RunDetail:
        data = self.client.get("runs/get", {"run_id": run_id})
        detail = runs.run_detail(data)
        with self._lock:
            self._artifact_uris[run_id] = detail.info.artifact_uri
        return detail

    def metric_history(
        self,
        run_ids: Iterable[str],
        keys: Iterable[str],
        *,
        state: TaskState | None = None,
    ) -> dict[tuple[str, str], np.ndarray]:
        key_list = list(dict.fromkeys(keys))
        pairs = [(run_id, key) for run_id in dict.fromkeys(run_ids) for key in key_list]
        return history.fetch_histories(self.client, pairs, state)

    def sampled_history(
        self,
        run_ids: Sequence[str],
        keys: Sequence[str],
        *,
        state: TaskState | None = None,
    ) -> dict[tuple[str, str], np.ndarray] | None:
        from flowdeck.store.rest.history import fetch_sampled

        return fetch_sampled(self.client, list(run_ids), list(keys), state=state)

    def metric_summaries(
        self,
        run_ids: Iterable[str],
        keys: Iterable[str] | None = None,
        *,
        state: TaskState | None = None,
    ) -> pd.DataFrame:
        run_list = list(dict.fromkeys(run_ids))
        check(state)
        if keys is None:
            pairs = []
            for run_id in run_list:
                check(state)
                pairs.extend((run_id, key) for key in sorted(self.run(run_id).metrics))
        else:
            key_list = list(dict.fromkeys(keys))
            pairs = [(run_id, key) for run_id in run_list for key in key_list]
        return history.summarise(history.fetch_histories(self.client, pairs, state), run_list)

    # --- artifacts -------------------------------------------------------------------------------

    def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactEntry]:
        return artifacts.list_artifacts(self.client, run_id, path)

    def fetch_artifact(self, run_id: str, path: str, *, state: TaskState | None = None) -> Path:
        from flowdeck.store import artifact_fetch
        from flowdeck.store.artifacts import cache_dir

        relative = clean_relative(path)  # refuse escaping paths before any request
        info = self.run(run_id).info
        folder = artifact_fetch.run_cache(
            cache_dir(f"{self.client.base_url}\0{run_id}"), artifact_fetch.run_stamp(info.end_time)
        )

        def open_stream(file_path: str):  # noqa: ANN202 - a streamed requests.Response
            url, params = artifacts.download_url(self.client, info.artifact_uri, run_id, file_path)
            return self.client.request("GET", url, params=params, stream=True)

        return artifact_fetch.fetch_remote(
            relative,
            folder,
            lambda directory: artifacts.list_artifacts(self.client, run_id, directory),
            artifact_fetch.http_download(open_stream),
            state,
        )

    def _artifact_uri(self, run_id: str) -> str | None:
        with self._lock:
            if run_id in self._artifact_uris:
                return self._artifact_uris[run_id]
        return self.run(run_id).info.artifact_uri

    # --- registry ----------------------------------------------------------------------------------

    def registered_models(
        self, filter_string: str = "", page_token: str | None = None, max_results: int = 1000
    ) -> Page[RegisteredModel]:
        with answer_of("registered-models/search"):
            page = registry.search_registered_models(
                self.client, filter_string, page_token, max_results
            )
        self._listing.record(filter_string, page_token, page)
        return page

    def model_versions(self, name: str) -> list[ModelVersion]:
        with answer_of("model-versions/search"):
            return registry.model_versions(self.client, name)

    def all_model_versions(
        self, *, state: TaskState | None = None
    ) -> dict[str, list[ModelVersion]]:
        with answer_of("model-versions/search"):
            return registry.all_model_versions(self.client, state, self._listing.take())

    # --- traces ----------------------------------------------------------------------------------------

    def search_traces(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        order_by: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
        *,
        state: TaskState | None = None,
    ) -> Page[TraceInfo]:
        return traces.search_traces(
            self.client,
            list(experiment_ids),
            filter_string,
            order_by,
            max_results,
            page_token,
            state,
        )

    def trace(self, trace_id: str) -> Trace:
        return traces.get_trace(self.client, trace_id)

    # --- logged models ---------------------------------------------------------------------------------

    def logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        order_by: Sequence[str] = (),
        *,
        state: TaskState | None = None,
    ) -> list[LoggedModel]:
        if isinstance(experiment_ids, str):
            experiment_ids = [experiment_ids]
        return logged_models.search_logged_models(
            self.client, list(experiment_ids), filter_string, order_by, state
        )

    def logged_model(self, model_id: str) -> LoggedModel:
        return logged_models.get_logged_model(self.client, model_id)

    def list_logged_model_artifacts(self, model_id: str, path: str = "") -> list[ArtifactEntry]:
        from flowdeck.store.logged_model_artifacts import clean_model_path

        relative = clean_model_path(model_id, path)  # refuse escaping paths before any request
        return logged_models.list_model_artifacts(self.client, model_id, relative)

    def fetch_logged_model_artifact(
        self, model_id: str, path: str, *, state: TaskState | None = None
    ) -> Path:
        from flowdeck.store import artifact_fetch, logged_model_artifacts

        relative = logged_model_artifacts.clean_model_path(model_id, path)
        model = self.logged_model(model_id)
        return logged_model_artifacts.fetch_remote_model(
            model,
            relative,
            store_key=self.client.base_url,
            lister=lambda folder: logged_models.list_model_artifacts(self.client, model_id, folder),
            download=artifact_fetch.http_download(
                lambda file: logged_models.open_model_file(self.client, model_id, file)
            ),
            state=state,
        )

    def __repr__(self) -> str:
        return f"RestStore({redact_location(self.location)!r})"
