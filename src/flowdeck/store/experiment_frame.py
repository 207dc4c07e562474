"""The experiments frame every backend returns: ``EXPERIMENT_COLUMNS``, ordered by experiment id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from flowdeck.store.base import EXPERIMENT_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

_INT_COLUMNS = ("creation_time", "last_update_time")
_OBJECT_COLUMNS = ("experiment_id", "name", "artifact_location", "lifecycle_stage", "tags")


def experiment_sort_key(experiment_id: str) -> tuple[int, int, str]:
    """Numeric ids in numeric order, then other ids by text."""
    return (0, int(experiment_id), "") if experiment_id.isdigit() else (1, 0, experiment_id)


def experiments_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row a record (keys ``EXPERIMENT_COLUMNS``), sorted by id, with the contract's dtypes."""
    import pandas as pd

    rows = sorted(records, key=lambda record: experiment_sort_key(str(record["experiment_id"])))
    frame = pd.DataFrame.from_records(rows, columns=EXPERIMENT_COLUMNS)
    for name in _INT_COLUMNS:
        frame[name] = frame[name].astype("Int64")
    for name in _OBJECT_COLUMNS:
        frame[name] = frame[name].astype(object)
    return frame
