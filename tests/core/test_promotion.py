"""Promotion plans, holder/candidate comparisons and promotion history, without a store."""

from __future__ import annotations

import json
import math
import re

import pandas as pd
import pytest
import yaml
from mlflow.models import infer_signature

from flowdeck.core.artifacts.mlmodel import ModelInfo, parse_mlmodel
from flowdeck.core.entities import Metric, ModelVersion, RunDetail, RunInfo
from flowdeck.core.errors import NotFound
from flowdeck.core.promotion import (
    CANDIDATE,
    EQUAL,
    HOLDER,
    PromotionTarget,
    compare_versions,
    plan_promotion,
)
from flowdeck.core.promotion_history import (
    MAX_VALUE_CHARS,
    PREFIX,
    promotion_history,
    promotion_tags,
)

CHAMPION = PromotionTarget.to_alias("champion")


def version(
    number: int,
    stage: str = "None",
    aliases: tuple[str, ...] = (),
    tags: dict[str, str] | None = None,
    created: int = 0,
    updated: int = 0,
) -> ModelVersion:
    return ModelVersion(
        name="clf",
        version=number,
        creation_time=created or number * 1000,
        last_updated_time=updated or number * 1000,
        current_stage=stage,
        description=None,
        user_id=None,
        source=f"runs:/r{number}/model",
        run_id=f"r{number}",
        status="READY",
        tags=tags or {},
        aliases=aliases,
    )


def run(run_id: str, metrics: dict[str, float], params: dict[str, str], stage: str = "active"):
    info = RunInfo(run_id, "1", run_id, "FINISHED", 0, 1, stage, None)
    return RunDetail(
        info,
        params,
        {key: Metric(key, value, 0, 0) for key, value in metrics.items()},
        {},
    )


def signature_info(inputs: pd.DataFrame, params: dict | None = None) -> ModelInfo:
    signature = infer_signature(inputs, pd.Series([0.5] * len(inputs)), params=params)
    text = yaml.safe_dump({"flavors": {"sklearn": {}}, "signature": signature.to_dict()})
    return parse_mlmodel(text)


# --- plans ----------------------------------------------------------------------------------------


def test_alias_plan_moves_the_alias_away_from_its_holder() -> None:
    versions = [version(1, aliases=("champion",)), version(2), version(3)]
    plan = plan_promotion(versions, 2, CHAMPION)
    assert plan.holders == (1,) and not plan.no_op and plan.problem is None
    assert plan.effects == ("@champion moves from v1 to v2.",)


def test_alias_plan_without_holder_and_already_held() -> None:
    plan = plan_promotion([version(1), version(2)], 2, CHAMPION)
    assert plan.holders == () and plan.effects == (
        "@champion is set on v2; no version holds it now.",
    )
    held = plan_promotion([version(1), version(2, aliases=("champion",))], 2, CHAMPION)
    assert held.no_op and "already holds @champion" in held.effects[0]


def test_stage_plan_lists_every_version_archiving_touches() -> None:
    versions = [version(1, "Production"), version(2, "Staging"), version(3, "Production")]
    plan = plan_promotion(versions, 2, PromotionTarget.to_stage("production", True))
    assert plan.target.stage == "Production" and plan.holders == (1, 3)
    assert plan.effects == (
        "v2 moves from Staging to Production.",
        "v1 moves from Production to Archived.",
        "v3 moves from Production to Archived.",
    )
    keep = plan_promotion(versions, 2, PromotionTarget.to_stage("Production"))
    assert "v1 stays in Production too (archiving is off)." in keep.effects


def test_stage_plan_no_op_and_refused_archiving() -> None:
    versions = [version(1, "Production"), version(2)]
    assert plan_promotion(versions, 1, PromotionTarget.to_stage("Production")).no_op
    # Archiving others still changes something even when the candidate is already there.
    both = [version(1, "Production"), version(2, "Production")]
    assert not plan_promotion(both, 1, PromotionTarget.to_stage("Production", True)).no_op
    refused = plan_promotion(versions, 2, PromotionTarget.to_stage("Archived", True))
    assert refused.problem and "Staging or Production" in refused.problem


def test_soft_deleted_versions_are_ignored() -> None:
    versions = [version(1, "Deleted_Internal", aliases=("champion",)), version(2)]
    assert plan_promotion(versions, 2, CHAMPION).holders == ()
    with pytest.raises(NotFound, match="Version 1"):
        plan_promotion(versions, 1, CHAMPION)


# --- comparisons ----------------------------------------------------------------------------------


def test_metrics_side_by_side_with_the_better_side() -> None:
    holder = run("a", {"val_loss": 0.5, "accuracy": 0.8, "f1": 0.7, "only_old": 1}, {"lr": "0.1"})
    candidate = run("b", {"val_loss": 0.4, "accuracy": 0.7, "f1": 0.7}, {"lr": "0.01"})
    result = compare_versions(holder, candidate, None, None)
    rows = {row.key: row for row in result.metrics}
    assert rows["val_loss"].better == CANDIDATE and rows["val_loss"].lower_is_better
    assert rows["val_loss"].difference == pytest.approx(-0.1)
    assert rows["accuracy"].better == HOLDER and rows["f1"].better == EQUAL
    assert rows["only_old"].candidate is None and rows["only_old"].better is None
    assert [(p.key, p.holder, p.candidate) for p in result.params] == [("lr", "0.1", "0.01")]
    overridden = compare_versions(holder, candidate, None, None, {"accuracy": True})
    assert {row.key: row for row in overridden.metrics}["accuracy"].better == CANDIDATE


def test_nan_is_never_better_and_inf_compares() -> None:
    holder = run("a", {"auc": math.nan, "loss": math.inf}, {})
    candidate = run("b", {"auc": 0.9, "loss": 2.0}, {})
    rows = {row.key: row for row in compare_versions(holder, candidate, None, None).metrics}
    assert rows["auc"].better is None and rows["auc"].difference is None
    assert rows["loss"].better == CANDIDATE and rows["loss"].difference == -math.inf


def test_missing_or_deleted_source_run_is_stated() -> None:
    candidate = run("b", {"auc": 0.9}, {"depth": "3"})
    result = compare_versions(None, candidate, None, None)
    assert any("current holder's source run is missing" in note for note in result.notes)
    assert result.metrics[0].holder is None and result.metrics[0].better is None
    deleted = compare_versions(run("a", {}, {}, stage="deleted"), candidate, None, None)
    assert any("was deleted" in note for note in deleted.notes)
    nobody = compare_versions(None, candidate, None, None, has_holder=False)
    assert nobody.notes[0].startswith("No version holds the target")


def test_signature_compatibility_lists_what_changed() -> None:
    old = signature_info(pd.DataFrame({"age": [1.5], "city": ["x"], "zip": ["1"]}), {"k": 1})
    same = signature_info(pd.DataFrame({"age": [2.5], "city": ["y"], "zip": ["2"]}), {"k": 1})
    new = signature_info(pd.DataFrame({"age": [1], "city": ["x"], "income": [3.0]}), {"k": 1})
    check = compare_versions(None, None, old, same).signature
    assert check.compatible is True and check.summary == "The signatures match."
    changed = compare_versions(None, None, old, new).signature
    assert changed.compatible is False
    assert set(changed.changes) == {
        "input 'zip' removed",
        "input 'income' added",
        "input 'age' changes type: double → long",
    }
    unsigned = parse_mlmodel(yaml.safe_dump({"flavors": {"sklearn": {}}}))
    assert compare_versions(None, None, old, unsigned).signature.summary == (
        "The candidate has no signature."
    )
    assert compare_versions(None, None, None, new).signature.compatible is None


# --- records and history ---------------------------------------------------------------------------


def test_promotion_tag_is_a_valid_compact_record() -> None:
    tags = promotion_tags("ana", 1_700_000_000_123, CHAMPION, 1, "better recall")
    [(key, value)] = tags.items()
    assert key == f"{PREFIX}1700000000123"
    assert re.fullmatch(r"[\w./\- ]+", key) and len(key) <= 250  # MLflow's tag key rules
    assert json.loads(value) == {
        "alias": "champion",
        "previous": [1],
        "user": "ana",
        "note": "better recall",
    }
    long_note = promotion_tags("ana", 1, CHAMPION, None, "é" * 20_000)
    [value] = long_note.values()
    assert len(value) <= MAX_VALUE_CHARS and json.loads(value)["note"].endswith("…")


def test_history_orders_records_and_infers_the_rest() -> None:
    stage = PromotionTarget.to_stage("Production", archive_existing=True)
    record_v2 = promotion_tags("ana", 5000, CHAMPION, 1, "beats v1")
    record_v3 = promotion_tags("bo", 9000, stage, [1], "ship it")
    versions = [
        version(1, "Archived", updated=9000),
        version(2, aliases=("champion",), tags=record_v2),
        version(3, "Production", aliases=("shadow",), tags=record_v3, created=3000),
        version(4, "Staging", created=4000, updated=7000),
    ]
    history = promotion_history(versions)
    assert [(entry.time_ms, entry.inferred) for entry in history] == [
        (3000, True),
        (5000, False),
        (7000, True),
        (9000, False),
    ]
    assert history[0].text.startswith("inferred: @shadow set on v3, at or after ")
    assert history[1].text == "@champion set on v2 (moved from v1)"
    assert history[1].user == "ana" and history[1].note == "beats v1"
    assert history[2].text.startswith("inferred: v4 moved to Staging, at or before ")
    assert history[3].text == "v3 moved to Production; v1 archived"
    # v1's Archived stage is explained by v3's record, so it is not inferred again.
    assert all(entry.version != 1 for entry in history)
