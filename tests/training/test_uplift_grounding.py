"""Grounding learned effects in the plans' randomized slice: the estimate, the shrink, the move."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.uplift.grounding import ground, randomized_effects, shifts
from training.uplift.model import ActionEffect


def _lines(
    n: int, control: float, churn_planned: float, churn_control: float, seed: int
) -> pd.DataFrame:
    """`n` lines of one action, a share `control` held back, churn drawn per arm."""
    rng = np.random.default_rng(seed)
    held = rng.random(n) < control
    churn = rng.random(n) < np.where(held, churn_control, churn_planned)
    return pd.DataFrame(
        {
            "action": "training",
            "arm": np.where(held, "control", "planned"),
            "probability": np.where(held, control, 1.0 - control),
            "churn": churn.astype(float),
            "done": ~held,
            "expected_effect": 0.10,  # the confounded model: it looks harmful
        }
    )


def test_the_randomized_effect_is_planned_minus_control_churn_over_the_share_done():
    lines = _lines(20_000, 0.2, 0.10, 0.30, seed=1)
    planned = lines["arm"] == "planned"
    lines.loc[planned, "done"] = np.arange(planned.sum()) % 5 != 0  # the team did 80%
    (found,) = randomized_effects(lines)
    assert found.done_share == pytest.approx(0.8, abs=0.01)
    assert found.effect == pytest.approx((0.10 - 0.30) / 0.8, abs=0.02)
    assert 0.005 < found.se < 0.02
    assert found.expected == pytest.approx(0.10)


def test_weeks_planned_with_different_shares_are_weighed_by_their_stored_probability():
    # the action does nothing; week one held back half its lines from accounts churning at
    # 50%, week two a tenth from accounts churning at 5%: a plain difference of shares mixes
    # the weeks differently in each arm and shows a large effect that is not there
    risky = _lines(20_000, 0.5, 0.50, 0.50, seed=2)
    safe = _lines(20_000, 0.1, 0.05, 0.05, seed=3)
    lines = pd.concat([risky, safe], ignore_index=True)
    (found,) = randomized_effects(lines)
    assert found.effect == pytest.approx(0.0, abs=0.02)
    known = lines[lines["churn"].notna()]
    plain = (
        known.loc[known["arm"] == "planned", "churn"].mean()
        - known.loc[known["arm"] == "control", "churn"].mean()
    )
    assert plain < -0.15  # what ignoring the probabilities would have said


def test_unknown_renewals_random_lines_and_thin_actions_are_left_out():
    lines = _lines(400, 0.2, 0.1, 0.3, seed=4)
    lines.loc[:199, "churn"] = np.nan  # renewals not decided yet
    thin = _lines(8, 0.5, 0.1, 0.3, seed=5).assign(action="health_check")
    random = _lines(50, 0.2, 0.1, 0.3, seed=6).assign(action="business_review", arm="random")
    found = randomized_effects(pd.concat([lines, thin, random], ignore_index=True))
    assert [f.action for f in found] == ["training"]
    assert found[0].planned + found[0].control == 200


def test_the_shift_is_shrunk_by_the_slice_s_uncertainty():
    few = randomized_effects(_lines(60, 0.2, 0.10, 0.30, seed=7))
    many = randomized_effects(_lines(40_000, 0.2, 0.10, 0.30, seed=8))
    gap = many[0].effect - many[0].expected  # about -0.3: the model's bias
    assert shifts(many)["training"] == pytest.approx(gap, abs=0.01)  # many lines decide
    assert abs(shifts(few)["training"]) < 0.6 * abs(few[0].effect - few[0].expected)


def test_ground_moves_learned_effects_and_their_bounds_not_playbook_ones():
    basis = np.array(["learned", "playbook", "learned"], dtype=object)
    effect = np.array([0.05, np.nan, -0.02])
    found = ActionEffect(
        effect, np.full(3, 0.01), basis, basis, effect + 0.0128, None, effect + 0.0
    )
    other = ActionEffect(effect, np.full(3, 0.01), basis, basis)
    moved = ground({"training": found, "health_check": other}, {"training": -0.04})
    np.testing.assert_allclose(moved["training"].effect, [0.01, np.nan, -0.06])
    np.testing.assert_allclose(moved["training"].pessimistic, [0.0228, np.nan, -0.0472])
    np.testing.assert_allclose(moved["training"].pessimistic_suggested, [0.01, np.nan, -0.06])
    assert moved["health_check"] is other
    assert found.effect[0] == 0.05  # the model's own arrays are not changed
