"""Driver sentences say what happened, when and against what, from point-in-time facts."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from actions.playbook import DEFAULT_PLAYBOOK, load_playbook
from serving.fact_words import fact_sentence
from serving.models import ModelBundle, ModelStore
from serving.scoring import ScoringService
from serving.snapshots import FeatureStore
from simulator.world import simulate_to_dir
from tests.support.serving import make_model
from training.diagnosis import load_reader

AS_OF = datetime(2025, 11, 20)


def test_a_departed_key_user_is_named_with_the_day_they_left():
    facts = {
        "key_user_left_id": "u_0042",
        "key_user_left_role": "admin",
        "key_user_left_at": pd.Timestamp("2025-11-03 14:00"),
        "key_user_last_use": pd.Timestamp("2025-10-28 09:00"),
    }
    values = {"key_users_lost_unreplaced_90d": 1.0, "days_since_key_user_active": 23.0}
    healthy = {"days_since_key_user_active": 3.0}
    sentence = fact_sentence("key_users", facts, values, healthy, AS_OF)
    assert sentence == (
        "The account's admin (user u_0042) left on 3 Nov 2025 and nobody has taken their"
        " place; no key user has used the product since 28 Oct 2025 (healthy accounts:"
        " within 3 days)."
    )


def test_a_departed_key_user_does_not_claim_the_others_went_quiet_when_they_did_not():
    # A second audit's export: the executive left, but the champion used the product on
    # the day of the snapshot; the sentence said "no key user has used the product since
    # 20 Nov 2025 (healthy accounts: within 1 days)", a value in line with healthy
    # accounts given as a reason.
    facts = {
        "key_user_left_id": "u_0042",
        "key_user_left_role": "executive",
        "key_user_left_at": pd.Timestamp("2025-10-13 14:00"),
        "key_user_last_use": pd.Timestamp("2025-11-19 17:30"),
    }
    values = {"key_users_lost_unreplaced_90d": 1.0, "days_since_key_user_active": 0.27}
    healthy = {"days_since_key_user_active": 1.0}
    sentence = fact_sentence("key_users", facts, values, healthy, AS_OF)
    assert sentence == (
        "The account's executive (user u_0042) left on 13 Oct 2025 and nobody has taken"
        " their place."
    )
    quiet = dict(values, days_since_key_user_active=8.0)
    # healthy key users active the same day (0 days): 0.27 days reads the same, "0 days"
    same_day = fact_sentence("key_users", facts, values, {"days_since_key_user_active": 0.0}, AS_OF)
    assert same_day is not None and "since" not in same_day
    said = fact_sentence("key_users", facts, quiet, healthy, AS_OF)
    assert said is not None and said.endswith(
        "; no key user has used the product since 19 Nov 2025 (healthy accounts: within 1 day)."
    )


def test_pressing_tickets_say_how_many_and_for_how_long():
    facts = {"pressing_tickets_open": 3, "oldest_pressing_opened_at": pd.Timestamp("2025-11-08")}
    sentence = fact_sentence("support", facts, {}, {"open_tickets": 0.0}, AS_OF)
    assert sentence == (
        "3 urgent or high-priority tickets open, the oldest for 12 days (opened 8 Nov 2025)"
        " (healthy accounts: 0 open tickets)."
    )


def test_no_dated_sentence_for_what_is_in_line_with_healthy_accounts_or_not_due():
    kpi = {"kpi_name": "hours_saved", "kpi_actual": 41.0, "kpi_target": 40.0}
    kpi["kpi_period_end"] = pd.Timestamp("2025-10-31")
    assert fact_sentence("outcomes", kpi, {}, {"kpi_attainment_latest": 1.0}, AS_OF) is None
    low = dict(kpi, kpi_actual=24.8)
    assert fact_sentence("outcomes", low, {}, {"kpi_attainment_latest": 1.0}, AS_OF) == (
        "Latest KPI result: hours saved at 62% of target in the period ending 31 Oct 2025"
        " (healthy accounts: 100%)."
    )
    due_later = {"first_value_due": pd.Timestamp("2025-12-01")}
    assert fact_sentence("milestones", due_later, {}, {}, AS_OF) is None
    assert fact_sentence("support", {"pressing_tickets_open": 0}, {}, {}, AS_OF) is None
    assert fact_sentence("usage", {"pressing_tickets_open": 3}, {}, {}, AS_OF) is None


def test_no_dated_sentence_gives_a_value_typical_of_healthy_accounts_as_the_reason():
    # Review: the outcomes family raised by another feature read "Latest KPI result ... at
    # 85% of target (healthy accounts: 95%)" where healthy accounts range over 80-110%.
    kpi = {"kpi_name": "nps", "kpi_actual": 8.5, "kpi_target": 10.0}
    kpi["kpi_period_end"] = pd.Timestamp("2025-10-31")
    healthy = {"kpi_attainment_latest": 0.95}
    assert fact_sentence("outcomes", kpi, {}, healthy, AS_OF) is not None  # the median alone
    bands = {"kpi_attainment_latest": (0.80, 1.10)}
    assert fact_sentence("outcomes", kpi, {}, healthy, AS_OF, bands) is None
    # key users: quiet for 8 days where healthy accounts' key users range over 0-10 days
    facts = {
        "key_user_left_id": "u_0042",
        "key_user_left_role": "admin",
        "key_user_left_at": pd.Timestamp("2025-10-13 14:00"),
        "key_user_last_use": pd.Timestamp("2025-11-12"),
    }
    values = {"key_users_lost_unreplaced_90d": 1.0, "days_since_key_user_active": 8.0}
    healthy = {"days_since_key_user_active": 1.0}
    median_only = fact_sentence("key_users", facts, values, healthy, AS_OF)
    assert median_only is not None and "since" in median_only
    typical = fact_sentence(
        "key_users", facts, values, healthy, AS_OF, {"days_since_key_user_active": (0.0, 10.0)}
    )
    assert (
        typical
        == "The account's admin (user u_0042) left on 13 Oct 2025 and nobody has taken their place."
    )
    quiet = {"days_since_key_user_active": 40.0}
    no_left = {"key_user_last_use": pd.Timestamp("2025-10-11")}
    assert fact_sentence("key_users", no_left, quiet, healthy, AS_OF) is not None
    assert (
        fact_sentence(
            "key_users", no_left, quiet, healthy, AS_OF, {"days_since_key_user_active": (0.0, 45.0)}
        )
        is None
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data = tmp_path_factory.mktemp("words") / "world"
    simulate_to_dir(data, n_accounts=150, seed=3, months=8)
    churn = make_model("churn")
    churn.cause_reader = load_reader()
    bundle = ModelBundle(churn, make_model("upsell", 1), {"retain-churn": "1"}, origin="memory")
    features = FeatureStore.from_source(str(data))
    service = ScoringService(ModelStore(bundle), features, load_playbook(DEFAULT_PLAYBOOK))
    return features.latest, service.score(features.latest.account_ids)[2]


def test_served_key_user_drivers_name_who_left_and_when(served):
    snapshot, scores = served
    named = 0
    for score in scores:
        facts = snapshot.facts[score.account_id]
        for d in score.drivers:
            left = facts["key_user_left_at"]
            recent = left is not None and (score.as_of - pd.Timestamp(left)).days < 90
            if d.family == "key_users" and d.contribution > 0 and recent:
                assert f"(user {facts['key_user_left_id']}) left on" in d.sentence
                named += 1
    assert named > 0


def test_a_key_user_who_left_long_ago_is_named_while_nobody_took_over():
    """The eighth audit: an admin gone 173 days read "Key users with an active login: 0 users,
    worse than healthy accounts (1 user)", saying neither who nor when."""
    facts = {
        "key_user_left_id": "nils@firma.de",
        "key_user_left_role": "admin",
        "key_user_left_at": pd.Timestamp("2025-05-31 10:00"),
        "key_user_last_use": None,
    }
    values = {"key_users_lost_unreplaced_90d": 0.0, "key_users": 0.0}
    sentence = fact_sentence("key_users", facts, values, {}, AS_OF)
    assert sentence is not None and sentence.startswith(
        "The account's admin (user nils@firma.de) left on 31 May 2025 and nobody has taken"
        " their place; no key user has used the product in 90 days"
    )
    # someone holds a key login now: an old departure is no longer the story
    others = dict(values, key_users=2.0)
    assert fact_sentence("key_users", facts, others, {}, AS_OF) is None


def test_no_key_user_use_is_counted_from_when_use_was_first_recorded():
    """The fifteenth audit: product analytics installed 31 days before, "no key user has used
    the product in 90 days" was said of 23 accounts whose use nobody had recorded that long."""
    facts = {
        "key_user_left_id": "nils@firma.de",
        "key_user_left_role": "admin",
        "key_user_left_at": pd.Timestamp("2025-05-31 10:00"),
        "key_user_last_use": None,
        "events_first_at": AS_OF - pd.Timedelta(days=31),
    }
    values = {"key_users_lost_unreplaced_90d": 0.0, "key_users": 0.0}
    sentence = fact_sentence("key_users", facts, values, {}, AS_OF)
    first = AS_OF - pd.Timedelta(days=31)
    assert sentence is not None and sentence.endswith(
        "; no key user has used the product since its use was first recorded"
        f" ({first.day} {first:%b %Y})."
    )
    tracked_long = dict(facts, events_first_at=AS_OF - pd.Timedelta(days=400))
    said = fact_sentence("key_users", tracked_long, values, {}, AS_OF)
    assert said is not None and said.endswith("no key user has used the product in 90 days.")
