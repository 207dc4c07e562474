"""Promotion records kept as model-version tags, and a version's history read back from them.

Every promotion sets one tag on the promoted version: the key is ``flowdeck.promotion.<ms>``
(the UTC epoch milliseconds of the promotion) and the value is compact JSON, for example
``{"alias":"champion","previous":[1],"user":"ana","note":"better recall"}`` or
``{"stage":"Production","archive":true,"previous":[1,3],"user":"ana","note":"…"}``.
``previous`` lists the versions that held the target before. Notes are shortened so that a
value stays under ``MAX_VALUE_CHARS``, well below every MLflow backend's tag value limit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flowdeck.core.entities import ModelVersion
from flowdeck.core.promotion import PromotionTarget, live_versions
from flowdeck.core.text_format import format_time

PREFIX = "flowdeck.promotion."
MAX_VALUE_CHARS = 5000


def record_key(when_ms: int) -> str:
    return f"{PREFIX}{int(when_ms)}"


def promotion_tags(
    user: str | None,
    when_ms: int,
    target: PromotionTarget,
    previous_holder: int | Sequence[int] | None,
    note: str,
) -> dict[str, str]:
    """The tag recording one promotion, to set on the promoted version."""
    if isinstance(previous_holder, int):
        previous = [previous_holder]
    else:
        previous = sorted(int(version) for version in previous_holder or ())
    record: dict[str, object] = (
        {"alias": target.alias}
        if target.alias is not None
        else {"stage": target.stage, "archive": target.archive_existing}
    )
    record.update(previous=previous, user=user or "", note=note)
    for field in ("note", "user"):
        while len(_compact(record)) > MAX_VALUE_CHARS and len(str(record[field])) > 1:
            excess = len(_compact(record)) - MAX_VALUE_CHARS
            record[field] = str(record[field])[: -(excess + 1)] + "…"
    return {record_key(when_ms): _compact(record)}


def _compact(record: Mapping[str, object]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class HistoryEntry:
    """One promotion of ``version``; ``inferred`` entries were guessed from MLflow's fields."""

    time_ms: int | None
    version: int
    target: PromotionTarget
    text: str
    inferred: bool = False
    user: str | None = None
    note: str | None = None
    previous: tuple[int, ...] = ()


def read_records(version: ModelVersion) -> list[HistoryEntry]:
    """The promotion records on one version; tags that do not parse are skipped."""
    entries = []
    for key, value in version.tags.items():
        if not key.startswith(PREFIX):
            continue
        entry = _parse_record(version.version, key[len(PREFIX) :], value)
        if entry is not None:
            entries.append(entry)
    return entries


def _parse_record(version: int, stamp: str, value: str) -> HistoryEntry | None:
    try:
        when = int(stamp)
        record = json.loads(value)
        if not isinstance(record, dict):
            return None
        if "alias" in record:
            target = PromotionTarget.to_alias(str(record["alias"]))
        else:
            target = PromotionTarget.to_stage(str(record["stage"]), bool(record.get("archive")))
        previous = tuple(int(item) for item in record.get("previous") or ())
    except (ValueError, TypeError, KeyError):
        return None
    user = str(record.get("user") or "") or None
    note = str(record.get("note") or "") or None
    return HistoryEntry(
        when, version, target, _record_text(version, target, previous), False, user, note, previous
    )


def _record_text(version: int, target: PromotionTarget, previous: tuple[int, ...]) -> str:
    others = [item for item in previous if item != version]
    listed = ", ".join(f"v{item}" for item in others)
    if target.alias is not None:
        text = f"@{target.alias} set on v{version}"
        return f"{text} (moved from {listed})" if others else text
    text = f"v{version} moved to {target.stage}"
    if not others:
        return text
    if target.archive_existing:
        return f"{text}; {listed} archived"
    return f"{text}; {listed} stayed in {target.stage}"


def promotion_history(versions: Sequence[ModelVersion]) -> list[HistoryEntry]:
    """Recorded promotions and, where no record explains an alias or stage, inferred ones.

    MLflow does not date alias changes, so an inferred alias is placed at the version's
    registration ("set at or after"); an inferred stage at the version's last update
    ("at or before"). Entries are ordered by time, undated ones last.
    """
    live = live_versions(versions)
    entries = [entry for version in live for entry in read_records(version)]
    explained: set[tuple[int, str]] = set()
    for entry in entries:
        explained.add((entry.version, entry.target.label))
        if entry.target.archive_existing:
            explained.update((item, "stage Archived") for item in entry.previous)
    for version in live:
        for alias in version.aliases:
            target = PromotionTarget.to_alias(alias)
            if (version.version, target.label) not in explained:
                entries.append(_inferred_alias(version, target))
        stage_target = PromotionTarget.to_stage(version.current_stage)
        if version.current_stage != "None" and (version.version, stage_target.label) not in (
            explained
        ):
            entries.append(_inferred_stage(version, stage_target))
    return sorted(entries, key=_order)


def _inferred_alias(version: ModelVersion, target: PromotionTarget) -> HistoryEntry:
    when = format_time(version.creation_time) or "an unknown time"
    text = f"inferred: {target.label} set on v{version.version}, at or after {when}"
    return HistoryEntry(version.creation_time, version.version, target, text, inferred=True)


def _inferred_stage(version: ModelVersion, target: PromotionTarget) -> HistoryEntry:
    when = format_time(version.last_updated_time) or "an unknown time"
    text = f"inferred: v{version.version} moved to {target.stage}, at or before {when}"
    return HistoryEntry(version.last_updated_time, version.version, target, text, inferred=True)


def _order(entry: HistoryEntry) -> tuple[bool, int, int]:
    return (entry.time_ms is None, entry.time_ms or 0, entry.version)
