"""Candidate lines from scores: owners, last touchpoints and values as the plan needs them."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import numpy as np
import pytest

from actions.plan_config import load_plan_config
from serving.plan import (
    AccountContext,
    candidate_lines,
    closest_owner,
    default_week,
    unknown_owners,
    week_of,
)
from tests.support.serving import make_service

COSTS = {"upsell_offer": 100.0}


def test_candidates_carry_owner_touchpoint_and_value() -> None:
    service = make_service(n=40)
    _, _, scores, _ = service.score(list(service.features.latest.account_ids))
    config = load_plan_config()
    first = scores[0].account_id
    context = AccountContext(
        owners={s.account_id: "dana" for s in scores}, last_touch={first: datetime(2026, 5, 30)}
    )
    frame = candidate_lines(scores, context, config, lambda a: COSTS.get(a, 50.0))
    assert len(frame) == sum(len(s.actions) for s in scores) > 0
    assert set(frame["csm"]) == {"dana"}
    touched = frame["account_id"] == first
    assert (frame.loc[touched, "last_touch"] == datetime(2026, 5, 30)).all()
    assert frame.loc[~touched, "last_touch"].isna().all()
    by_account = {s.account_id: s for s in scores}
    for line in frame.to_dict("records"):  # no uplift model: every value is the assumed one
        score = by_account[line["account_id"]]
        assert score.arr is not None
        growth = line["action"] in ("upsell_offer", "referral_invite", "benchmark_program")
        effect = 0.0 if growth else min(config.assumed_effect, score.churn_probability)
        assumed = effect * score.arr - COSTS.get(line["action"], 50.0)
        expansion = (
            (score.upsell_probability or 0) * score.arr * config.upsell_value_share
            if line["action"] == "upsell_offer"
            else 0.0
        )
        assert line["basis"] == "playbook"
        assert line["saved_arr"] == pytest.approx(assumed + expansion)
        assert line["expansion_arr"] == pytest.approx(expansion)


def test_the_default_week_is_the_first_monday_week_at_or_after_the_data() -> None:
    assert default_week(datetime(2026, 6, 1)) == datetime(2026, 6, 1)  # a Monday midnight
    assert default_week(datetime(2025, 12, 31, 21, 45)) == datetime(2026, 1, 5)
    assert default_week(datetime(2026, 11, 14, 17, 30)) == datetime(2026, 11, 16)  # Saturday
    assert default_week(datetime(2026, 11, 15)) == datetime(2026, 11, 16)  # Sunday midnight


def test_any_date_stands_for_the_week_from_its_monday() -> None:
    for day in (date(2026, 11, 16), date(2026, 11, 19), datetime(2026, 11, 22, 23, 59)):
        assert week_of(day) == datetime(2026, 11, 16)
    assert week_of(date(2026, 11, 23)) == datetime(2026, 11, 23)
    assert week_of(date(2026, 1, 1)) == datetime(2025, 12, 29)  # ISO week 1 of 2026


def _helping(action: str, effect: float, expansion: float | None = None) -> Any:
    """A service whose stand-in uplift model learned `effect` for `action` on every account
    (and `expansion`, a share of ARR, for a growth ask)."""
    from tests.support.serving import FakeUplift, make_bundle
    from training.uplift import ActionEffect

    class Helps(FakeUplift):
        def effects(self, X):  # type: ignore[no-untyped-def]
            found = super().effects(X)
            n = len(X)
            found[action] = ActionEffect(
                np.full(n, effect), np.full(n, 0.01),
                np.full(n, "learned", dtype=object), np.full(n, "learned", dtype=object),
                expansion=None if expansion is None else np.full(n, expansion),
            )  # fmt: skip
            return found

    return make_service(n=40, bundle=make_bundle(uplift=Helps()))


def test_a_learned_growth_asks_expansion_is_said_and_counted_once() -> None:
    """Tenth audit: "Expected to be worth 3,072 ARR net of its cost (learned from the team's
    history: churn +0.2 pts)" never said that the value is expansion."""
    from actions.plan_words import why_action

    service = _helping("upsell_offer", 0.002, expansion=0.05)
    _, _, scores, _ = service.score(list(service.features.latest.account_ids))
    context = AccountContext(owners={s.account_id: "dana" for s in scores}, last_touch={})
    config = load_plan_config()
    frame = candidate_lines(scores, context, config, lambda a: 0.0)
    learned = frame[(frame["action"] == "upsell_offer") & (frame["basis"] == "learned")]
    assert len(learned) > 0
    by_account = {s.account_id: s for s in scores}
    for line in learned.to_dict("records"):
        offer = next(
            a for a in by_account[line["account_id"]].actions if a.action == "upsell_offer"
        )
        arr = by_account[line["account_id"]].arr
        assert offer.expected_expansion_arr == pytest.approx(0.05 * arr)
        assert line["expansion_arr"] == pytest.approx(0.05 * arr)  # said ...
        assert line["saved_arr"] == pytest.approx(offer.ranking_saved_arr)  # ... counted once
        said = why_action({**{str(k): v for k, v in line.items()}, "hours": 1.0}, config)
        assert f"{0.05 * arr:,.0f} of it expected expansion" in said, said
        assert "churn +0.2 pts" in said


def test_no_value_is_more_churn_than_the_account_has() -> None:
    """An assumed 2-point effect on a 1.5% risk, or a learned -30 points on a 19% risk, would
    value more ARR than the account can lose: both stop at the churn probability."""
    service = _helping("training", -0.3)
    _, _, scores, _ = service.score(list(service.features.latest.account_ids))
    taught = [a for s in scores for a in s.actions if a.action == "training"]
    assert taught, "the fake learner's training effect should be ranked for some account"
    for score in scores:
        for action in score.actions:
            if action.expected_effect is not None:
                assert action.expected_effect >= -score.churn_probability - 1e-12
                assert score.arr is not None
                assert action.expected_saved_arr is not None
                assert action.expected_saved_arr <= score.churn_probability * score.arr
    assert any(a.expected_effect is not None and a.expected_effect > -0.3 for a in taught)
    config = load_plan_config()
    assert config.assumed_for(0.015) == pytest.approx(0.015)
    assert config.assumed_for(0.4) == config.assumed_effect
    assert config.assumed_for(None) == config.assumed_effect


def test_a_growth_ask_is_not_assumed_to_cut_churn() -> None:
    """The eighth audit's week was 73 of 87 referral invitations, each assumed to cut churn
    by 2 points: cheap, so they filled the hours. A growth ask earns only its expansion."""
    config = load_plan_config()
    assert config.assumed_for(0.3, "referral_invite") == 0.0
    assert config.assumed_for(0.3, "benchmark_program") == 0.0
    assert config.assumed_for(0.3, "upsell_offer") == 0.0
    assert config.assumed_for(0.3, "training") == config.assumed_effect


def test_a_plan_with_the_same_picks_but_other_values_is_another_plan() -> None:
    """Planned again after touchpoints were recorded, the week can pick the same accounts
    and actions with other values: under one id the store refused it (a traceback)."""
    import pandas as pd

    from actions.plan import WeekPlan
    from serving.plan import plan_id_of

    def plan(saved: float) -> WeekPlan:
        lines = pd.DataFrame(
            {"account_id": ["a"], "csm": ["dana"], "action": ["training"], "arm": ["planned"],
             "probability": [0.95], "hours": [2.0], "saved_arr": [saved], "why": ["..."]}
        )  # fmt: skip
        return WeekPlan(datetime(2026, 6, 1), lines, saved, saved, saved, 0.0, "optimal", 0.1)

    assert plan_id_of(plan(100.0), "3") == plan_id_of(plan(100.0), "3")
    assert plan_id_of(plan(100.0), "3") != plan_id_of(plan(120.0), "3")
    assert plan_id_of(plan(100.0), "3") != plan_id_of(plan(100.0), "4")


def test_a_week_whose_hours_leave_most_worthwhile_accounts_waiting_says_so() -> None:
    import pandas as pd

    from actions.plan import WeekPlan
    from serving.plan import short_hours

    def plan(reached: int, unreached: int) -> WeekPlan:
        lines = pd.DataFrame({"account_id": [f"a{i}" for i in range(reached)]})
        return WeekPlan(
            datetime(2026, 6, 1), lines, 1.0, 1.0, 1.0, 0.0, "optimal", 0.1,
            unreached=unreached, unreached_value=123456.0,
        )  # fmt: skip

    assert short_hours(plan(3, 3), "plan.yaml") == []
    (said,) = short_hours(plan(3, 4), "plan.yaml")
    assert said.startswith("the week's hours and caps reach 3 accounts; 4 more")
    assert "123,456 ARR" in said and "plan.yaml's csm_hours" in said
    # with a currency set (RETAIN_CURRENCY), the value is money in it (a new-user audit)
    from features.units import use_currency

    use_currency("EUR")
    (said,) = short_hours(plan(3, 4), "plan.yaml")
    assert "valued at €123,456 ARR net of cost" in said, said


def _score(upsell_drivers: list[Any], account_drivers: list[Any]) -> Any:
    """A low-risk account offered an upsell (and a health check) with these drivers."""
    from serving.schemas import AccountScore, ActionOut

    return AccountScore(
        account_id="acct-1", as_of=datetime(2026, 6, 1), churn_probability=0.1,
        upsell_probability=0.6, next_best_action="upsell_offer", model_version="1",
        risk_tier="low", account_tier="growth", arr=40_000.0, arr_at_risk=4_000.0,
        renewal_date=datetime(2026, 9, 1), days_to_renewal=92, drivers=account_drivers,
        actions=[
            ActionOut(action="upsell_offer", reason="The account looks ready to buy more.",
                      rules=["likely to expand"], drivers=upsell_drivers),
            ActionOut(action="health_check", reason="Check in.", rules=["quiet"], drivers=[]),
        ],
    )  # fmt: skip


def _driver(feature: str, contribution: float, sentence: str) -> Any:
    from serving.schemas import DriverOut

    return DriverOut(
        feature=feature, family="support", contribution=contribution, value=1.0,
        healthy_value=0.0, sentence=sentence,
    )  # fmt: skip


def test_an_upsell_line_opens_with_its_growth_signal_and_keeps_the_risk_as_a_caution() -> None:
    """Fifth audit: an upsell line opened with "the oldest open ticket: 370 days, worse than
    healthy accounts", a reason against the ask it explained."""
    from actions.plan import plan_week

    risk = _driver("oldest_open_ticket_days", 0.5, "The oldest ticket is 370 days old.")
    healthy = _driver("features_used_30d", -0.3, "32 features used, better than healthy.")
    context = AccountContext(owners={"acct-1": "dana"}, last_touch={})
    frame = candidate_lines([_score([], [risk, healthy])], context, load_plan_config(), lambda a: 0)
    by_action = frame.set_index("action")
    assert by_action.loc["upsell_offer", "driver"] == healthy.sentence
    assert by_action.loc["upsell_offer", "caution"] == risk.sentence
    assert by_action.loc["health_check", "driver"] == risk.sentence  # a risk line: the risk
    upsell = frame[frame["action"] == "upsell_offer"]
    why = plan_week(upsell, load_plan_config(), datetime(2026, 6, 1)).lines["why"].iloc[0]
    assert why.startswith(
        "This account: a 60% chance of buying more, low churn risk (10%), ARR 40,000, renewal in"
        " 92 days. 32 features used, better than healthy. Keep in mind: The oldest ticket"
    )


def test_a_learned_plan_line_gives_its_effect_once() -> None:
    """Fifth audit: "churn risk -10.0 pts (+/- 2.0)" in the reason, then "churn -10.0 pts"."""
    from actions.plan import plan_week

    service = _helping("training", -0.1)
    _, _, scores, _ = service.score(list(service.features.latest.account_ids))
    context = AccountContext(owners={s.account_id: "dana" for s in scores}, last_touch={})
    frame = candidate_lines(scores, context, load_plan_config(), lambda a: 0.0)
    learned = frame[(frame["action"] == "training") & (frame["basis"] == "learned")]
    assert len(learned) > 0
    lines = plan_week(learned, load_plan_config(), datetime(2026, 6, 1)).lines
    assert len(lines) > 0
    for why in lines["why"]:
        assert len(re.findall(r"\d+(?:\.\d+)? pts", why)) == 1, why


def test_what_touchpoints_did_this_term_is_never_a_control(tiny_parquet_dir) -> None:
    """Off the plan too: an account the team gave a business review this term, held back
    from one, would not measure the review's absence (fifth audit's controls)."""
    import pandas as pd

    from features.source import load_source
    from serving.plan import account_context, done_in_term

    source = load_source(str(tiny_parquet_dir))
    context = account_context(source.con, datetime(2024, 2, 5))
    done = set(context.done.itertuples(index=False, name=None))
    # 1001's review (20 Jan) is in its renewal term from 1 Jan; 1002's call (10 Dec 2023)
    # in its term to 1 Mar 2024; 1003 has no touchpoint
    assert done == {("1001", "business_review"), ("1002", "exec_sponsor_call")}
    touches = pd.DataFrame(
        {"account_id": ["a", "a", "a"], "type": ["training", "health_check", "QBR"],
         "ts": pd.to_datetime(["2024-12-20", "2025-01-03", "2025-01-04"])}
    )  # fmt: skip
    terms = pd.DataFrame({"account_id": ["a"], "term_start": pd.to_datetime(["2025-01-01"])})
    found = done_in_term(touches, terms)  # last term's training, and a type no action, are not
    assert found.to_dict("records") == [{"account_id": "a", "action": "health_check"}]


def test_a_meeting_booked_in_the_week_keeps_the_account_out_of_its_plan(tmp_path) -> None:
    """The eighteenth audit: a CRM exports the QBRs booked ahead; two accounts with one
    booked in the planned week got another action that week from the plan."""
    import pandas as pd

    from actions.plan import plan_week
    from features.source import load_source
    from serving.plan import account_context
    from tests.support import tiny_world, write_tables
    from tests.support.tiny import LAST_EVENT

    tables = tiny_world()
    booked = pd.DataFrame(
        {"touchpoint_id": ["b1", "b2"], "account_id": ["1003", "1002"],
         "ts": pd.to_datetime(["2024-02-14 10:00", "2024-02-26 09:00"]),
         "type": ["business_review"] * 2, "owner": [None] * 2, "notes": ["QBR (planned)"] * 2}
    )  # fmt: skip
    tables["touchpoints"] = pd.concat([tables["touchpoints"], booked], ignore_index=True)
    con = load_source(str(write_tables(tables, tmp_path / "crm"))).con
    week = datetime(2024, 2, 12)
    last = account_context(con, week, data_end=LAST_EVENT).last_touch
    assert last["1003"] == datetime(2024, 2, 14, 10)  # booked in the week: a contact
    assert last["1002"] == datetime(2023, 12, 10)  # booked for a later week: not yet
    assert "1003" not in account_context(con, week).last_touch  # without the data's end
    # a week planned in the past reads no touchpoint after its Monday, booked or held
    assert "1001" not in account_context(con, datetime(2024, 1, 15), data_end=LAST_EVENT).last_touch
    candidates = pd.DataFrame(
        {"account_id": ["1003"], "csm": ["lee"], "action": ["training"], "saved_arr": [500.0],
         "risk_tier": ["high"], "last_touch": [pd.Timestamp(last["1003"])], "reason": ["r"]}
    )  # fmt: skip
    plan = plan_week(candidates, load_plan_config(), week)
    assert plan.lines.empty and plan.excluded["contacted within the contact gap"] == 1


def test_the_plan_and_users_files_get_the_closest_owner_case_and_spacing_first() -> None:
    owners = ["Dana Kim", "Lee Park", "R&D Pool", "lee"]
    assert closest_owner("DANA KIM", owners) == "Dana Kim"  # difflib alone finds nothing
    assert closest_owner("Lee  Park", owners) == "Lee Park"
    assert closest_owner("Dana Kmi", owners) == "Dana Kim"
    assert closest_owner("Morgan", owners) is None
    numbered = [f"CSM {i:02d}" for i in range(40)]  # thirteenth audit: offered "CSM 35"
    assert closest_owner("CSM 5", numbered) == "CSM 05"
    assert closest_owner("csm 005", numbered) == "CSM 05"
    config = load_plan_config().model_copy(
        update={"csm_hours": load_plan_config().csm_hours.model_copy(
            update={"owners": {"DANA KIM": 4.0, "Lee Park": 2.0}}
        )}
    )  # fmt: skip
    assert unknown_owners(config, [*owners, None]) == [
        "plan file: csm_hours.owners names 'DANA KIM', who owns no account in the data"
        " (did you mean 'Dana Kim'?); those hours are not used"
    ]


def test_a_week_that_leaves_csm_hours_free_says_why() -> None:
    import pandas as pd

    from actions.plan import WeekPlan
    from actions.plan_config import load_plan_config
    from serving.plan import free_hours

    config = load_plan_config()
    default = config.csm_hours.default
    shortest = min(h for h in config.hours.values() if h > 0)

    def plan(used: dict[str, float]) -> WeekPlan:
        lines = pd.DataFrame({"csm": list(used), "hours": list(used.values())})
        return WeekPlan(datetime(2026, 6, 1), lines, 1.0, 1.0, 1.0, 0.0, "optimal", 0.1)

    full = plan({"ana": default, "ben": default})
    assert free_hours(full, config, ["ana", "ben", None]) == []
    # less free than the shortest action takes is not idle time
    assert free_hours(plan({"ana": default - shortest / 2}), config, ["ana"]) == []
    (said,) = free_hours(plan({"ana": default, "ben": 1.0}), config, ["ana", "ben", "cy"])
    # ben has default - 1 h free, cy (no line) all of theirs; ana is full
    assert said.startswith(f"{2 * default - 1:g} of the team's {3 * default:g} hours stay free")
    assert f"cy {default:g} h, ben {default - 1:g} h" in said and "ana" not in said
    assert "fits the hours left" in said
