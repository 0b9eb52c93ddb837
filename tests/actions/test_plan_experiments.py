"""The randomized slice's estimate: planned minus control churn, with Newcombe's interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from actions.plan_experiments import POWER, controls_needed, measure_actions, newcombe

RENEWAL = pd.Timestamp("2025-03-01")


def test_newcombe_matches_the_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 vs 48/80.
    low, high = newcombe(56, 70, 48, 80)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


def test_the_effect_is_recovered_on_a_randomized_slice() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    control = rng.uniform(size=n) < 0.2
    churn = rng.uniform(size=n) < np.where(control, 0.30, 0.22)  # the action saves 8 pts
    lines = pd.DataFrame(
        {
            "action": "business_review",
            "account_id": [f"a{i}" for i in range(n)],
            "renewal_date": RENEWAL,
            "arm": np.where(control, "control", "planned"),
            "probability": np.where(control, 0.2, 0.8),
            "churn": churn.astype(float),
            "expected_effect": -0.05,
        }
    )
    lines.loc[:99, "churn"] = np.nan  # renewals not known yet
    (found,) = measure_actions(lines)
    assert found.pending == 100
    assert found.planned + found.control == n - 100
    assert found.low is not None and found.high is not None
    assert found.low < -0.08 < found.high
    assert found.high < 0  # the slice is big enough to show it helps
    assert found.observational == pytest.approx(-0.05)
    assert "the model expected -5.0 pts" in found.sentence()


def test_an_action_without_controls_has_nothing_to_judge() -> None:
    lines = pd.DataFrame(
        {
            "action": ["training"] * 3,
            "account_id": ["a", "b", "c"],
            "renewal_date": RENEWAL,
            "arm": ["planned", "planned", "random"],
            "churn": [0, 1, 0],
        }
    )
    (found,) = measure_actions(lines)
    assert found.effect is None and found.random == 1
    assert "nothing to judge yet (no control renewal to compare yet, 2 planned" in found.sentence()


def weekly_lines(planned: dict[str, int], control: list[str], churned: set[str]) -> pd.DataFrame:
    """One action's lines: each planned account once a week for n weeks, controls once."""
    rows = [
        {"account_id": account, "arm": "planned", "probability": 0.9}
        for account, weeks in planned.items()
        for _ in range(weeks)
    ]
    rows += [{"account_id": account, "arm": "control", "probability": 0.1} for account in control]
    frame = pd.DataFrame(rows).assign(action="business_review", renewal_date=RENEWAL)
    return frame.assign(churn=frame["account_id"].isin(churned).astype(float))


def test_an_account_planned_in_several_weeks_before_one_renewal_is_one_outcome() -> None:
    # The fifth audit: lines counted as trials, 502 lines stood for 332 renewals. Here 10
    # planned accounts over 4 weeks each (40 lines) and 10 controls: 20 outcomes, not 50.
    planned = {f"p{i}": 4 for i in range(10)}
    control = [f"c{i}" for i in range(10)]
    churned = {"p0", "p1", "c0", "c1", "c2", "c3", "c4"}
    (found,) = measure_actions(weekly_lines(planned, control, churned))
    assert (found.planned, found.planned_lines, found.planned_churned) == (10, 40, 2)
    assert (found.control, found.control_lines, found.control_churned) == (10, 10, 5)
    assert found.effect == pytest.approx(0.2 - 0.5)
    assert (found.low, found.high) == pytest.approx(newcombe(2, 10, 5, 10))
    # Counting the 40 lines as trials would have given a narrower interval.
    low, high = newcombe(8, 40, 5, 10)
    assert found.low is not None and found.high is not None
    assert found.high - found.low > high - low
    assert "on 10 planned renewals (40 lines) vs 10 control renewals (10 lines)" in (
        found.sentence()
    )


def test_the_next_renewal_of_the_same_account_is_another_outcome() -> None:
    lines = weekly_lines({"p0": 2}, ["c0"], {"c0"})
    later = lines.iloc[[0]].assign(renewal_date=RENEWAL + pd.DateOffset(years=1), churn=1.0)
    (found,) = measure_actions(pd.concat([lines, later], ignore_index=True))
    assert (found.planned, found.planned_lines, found.planned_churned) == (2, 3, 1)


def test_a_renewal_with_lines_in_both_arms_is_left_out_and_counted() -> None:
    # p9 was planned one week and drawn as a control the next, before the same renewal.
    lines = weekly_lines({f"p{i}": 2 for i in range(10)}, ["c0", "c1", "p9"], {"p9", "c0"})
    (found,) = measure_actions(lines)
    assert found.contaminated == 1
    assert (found.planned, found.planned_lines, found.planned_churned) == (9, 18, 0)
    assert (found.control, found.control_lines, found.control_churned) == (2, 2, 1)
    assert "left out: 1 renewal in both arms" in found.sentence()


def test_planned_lines_that_could_not_be_held_back_are_not_compared() -> None:
    # An account already given the action is planned with probability 1.0: it was never at
    # risk of being a control, so its renewal is not part of the randomized comparison.
    lines = weekly_lines({"p0": 1, "p1": 1}, ["c0"], {"c0", "s0", "s1"})
    certain = pd.DataFrame(
        {"account_id": ["s0", "s1", "p0"], "arm": "planned", "probability": 1.0}
    ).assign(action="business_review", renewal_date=RENEWAL)
    certain["churn"] = certain["account_id"].isin({"s0", "s1"}).astype(float)
    (found,) = measure_actions(pd.concat([lines, certain], ignore_index=True))
    assert (found.planned, found.planned_lines, found.planned_churned) == (2, 2, 0)
    assert found.certain == 3 and found.contaminated == 0
    assert found.effect == pytest.approx(-1.0)
    assert "left out: 3 lines planned with certainty" in found.sentence()


def test_a_control_renewal_planned_with_certainty_later_is_contaminated() -> None:
    lines = weekly_lines({"p0": 1}, ["c0", "c1"], set())
    late = lines[lines["account_id"] == "c1"].assign(arm="planned", probability=1.0)
    (found,) = measure_actions(pd.concat([lines, late], ignore_index=True))
    assert (found.control, found.contaminated, found.certain) == (1, 1, 1)


def test_the_model_estimate_is_averaged_over_renewals_not_lines() -> None:
    lines = weekly_lines({"p0": 3, "p1": 1}, ["c0"], set())
    lines["expected_effect"] = np.where(lines["account_id"] == "p0", -0.1, -0.02)
    (found,) = measure_actions(lines)
    assert found.observational == pytest.approx((-0.1 - 0.02 - 0.02) / 3)


def test_the_slice_size_agrees_with_statsmodels() -> None:
    from statsmodels.stats.proportion import samplesize_proportions_2indep_onetail

    for effect, planned, ratio in [
        (-0.05, 0.25, 19),
        (-0.08, 0.22, 4),
        (0.03, 0.3, 1),
        (-0.02, 0.1, 9),
    ]:
        # statsmodels' sample 1 is the control (churn planned - effect), sample 2 = ratio x it
        theirs = samplesize_proportions_2indep_onetail(-effect, planned, POWER, ratio=ratio)
        assert controls_needed(effect, planned, ratio) == int(np.ceil(theirs))
    assert controls_needed(0.0, 0.2, 4) is None
    assert controls_needed(-0.05, 0.2, 0) is None


def test_a_slice_of_the_sized_length_shows_the_effect_about_as_often_as_promised() -> None:
    rng = np.random.default_rng(3)
    effect, planned, ratio = -0.08, 0.22, 4
    needed = controls_needed(effect, planned, ratio)
    assert needed is not None

    def shown(controls: int) -> float:
        hits = 0
        for _ in range(300):
            x1 = int(rng.binomial(controls * ratio, planned))
            x2 = int(rng.binomial(controls, planned - effect))
            hits += newcombe(x1, controls * ratio, x2, controls)[1] < 0
        return hits / 300

    assert 0.72 <= shown(needed) <= 0.88  # POWER is 0.8
    assert shown(needed // 3) < 0.5  # a third of it is far too few


def test_the_sentence_says_how_many_control_renewals_the_model_effect_needs() -> None:
    planned = {f"p{i}": 1 for i in range(40)}
    control = [f"c{i}" for i in range(10)]
    churned = {f"p{i}" for i in range(8)} | {"c0", "c1", "c2"}
    lines = weekly_lines(planned, control, churned).assign(expected_effect=-0.06)
    (found,) = measure_actions(lines)
    needed = controls_needed(-0.06, 8 / 40, 40 / 10)
    assert needed is not None and needed > 10
    assert found.controls_needed() == needed
    assert (
        f"telling that from none (95%, power 80%) takes about {needed} control renewals"
        " at this split (10 so far)" in found.sentence()
    )
    small = weekly_lines(planned, control, churned).assign(expected_effect=-0.9)
    (found,) = measure_actions(small)
    assert found.sentence().endswith("at this split (enough).")
