"""The family of simulated worlds: a structure seed draws the causal structure apart from data."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from features.contract import ACTION_CODES
from simulator import risk
from simulator.risk import RiskState
from simulator.structure import TODAY, Structure, draw_structure, structure_for
from simulator.world import simulate


def _states(n: int = 400, seed: int = 0) -> RiskState:
    rng = np.random.default_rng(seed)
    return RiskState(
        key_gone=(rng.random(n) < 0.3).astype(float),
        modules=rng.integers(1, 9, n).astype(float),
        kpi_shortfall=rng.uniform(0, 0.5, n),
        kpi_miss=(rng.random(n) < 0.3).astype(float),
        no_first_value=(rng.random(n) < 0.2).astype(float),
        storm=(rng.random(n) < 0.2).astype(float),
        support_scar=rng.uniform(0, 1.5, n),
        engagement=rng.uniform(0, 1, n),
        term_noise=rng.normal(0, 0.35, n),
        term_shift=np.zeros(n),
    )


def test_none_is_todays_structure_with_the_documented_logit() -> None:
    s = _states()
    assert structure_for(None) is TODAY
    assert Structure() == TODAY
    documented = (
        -2.9
        + 1.8 * s.key_gone
        + 1.3 * np.maximum(0.0, 4.0 - s.modules) / 3.0
        + 3.0 * s.kpi_shortfall
        + 0.7 * s.kpi_miss
        + 1.5 * s.no_first_value
        + 1.0 * s.storm
        + s.support_scar
        - 1.5 * (s.engagement - 0.75)
    )
    np.testing.assert_array_equal(risk.observed_logit(s), documented)


def test_todays_actions_do_what_the_risk_docstring_says() -> None:
    s = _states()
    bad = risk.unhealthy(s)
    review = risk.apply_action(s, "business_review", TODAY, np.zeros(len(bad), "int64"))
    np.testing.assert_array_equal(review.term_shift, -0.1 - 0.9 * s.kpi_miss)
    upsell = risk.apply_action(s, "upsell_offer")
    np.testing.assert_array_equal(upsell.term_shift, np.where(bad, 0.7, -0.03))
    named = risk.apply_action(s, "key_user_replacement")
    assert named.key_gone.sum() == 0 and s.key_gone.sum() > 0
    escalated = risk.apply_action(s, "support_escalation")
    np.testing.assert_array_equal(escalated.support_scar, 0.5 * s.support_scar)


def test_structure_seeds_are_reproducible_and_differ() -> None:
    assert draw_structure(3) == draw_structure(3)
    assert draw_structure(3) != draw_structure(4)
    assert draw_structure(3) != TODAY


@pytest.mark.parametrize("seed", range(1, 9))
def test_every_drawn_world_keeps_the_family_rules(seed: int) -> None:
    structure = draw_structure(seed)
    upsell = structure.action("upsell_offer")
    assert upsell.shift_unhealthy > 0  # a pitch irritates an unhappy account
    assert upsell.shift_healthy <= 0
    assert sum(structure.mix.size_shares) == pytest.approx(1.0)
    assert structure.mix.size_shares[0] >= 0.45  # many small accounts
    assert {code for code, _ in structure.actions} == set(ACTION_CODES)


def test_effects_scale_with_account_size_in_a_drawn_world() -> None:
    structure = next(
        draw_structure(k)
        for k in range(1, 50)
        if draw_structure(k).action("health_check").shift_healthy < 0
    )
    s = _states()
    small = risk.apply_action(s, "health_check", structure, np.zeros(len(s.modules), "int64"))
    large = risk.apply_action(s, "health_check", structure, np.full(len(s.modules), 2))
    factor = structure.action("health_check").size_factor
    np.testing.assert_allclose(large.term_shift / small.term_shift, factor[2] / factor[0])


@pytest.fixture(scope="module")
def worlds() -> dict[str, object]:
    return {
        "a": simulate(80, seed=5, months=5, structure_seed=1),
        "a_again": simulate(80, seed=5, months=5, structure_seed=1),
        "b": simulate(80, seed=5, months=5, structure_seed=2),
    }


def test_the_same_seeds_give_the_same_world(worlds: dict) -> None:
    first, again = worlds["a"], worlds["a_again"]
    assert first.structure == again.structure == draw_structure(1)
    for group in ("tables", "truth"):
        for name, frame in getattr(first, group).items():
            pd.testing.assert_frame_equal(frame, getattr(again, group)[name])


def test_two_structure_seeds_give_different_true_effect_tables(worlds: dict) -> None:
    def table(world) -> pd.Series:
        return world.truth["action_effects"].groupby("action")["effect"].mean()

    a, b = table(worlds["a"]), table(worlds["b"])
    assert set(a.index) == set(ACTION_CODES) == set(b.index)
    assert np.abs(a - b).max() > 0.005


def test_structure_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        TODAY.upsell_offer_boost = 2.0  # type: ignore[misc]
