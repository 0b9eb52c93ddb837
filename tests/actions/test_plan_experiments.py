"""The randomized slice's estimate: planned minus control churn, with Newcombe's interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from actions.plan_experiments import measure_actions, newcombe


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
            "arm": np.where(control, "control", "planned"),
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
        {"action": ["training"] * 3, "arm": ["planned", "planned", "random"], "churn": [0, 1, 0]}
    )
    (found,) = measure_actions(lines)
    assert found.effect is None and found.random == 1
    assert "nothing to judge yet (no control line" in found.sentence()
