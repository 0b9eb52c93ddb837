"""The playbook: validated at load, covers every action code, every action reachable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from actions.playbook import DEFAULT_PLAYBOOK, PlaybookError, load_playbook
from features.contract import ACTION_CODES
from features.definitions import FEATURE_NAMES
from serving.models import ModelBundle, ModelStore
from serving.snapshots import FeatureStore, snapshot_from_frames
from tests.support.serving import (
    AS_OF,
    CHURN_DRIVER,
    UPSELL_DRIVER,
    calm_values,
    make_bundle,
    make_service,
)
from training.model import AccountModel

VALID_RULE = {
    "name": "quiet key users",
    "action": "key_user_replacement",
    "reason": "Key users went quiet.",
    "when": [{"feature": "days_since_key_user_active", "op": ">", "value": 30}],
}


def write(tmp_path: Path, rules: list[dict], tiers: list[dict] | None = None) -> Path:
    path = tmp_path / "playbook.yaml"
    path.write_text(yaml.safe_dump({"tiers": tiers or [{"name": "standard"}], "rules": rules}))
    return path


def test_default_playbook_loads_and_covers_every_action_code():
    playbook = load_playbook(DEFAULT_PLAYBOOK)
    assert {rule.action for rule in playbook.rules} == set(ACTION_CODES)
    assert [tier.name for tier in playbook.tiers] == ["reference", "growth", "standard"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"action": "send_flowers"}, "field action", "unknown action code 'send_flowers'"),
        (
            {"when": [{"feature": "vibes", "op": ">", "value": 1}]},
            "field when[0].feature",
            "unknown feature 'vibes'",
        ),
        (
            {"when": [{"feature": "nps_latest", "op": "=>", "value": 9}]},
            "field when[0].op",
            "'<', '<=', '>', '>=', '==' or '!='",
        ),
        ({"priorty": 3}, "field priorty", "Extra inputs are not permitted"),
        ({"risk": ["severe"]}, "field risk[0]", "'high', 'medium' or 'low'"),
        ({"when": []}, "field when", "at least 1 item"),
        (
            {"when": [{"score": "happiness", "op": ">", "value": 1}]},
            "field when[0].score",
            "unknown score 'happiness'",
        ),
        ({"reason": "Quiet for {days_quiet}."}, "field reason", "unknown feature 'days_quiet'"),
        ({"reason": "Quiet for {days since}."}, "field reason", "{feature_name}"),
        ({"reason": "Quiet {"}, "field reason", "{feature_name}"),
    ],
)
def test_bad_rules_are_rejected_naming_file_rule_and_field(tmp_path, change, field, message):
    path = write(tmp_path, [VALID_RULE, {**VALID_RULE, "name": "broken", **change}])
    with pytest.raises(PlaybookError) as error:
        load_playbook(path)
    text = str(error.value)
    assert str(path) in text
    assert "rule 1 ('broken')" in text
    assert field in text
    assert message in text


def test_unknown_tier_in_a_rule_is_rejected(tmp_path):
    path = write(tmp_path, [{**VALID_RULE, "tiers": ["platinum"]}])
    with pytest.raises(PlaybookError, match=r"rule 0 \('quiet key users'\) field tiers.*platinum"):
        load_playbook(path)


def test_unreadable_yaml_is_a_playbook_error(tmp_path):
    path = tmp_path / "playbook.yaml"
    path.write_text("rules: [unclosed")
    with pytest.raises(PlaybookError, match="cannot read"):
        load_playbook(path)


def test_a_reason_writes_the_accounts_own_value_in_its_unit():
    # The fourth audit read "No contact for four months" on accounts 222 days (up to 545)
    # without contact: a fixed sentence cannot say how far past its threshold an account is.
    from actions.ranking import suggest

    playbook = load_playbook(DEFAULT_PLAYBOOK)
    values = {"days_since_touchpoint": 222.0}
    fired = playbook.matches(values, "low", "standard")
    assert [r.name for r in fired] == ["routine check-in"]
    assert fired[0].words(values).startswith("No contact for 222 days;")
    assert suggest(fired, values=values)[0].reason.startswith("No contact for 222 days;")
    assert "{" not in fired[0].words({})  # never a raw placeholder


def test_a_monthly_account_near_renewal_gets_no_renewal_business_review():
    # The eighth audit's book was 80% monthly: "The renewal decision is 12 days away" fired
    # for 91% of its high-risk accounts, since a monthly renewal is never more than a month off.
    playbook = load_playbook(DEFAULT_PLAYBOOK)
    renewal = "renewal close and at risk"
    near = {"days_to_renewal": 12.0}
    monthly = playbook.matches({**near, "term_length_days": 30.0}, "high", "standard")
    annual = playbook.matches({**near, "term_length_days": 365.0}, "high", "standard")
    assert renewal not in [r.name for r in monthly]
    assert renewal in [r.name for r in annual]


def test_an_urgent_ticket_gets_a_support_escalation_at_any_risk():
    # The ninth audit's support storms were often scored at low churn risk, and both support
    # rules fired at high and medium risk only: 12 of 27 storm-open accounts had no escalation.
    playbook = load_playbook(DEFAULT_PLAYBOOK)
    urgent = {"open_tickets_urgent": 2.0}
    dragging = {"oldest_open_ticket_days": 40.0}
    for risk in ("high", "medium", "low"):
        fired = [r.action for r in playbook.matches(urgent, risk, "standard")]
        assert "support_escalation" in fired, risk
    assert "support_escalation" not in [
        r.action for r in playbook.matches(dragging, "low", "standard")
    ]
    assert "support_escalation" in [
        r.action for r in playbook.matches(dragging, "medium", "standard")
    ]


def test_a_valid_custom_playbook_loads(tmp_path):
    playbook = load_playbook(write(tmp_path, [VALID_RULE]))
    assert playbook.rules[0].action == "key_user_replacement"


def _satisfying(op: str, value: float) -> float:
    return {"<": value - 0.01, "<=": value, ">": value + 0.01, ">=": value, "==": value}.get(
        op, value + 1
    )


def _model_with_cuts(model: Any, cuts: dict[str, float]) -> AccountModel:
    return AccountModel(
        model.target, model.booster, model.calibrator, model.feature_names, cuts,
        model.healthy_reference,
    )  # fmt: skip


def test_every_action_code_is_reachable_from_some_account():
    """For each rule, build an account that meets it and check the action is recommended."""
    playbook = load_playbook(DEFAULT_PLAYBOOK)
    base = make_bundle()
    tiers = {tier.name: tier for tier in playbook.tiers}
    reached: set[str] = set()
    for rule in playbook.rules:
        service = make_service(n=1, bundle=base)
        row = service.features.latest.matrix[0].copy()
        column = service.features.latest.column
        row[column[CHURN_DRIVER]] = 0.0  # a calm account unless the rule says otherwise
        for pain, value in calm_values().items():  # ... with no pain to mend before a growth ask
            if pain in column:
                row[column[pain]] = value
        row[column[UPSELL_DRIVER]] = 0.95  # ... that would buy more
        conditions = list(tiers[rule.tiers[0]].when) if rule.tiers else []
        conditions += list(rule.when)  # last, so the rule's own values win
        for condition in conditions:
            if condition.feature:
                row[column[condition.feature]] = _satisfying(condition.op, condition.value)
        frame = snapshot_from_frames(AS_OF, _frame(row))
        churn_p = float(base.churn.predict_proba(row.reshape(1, -1))[0])
        wanted = rule.risk[0]
        # cut around the score, with room for the service's last-bit difference from this
        # direct prediction (8.468737659988080e-09 here against ...805e-09 served)
        low, high = churn_p * (1 - 1e-6), churn_p * (1 + 1e-6) + 1e-12
        cuts = {
            "high": {"high": low, "medium": low},
            "medium": {"high": high, "medium": low},
            "low": {"high": high + 1e-6, "medium": high},
        }[wanted]
        bundle = ModelBundle(_model_with_cuts(base.churn, cuts), base.upsell, base.versions)
        service.models = ModelStore(bundle)
        service.features = FeatureStore(frame)
        _, _, scores, _ = service.score(["acct-0000"])
        score = scores[0]
        assert score.risk_tier == wanted
        if rule.tiers:
            assert score.account_tier in rule.tiers, rule.name
        actions = {a.action: a for a in score.actions}
        assert rule.action in actions, f"rule {rule.name!r} did not fire"
        assert rule.name in actions[rule.action].rules
        triggering = {d.feature for d in actions[rule.action].drivers}
        assert {c.feature for c in rule.when if c.feature} <= triggering
        reached.add(rule.action)
    assert reached == set(ACTION_CODES)


def _frame(row: np.ndarray):
    import pandas as pd

    frame = pd.DataFrame([row], columns=list(FEATURE_NAMES))
    frame.insert(0, "as_of", AS_OF)
    frame.insert(0, "account_id", "acct-0000")
    return frame
