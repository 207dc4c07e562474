"""The mirror tests' shared fixture: each kind of source mirrored once per test session."""

from __future__ import annotations

import pytest

from flowdeck.store import open_store
from flowdeck.store.mirror import MirrorOptions, sync_mirror

SOURCES = [
    "file_store_scenario",
    "sqlite_scenario",
    pytest.param("postgres_scenario", marks=[pytest.mark.slow, pytest.mark.postgres]),
    pytest.param("server_scenario", marks=[pytest.mark.slow, pytest.mark.server]),
]


@pytest.fixture(scope="session", params=SOURCES)
def mirrored(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """(source scenario, mirror path, first sync's report) for each kind of source."""
    scenario = request.getfixturevalue(request.param)
    destination = tmp_path_factory.mktemp("mirror") / "mirror.db"
    store = open_store(scenario.location)
    try:
        report = sync_mirror(store, destination, MirrorOptions())
    finally:
        store.close()
    return scenario, destination, report
