"""Deployment workflows without a store: rules, the workflow tag, step gating, activity log."""

from __future__ import annotations

import json
import math

import pytest

from flowdeck.core.deploy_steps import (
    APPROVE,
    DEPLOY,
    EVALUATE,
    PREFIX,
    Step,
    activity_log,
    evaluation_step,
    next_step,
    read_steps,
    step_tags,
)
from flowdeck.core.deploy_workflow import (
    MAX_VALUE_CHARS,
    WORKFLOW_TAG,
    Rule,
    Workflow,
    current_holder,
    evaluate,
    parse_workflow,
    read_workflow,
    workflow_tag_value,
)
from flowdeck.core.entities import Metric, ModelVersion, RunDetail, RunInfo
from flowdeck.core.errors import InvalidWorkflow
from flowdeck.core.promotion import PromotionTarget
from flowdeck.core.promotion_history import promotion_tags

CHAMPION = Workflow("alias", "@champion", (Rule.threshold("val_loss", "<", 0.3),))


def version(
    number: int,
    aliases: tuple[str, ...] = (),
    tags: dict[str, str] | None = None,
    stage: str = "None",
    run_id: str | None = "",
) -> ModelVersion:
    return ModelVersion(
        name="clf",
        version=number,
        creation_time=number * 1000,
        last_updated_time=number * 1000,
        current_stage=stage,
        description=None,
        user_id=None,
        source=f"runs:/r{number}/model",
        run_id=f"r{number}" if run_id == "" else run_id,
        status="READY",
        tags=tags or {},
        aliases=aliases,
    )


def run(run_id: str, metrics: dict[str, float], stage: str = "active") -> RunDetail:
    info = RunInfo(run_id, "1", run_id, "FINISHED", 0, 1, stage, None)
    return RunDetail(info, {}, {k: Metric(k, v, 0, 0) for k, v in metrics.items()}, {})


def tags_of(*steps: Step) -> dict[str, str]:
    tags: dict[str, str] = {}
    for step in steps:
        tags.update(step_tags(step))
    return tags


def evaluated(passed: bool, when: int, holder: int | None = None) -> Step:
    detail = "passed: val_loss < 0.3 — ok" if passed else "failed: val_loss < 0.3 — val_loss is 0.4"
    return Step(EVALUATE, passed, when, "ana", "", (detail,), "@champion", holder)


def approved(when: int, passed: bool = True, note: str = "") -> Step:
    return Step(APPROVE, passed, when, "bo", note, (), "@champion")


# --- rules ----------------------------------------------------------------------------------------


def test_threshold_rules_compare_the_candidates_latest_value() -> None:
    workflow = Workflow(
        "alias",
        "champion",
        (
            Rule.threshold("val_loss", "<", 0.3),
            Rule.threshold("acc", ">=", 0.9),
            Rule.threshold("f1", ">", 0.5),
        ),
    )
    result = evaluate(
        workflow, version(2), run("r2", {"val_loss": 0.25, "acc": 0.9, "f1": 0.5}), None, None, None
    )
    assert not result.passed
    assert [(c.rule_text, c.passed) for c in result.checks] == [
        ("val_loss < 0.3", True),
        ("acc >= 0.9", True),
        ("f1 > 0.5", False),
    ]
    assert result.checks[2].detail == "f1 is 0.5"
    assert result.failures == (result.checks[2],)


def test_nan_missing_metric_and_missing_or_deleted_runs_fail_with_the_reason() -> None:
    rule = Workflow("alias", "champion", (Rule.threshold("val_loss", "<", 0.3),))
    nan = evaluate(rule, version(2), run("r2", {"val_loss": math.nan}), None, None, None)
    assert not nan.passed and nan.checks[0].detail == "val_loss of candidate v2 is NaN"
    absent = evaluate(rule, version(2), run("r2", {"acc": 1.0}), None, None, None)
    assert absent.checks[0].detail == "candidate v2 has no metric val_loss"
    missing = evaluate(rule, version(2), None, None, None, None)
    assert missing.checks[0].detail == "the source run r2 of candidate v2 is missing"
    no_run = evaluate(rule, version(2, run_id=None), None, None, None, None)
    assert no_run.checks[0].detail == "candidate v2 has no source run"
    deleted = evaluate(
        rule, version(2), run("r2", {"val_loss": 0.1}, stage="deleted"), None, None, None
    )
    assert not deleted.passed and "r2 of candidate v2 was deleted" in deleted.checks[0].detail


def test_beats_holder_guesses_the_direction_and_passes_without_holder() -> None:
    workflow = Workflow("alias", "champion", (Rule.beats("val_loss"), Rule.beats("accuracy")))
    holder = version(1, aliases=("champion",))
    result = evaluate(
        workflow,
        version(2),
        run("r2", {"val_loss": 0.2, "accuracy": 0.8}),
        holder,
        run("r1", {"val_loss": 0.3, "accuracy": 0.9}),
        None,
    )
    assert [c.passed for c in result.checks] == [True, False]
    assert result.checks[0].rule_text == (
        "beats @champion on val_loss (lower is better, guessed from the name)"
    )
    assert result.checks[0].detail == "val_loss 0.2 against 0.3 on v1 (better)"
    assert result.holder == 1
    alone = evaluate(
        workflow, version(2), run("r2", {"val_loss": 0.2, "accuracy": 0.8}), None, None, None
    )
    assert alone.passed and alone.checks[0].detail == "no current holder to beat"
    assert alone.holder is None


def test_beats_holder_explicit_direction_ties_and_broken_holder() -> None:
    workflow = Workflow("alias", "champion", (Rule.beats("val_loss", "higher"),))
    mine = run("r2", {"val_loss": 0.4})
    holder = version(1, aliases=("champion",))
    assert evaluate(workflow, version(2), mine, holder, run("r1", {"val_loss": 0.3}), None).passed
    tie = evaluate(workflow, version(2), mine, holder, run("r1", {"val_loss": 0.4}), None)
    assert not tie.passed and tie.checks[0].detail.startswith("val_loss ties")
    gone = evaluate(workflow, version(2), mine, holder, None, None)
    assert gone.checks[0].detail == "the source run r1 of holder v1 is missing"
    nan = evaluate(workflow, version(2), mine, holder, run("r1", {"val_loss": math.nan}), None)
    assert not nan.passed and "NaN" in nan.checks[0].detail


def test_signature_rule_needs_a_known_signature() -> None:
    workflow = Workflow("alias", "champion", (Rule.same_signature(),))
    holder = version(1, aliases=("champion",))
    mine = run("r2", {})
    assert evaluate(workflow, version(2), mine, holder, None, True).passed
    changed = evaluate(workflow, version(2), mine, holder, None, False)
    assert changed.checks[0].detail == "the signature differs from v1's"
    unknown = evaluate(
        workflow, version(2), mine, holder, None, None, signature_summary="v1 has no signature"
    )
    assert not unknown.passed
    assert unknown.checks[0].detail == (
        "the signatures could not be compared (v1 has no signature)"
    )
    assert evaluate(workflow, version(2), mine, None, None, None).passed


def test_current_holder_skips_the_candidate_and_deleted_versions() -> None:
    versions = [version(1, stage="Production"), version(2, stage="Production"), version(3)]
    stage = Workflow("stage", "production")
    assert stage.target == "Production"
    assert current_holder(stage, versions, 3).version == 1
    assert current_holder(stage, versions, 1).version == 2
    assert current_holder(CHAMPION, versions, 3) is None


def test_invalid_rules_and_workflows_are_refused() -> None:
    with pytest.raises(InvalidWorkflow, match="not one of"):
        Rule.threshold("loss", "==", 1.0)
    with pytest.raises(InvalidWorkflow, match="finite"):
        Rule.threshold("loss", "<", math.nan)
    with pytest.raises(InvalidWorkflow, match="needs a metric"):
        Rule.beats(" ")
    with pytest.raises(InvalidWorkflow, match="not a direction"):
        Rule.beats("loss", "sideways")
    with pytest.raises(InvalidWorkflow, match="not a stage"):
        Workflow("stage", "prod")
    with pytest.raises(InvalidWorkflow, match="cannot deploy to the stage Archived"):
        Workflow("stage", "archived")
    with pytest.raises(InvalidWorkflow, match="target kind"):
        Workflow("branch", "main")


# --- the workflow tag -----------------------------------------------------------------------------


def test_workflow_tag_round_trips_compactly() -> None:
    workflow = Workflow(
        "stage",
        "Production",
        (Rule.threshold("acc", ">=", 0.9), Rule.beats("rmse", "lower"), Rule.same_signature()),
        require_approval=False,
        archive_existing=True,
    )
    value = workflow_tag_value(workflow)
    assert json.loads(value) == {
        "v": 1,
        "stage": "Production",
        "archive": True,
        "rules": [
            {"kind": "metric_threshold", "metric": "acc", "op": ">=", "value": 0.9},
            {"kind": "beats_holder", "metric": "rmse", "direction": "lower"},
            {"kind": "signature_unchanged"},
        ],
        "approval": False,
    }
    assert " " not in value
    assert parse_workflow(value) == workflow
    assert parse_workflow(workflow_tag_value(CHAMPION)) == CHAMPION
    assert read_workflow({WORKFLOW_TAG: value}).workflow == workflow
    assert read_workflow({}).workflow is None and read_workflow({}).problem is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "is not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"v": 2, "alias": "champion"}', "format version 2"),
        ('{"v": 1}', "names no alias or stage"),
        ('{"v": 1, "alias": "a", "stage": "Staging"}', "names no alias or stage"),
        ('{"v": 1, "alias": "a", "rules": [{"kind": "magic"}]}', "'magic' is not a kind"),
        ('{"v": 1, "alias": "a", "rules": "all"}', "not a list"),
        ('{"v": 1, "alias": "a", "rules": [{"kind": "metric_threshold", "metric": "x"}]}', "not"),
        ('{"v": 1, "stage": "Prod"}', "not a stage"),
        ('{"v": 1, "alias": "a", "approval": "yes"}', "not true or false"),
        ('{"v": 1, "alias": "a", "rules": [{"kind": "beats_holder", "metric": 7}]}', None),
    ],
)
def test_malformed_workflow_tags_give_a_message_not_a_crash(
    value: str, message: str | None
) -> None:
    stored = read_workflow({WORKFLOW_TAG: value})
    if message is None:  # a number as a metric name is read as its text
        assert stored.workflow is not None and stored.workflow.rules[0].metric == "7"
        return
    assert stored.workflow is None
    assert stored.problem is not None and message in stored.problem
    assert stored.problem.startswith(f"The {WORKFLOW_TAG} tag")
    with pytest.raises(InvalidWorkflow):
        parse_workflow(value)


def test_too_long_a_workflow_is_refused() -> None:
    rules = tuple(Rule.threshold(f"metric_{i:04d}_" + "x" * 40, "<", 1.0) for i in range(200))
    with pytest.raises(InvalidWorkflow, match="too long"):
        workflow_tag_value(Workflow("alias", "champion", rules))


# --- steps ----------------------------------------------------------------------------------------


def test_steps_round_trip_and_stay_under_the_tag_limit() -> None:
    evaluation = evaluate(CHAMPION, version(2), run("r2", {"val_loss": 0.2}), None, None, None)
    step = evaluation_step(CHAMPION, evaluation, 1_700_000_000_000, "ana", "first try")
    [(key, value)] = step_tags(step).items()
    assert key == f"{PREFIX}1700000000000"
    assert json.loads(value) == {
        "step": "evaluate",
        "passed": True,
        "target": "@champion",
        "user": "ana",
        "note": "first try",
        "details": ["passed: val_loss < 0.3 — val_loss is 0.2"],
    }
    assert read_steps(version(2, tags={key: value})) == [step]

    huge = Step(EVALUATE, False, 5, "ana", "n" * 9000, tuple("d" * 900 for _ in range(40)))
    [(_, value)] = step_tags(huge).items()
    assert len(value) <= MAX_VALUE_CHARS
    record = json.loads(value)
    assert record["details"][-1].endswith("more not kept")
    assert all(len(item) <= 500 for item in record["details"])
    assert record["note"].endswith("…")


def test_malformed_step_tags_are_skipped() -> None:
    tags = {
        f"{PREFIX}1": "{bad",
        f"{PREFIX}x": '{"step": "evaluate", "passed": true}',
        f"{PREFIX}2": '{"step": "launch", "passed": true}',
        f"{PREFIX}3": '{"step": "approve", "passed": "yes"}',
        f"{PREFIX}4": '{"step": "approve", "passed": true, "user": "bo"}',
    }
    assert read_steps(version(2, tags=tags)) == [Step(APPROVE, True, 4, "bo")]


# --- next step ------------------------------------------------------------------------------------


def test_next_step_walks_evaluate_approve_deploy() -> None:
    fresh = next_step(CHAMPION, version(2))
    assert fresh.step == EVALUATE and fresh.allowed == (EVALUATE,)
    assert fresh.why_not(APPROVE) == "v2 has not been evaluated for @champion yet."

    passed = next_step(CHAMPION, version(2, tags=tags_of(evaluated(True, 10))))
    assert passed.step == APPROVE and passed.allowed == (EVALUATE, APPROVE)
    assert passed.why_not(DEPLOY).startswith("v2 needs an approval after its latest evaluation")

    ready = next_step(CHAMPION, version(2, tags=tags_of(evaluated(True, 10), approved(20))))
    assert ready.step == DEPLOY and ready.allowed == (EVALUATE, APPROVE, DEPLOY)


def test_a_failed_evaluation_blocks_until_a_newer_one_passes() -> None:
    failed = version(2, tags=tags_of(evaluated(True, 10), approved(20), evaluated(False, 30)))
    gate = next_step(CHAMPION, failed)
    assert gate.step == EVALUATE and not gate.allows(APPROVE) and not gate.allows(DEPLOY)
    assert gate.why_not(DEPLOY).endswith("failed: val_loss < 0.3 — val_loss is 0.4.")
    again = version(2, tags=tags_of(evaluated(False, 10), evaluated(True, 30)))
    assert next_step(CHAMPION, again).allows(APPROVE)
    stale_approval = version(2, tags=tags_of(approved(5), evaluated(True, 10)))
    assert not next_step(CHAMPION, stale_approval).allows(DEPLOY)


def test_rejection_blocks_and_approval_can_be_optional() -> None:
    rejected = version(2, tags=tags_of(evaluated(True, 10), approved(20, False, "too risky")))
    gate = next_step(CHAMPION, rejected)
    assert gate.step == APPROVE
    assert gate.why_not(DEPLOY).startswith("v2 was rejected by bo at ")
    assert gate.why_not(DEPLOY).endswith(": too risky.")
    optional = Workflow("alias", "champion", CHAMPION.rules, require_approval=False)
    assert next_step(optional, version(2, tags=tags_of(evaluated(True, 10)))).step == DEPLOY
    assert not next_step(optional, version(2, tags=tags_of(evaluated(False, 10)))).allows(DEPLOY)


def test_holder_changes_make_an_evaluation_stale_and_deploys_consume_steps() -> None:
    beats = Workflow("alias", "champion", (Rule.beats("val_loss"),), require_approval=False)
    tags = tags_of(evaluated(True, 10, holder=1))
    assert next_step(beats, version(2, tags=tags), holders=(1,)).allows(DEPLOY)
    stale = next_step(beats, version(2, tags=tags), holders=(3,))
    assert stale.why_not(DEPLOY) == (
        "The latest evaluation of v2 compared it with v1, but v3 holds @champion now: "
        "evaluate it again."
    )
    assert next_step(CHAMPION, version(2, tags=tags), holders=(3,)).step == APPROVE  # thresholds

    deployed = tags_of(evaluated(True, 10), approved(20), Step(DEPLOY, True, 30))
    held = next_step(CHAMPION, version(2, ("champion",), deployed))
    assert held.step is None and held.why_not(DEPLOY) == "v2 already holds @champion."
    lost = next_step(CHAMPION, version(2, tags=deployed))
    assert lost.step == EVALUATE
    other_target = Step(EVALUATE, True, 10, target="stage Production")
    assert next_step(CHAMPION, version(2, tags=tags_of(other_target))).step == EVALUATE


# --- activity log ---------------------------------------------------------------------------------


def test_activity_log_merges_steps_and_promotions_by_time() -> None:
    champion = PromotionTarget.to_alias("champion")
    promotion = promotion_tags("bo", 25, champion, 1, "ship it")
    deploy_promotion = promotion_tags("bo", 40, champion, 3, "deploy")
    v2_tags = {
        **tags_of(evaluated(False, 10), evaluated(True, 20)),
        **promotion,
        **tags_of(approved(30, note="looks good")),
        **deploy_promotion,
        **tags_of(Step(DEPLOY, True, 41, "bo", "deploy", ("@champion…",), "@champion", None, 40)),
    }
    v3_tags = promotion_tags("cy", 35, champion, 2, "hotfix")
    versions = [version(1), version(2, ("champion",), v2_tags), version(3, tags=v3_tags)]

    log = activity_log(versions, 2)

    assert [(entry.time_ms, entry.kind, entry.text) for entry in log] == [
        (10, "evaluate", "Evaluated for @champion: failed (1 of 1 checks) by ana"),
        (20, "evaluate", "Evaluated for @champion: passed (1 check) by ana"),
        (25, "promotion", "@champion set on v2 (moved from v1)"),
        (30, "approve", "Approved for @champion by bo"),
        (35, "promotion", "@champion set on v3 (moved from v2)"),
        (41, "deploy", "Deployed to @champion by bo"),
    ]
    assert log[3].note == "looks good" and log[0].passed is False and log[2].passed is None
    assert log[0].details == ("failed: val_loss < 0.3 — val_loss is 0.4",)
