"""The closed loop's parts: who follows which line, the arms' plan settings, the scoring."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from actions.plan_config import load_plan_config
from features.contract import ACTION_CODES
from store import Store, Touchpoint
from training.closed_loop import (
    LoopSettings,
    arm_plan_config,
    follow_plan,
    lines_followed,
    stored_plan,
)
from training.closed_loop_score import line_claims, score_month
from training.uplift.model import ActionEffect

MONTH = datetime(2025, 3, 1)


def plan_lines(n: int) -> pd.DataFrame:
    arms = np.array(["planned", "control", "random"])[np.arange(n) % 3]
    return pd.DataFrame(
        {
            "account_id": [f"acc_{i:05d}" for i in range(n)],
            "csm": "Dana Kim",
            "action": np.array(ACTION_CODES)[np.arange(n) % len(ACTION_CODES)],
            "arm": arms,
            "probability": np.where(arms == "planned", 0.9, 0.1),
            "saved_arr": 100.0,
            "hours": 1.0,
            "why": "because",
        }
    )


def test_planned_and_random_lines_are_done_with_the_follow_chance_and_never_a_control() -> None:
    lines = plan_lines(6000)
    done = follow_plan(lines, follow=0.7, seed=5, month=MONTH)
    by_account = lines.set_index("account_id")
    arms = by_account.loc[list(done), "arm"]
    assert "control" not in set(arms)
    assert all(by_account.at[a, "action"] == action for a, action in done.items())
    doable = (lines["arm"] != "control").sum()
    assert len(done) / doable == pytest.approx(0.7, abs=0.03)
    assert follow_plan(lines, 0.7, 5, MONTH) == done  # the same draw again
    assert len(follow_plan(lines, 1.0, 5, MONTH)) == doable
    assert follow_plan(lines, 0.0, 5, MONTH) == {}


def test_a_team_that_senses_hidden_risk_does_the_troubled_accounts_lines_more_often() -> None:
    lines = plan_lines(6000)
    doable = lines[lines["arm"] != "control"]
    rng = np.random.default_rng(0)
    sensed = dict(zip(lines["account_id"], rng.uniform(0.02, 0.9, len(lines)), strict=True))
    done = follow_plan(lines, 0.7, 5, MONTH, sensed, sense=2.0)
    assert "control" not in set(lines.set_index("account_id").loc[list(done), "arm"])
    churn = doable["account_id"].map(sensed)
    did = doable["account_id"].isin(list(done))
    assert churn[did].mean() > churn[~did].mean() + 0.1  # the skipped ones felt fine
    assert 0.55 < did.mean() < 0.85  # about as many lines done overall
    # without sense, or without what was sensed, the draw is the plain one
    plain = follow_plan(lines, 0.7, 5, MONTH)
    assert follow_plan(lines, 0.7, 5, MONTH, sensed, sense=0.0) == plain
    assert follow_plan(lines, 0.7, 5, MONTH, None, sense=2.0) == plain
    assert len(follow_plan(lines, 1.0, 5, MONTH, sensed, sense=2.0)) == len(doable)


def test_the_report_says_how_the_team_strays_from_the_plan() -> None:
    from training.closed_loop_score import LoopReport

    plain = LoopReport(LoopSettings(), {}).describe()
    assert "senses" not in plain and "own team" not in plain
    strays = LoopReport(LoopSettings(sense=1.5, own_team=0.3), {}).describe()
    assert "senses risk the data does not show (x1.5)" in strays
    assert "own team also acts where the plan does not (30%)" in strays


def test_only_the_randomized_arm_keeps_randomized_slices() -> None:
    base = load_plan_config()
    settings = LoopSettings()
    randomized = arm_plan_config(base, "randomized", settings).experiments
    assert randomized.control_share == base.experiments.control_share > 0
    assert randomized.random_share == base.experiments.random_share > 0
    for arm in ("not_randomized", "playbook"):
        experiments = arm_plan_config(base, arm, settings).experiments
        assert experiments.control_share == experiments.random_share == 0
        assert all(experiments.control(a) == 0 for a in ACTION_CODES)
    wide = LoopSettings(control_share=0.3, random_share=0.25)
    assert arm_plan_config(base, "randomized", wide).experiments.random_share == 0.25
    assert arm_plan_config(base, "not_randomized", wide).experiments.random_share == 0
    with pytest.raises(ValueError, match="random_share"):
        arm_plan_config(base, "randomized", LoopSettings(random_share=0.9))


def test_settings_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="unknown arms"):
        LoopSettings(arms=("randomised",))
    with pytest.raises(ValueError, match="follow"):
        LoopSettings(follow=1.5)


def effect(values: list[float], learned: list[bool]) -> ActionEffect:
    basis = np.where(learned, "learned", "playbook")
    return ActionEffect(np.where(learned, values, np.nan), np.zeros(len(values)), basis, basis)


def test_a_month_is_scored_on_the_true_effects_of_what_was_done() -> None:
    accounts = ["a", "b"]
    truth = pd.DataFrame(
        [(a, action, -0.10 if a == "a" else 0.02) for a in accounts for action in ACTION_CODES],
        columns=["account_id", "action", "effect"],
    )
    scored = pd.DataFrame({"account_id": accounts, "arr": [10_000.0, 50_000.0]})
    done = pd.DataFrame({"account_id": ["a", "b"], "type": ["training", "health_check"]})
    learned = {"training": effect([-0.05, 0.02], [True, True])}
    costs = {"training": 150.0, "health_check": 50.0}
    month = score_month("randomized", MONTH, scored, learned, truth, done, costs)
    assert month.saved_arr == pytest.approx(0.10 * 10_000 - 0.02 * 50_000)
    assert month.saved_arr_net == pytest.approx(month.saved_arr - 200.0)
    # training: errors 5 and 0 pts; every other action unknown (0): 10 and 2 pts
    others = (len(ACTION_CODES) - 1) * (10 + 2)
    assert month.mae_pts == pytest.approx((5 + 0 + others) / (2 * len(ACTION_CODES)))
    assert month.mae_learned_pts == pytest.approx(2.5)
    assert month.learned_share == pytest.approx(1 / len(ACTION_CODES))
    assert month.mae_by_action["training"] == pytest.approx(2.5)
    assert np.isnan(month.rank_correlation)  # too few learned accounts to rank
    assert np.isnan(month.average_error_pts)
    assert np.isnan(month.mae_history_pts)  # no effects without selection_bias given
    # the effects as history alone shows them (before selection_bias): training -0.10, +0.02
    alone = {"training": effect([-0.10, 0.02], [True, True])}
    month = score_month("randomized", MONTH, scored, learned, truth, done, costs, alone)
    assert month.mae_history_pts == pytest.approx(others / (2 * len(ACTION_CODES)))
    assert month.zero_error_pts == pytest.approx(6.0)  # |-10| and |+2| pts for every action
    assert month.mae_pts == pytest.approx((5 + 0 + others) / (2 * len(ACTION_CODES)))


def test_the_done_plan_lines_are_judged_at_their_chosen_stated_and_true_values() -> None:
    lines = plan_lines(6).assign(  # planned, control, random, planned, control, random
        saved_arr=[900.0, 800.0, 700.0, 600.0, 500.0, 400.0],
        expected_saved_arr=[300.0, 200.0, 100.0, -50.0, 0.0, 10.0],
    )
    truth = pd.DataFrame(
        [(a, action, -0.01) for a in lines["account_id"] for action in ACTION_CODES],
        columns=["account_id", "action", "effect"],
    )
    # done: line 0, the control's account (not its line's action: never a control), line 3,
    # and line 5's account with another action than its line's (not the plan's)
    done = pd.DataFrame(
        {
            "account_id": lines["account_id"].iloc[[0, 1, 3, 5]].tolist(),
            "type": [lines["action"].iloc[0], lines["action"].iloc[1], lines["action"].iloc[3],
                     "health_check" if lines["action"].iloc[5] != "health_check" else "training"],
        }
    )  # fmt: skip
    arr = pd.Series(20_000.0, index=lines["account_id"])
    costs = {a: 100.0 for a in ACTION_CODES}
    chosen, stated, true = line_claims(lines, done, truth, arr, costs)
    assert chosen == pytest.approx(900.0 + 600.0)
    assert stated == pytest.approx(300.0 - 50.0)
    assert true == pytest.approx(2 * (0.01 * 20_000 - 100.0))


def test_the_average_effect_error_is_per_learned_action() -> None:
    n = 40
    accounts = [f"a{i}" for i in range(n)]
    true = np.linspace(-0.1, 0.0, n)
    truth = pd.DataFrame(
        [(a, action, t) for a, t in zip(accounts, true, strict=True) for action in ACTION_CODES],
        columns=["account_id", "action", "effect"],
    )
    scored = pd.DataFrame({"account_id": accounts, "arr": 1000.0})
    shifted = list(true[::-1] + 0.01)  # right on average but for 1 pt, ranked backwards
    learned = {"training": effect(shifted, [True] * n)}
    nothing = pd.DataFrame(columns=["account_id", "type"])
    month = score_month("randomized", MONTH, scored, learned, truth, nothing, {})
    assert month.average_error_pts == pytest.approx(1.0)
    assert month.rank_correlation == pytest.approx(-1.0)
    assert month.saved_arr == 0.0


def test_the_plan_and_the_touchpoints_that_follow_it_land_in_the_store(tmp_path) -> None:  # noqa: ANN001
    lines = plan_lines(6)
    with Store(f"sqlite:///{tmp_path / 'loop.db'}") as store:
        assert store.save_plan(stored_plan("randomized-2025-03-01", MONTH, lines, 600.0))
        stored = store.plan_lines(MONTH.date())
        assert sorted(stored["arm"]) == sorted(lines["arm"])
        line = stored["plan_line_id"].iloc[0]
        store.add_touchpoint(
            Touchpoint("tp_0000001", "acc_00000", MONTH, "onboarding_push", plan_line_id=line)
        )
        assert list(store.touchpoints()["plan_line_id"]) == [line]


def test_only_a_lines_own_action_follows_it_and_never_a_controls(tmp_path) -> None:  # noqa: ANN001
    # The store now refuses a touchpoint that contradicts its line (the fifth audit), and
    # the loop gave every touchpoint of a planned account that account's line: with
    # `own_team`, the world's own team acting on a control account stopped the loop.
    lines = plan_lines(6)  # planned, control, random, planned, control, random
    plan_id = "randomized-2025-03-01"
    followed = lines_followed(plan_id, lines)
    with Store(f"sqlite:///{tmp_path / 'loop.db'}") as store:
        store.save_plan(stored_plan(plan_id, MONTH, lines, 600.0))
        for i, row in enumerate(lines.to_dict("records")):
            other = next(a for a in ACTION_CODES if a != row["action"])
            for n, action in enumerate((row["action"], other)):
                account = str(row["account_id"])
                store.add_touchpoint(
                    Touchpoint(
                        f"tp_{i}_{n}", account, MONTH, action,
                        plan_line_id=followed.get((account, action)),
                    )
                )  # fmt: skip
        recorded = store.touchpoints().set_index("touchpoint_id")["plan_line_id"]
    assert recorded.notna().sum() == 4  # the own action of the planned and random lines
    doing = lines[lines["arm"] != "control"]["account_id"]
    assert {recorded[f"tp_{i}_0"] for i in doing.index} == {f"{plan_id}-{a}" for a in doing}
