"""The simulator's dominant cause of churn risk: per account and month, from its latent state."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from features.definitions import FAMILIES
from simulator import causes, risk
from simulator.risk import RiskState
from simulator.world import simulate


def _healthy(n: int) -> RiskState:
    """Accounts with nothing wrong: key users in place, every module, KPIs met, engaged."""
    zeros = np.zeros(n)
    return RiskState(
        key_gone=zeros.copy(),
        modules=np.full(n, 6.0),
        kpi_shortfall=zeros.copy(),
        kpi_miss=zeros.copy(),
        no_first_value=zeros.copy(),
        storm=zeros.copy(),
        support_scar=zeros.copy(),
        engagement=np.full(n, 0.9),
        term_noise=zeros.copy(),
        term_shift=zeros.copy(),
    )


def test_each_planted_problem_is_the_dominant_cause() -> None:
    state = replace(
        _healthy(7),
        key_gone=np.array([1.0, 0, 0, 0, 0, 0, 0]),
        engagement=np.array([0.9, 0.2, 0.9, 0.9, 0.9, 0.9, 0.9]),
        modules=np.array([6.0, 6, 1, 6, 6, 6, 6]),
        kpi_shortfall=np.array([0, 0, 0, 0.3, 0, 0, 0]),
        kpi_miss=np.array([0, 0, 0, 1.0, 0, 0, 0]),
        no_first_value=np.array([0, 0, 0, 0, 1.0, 0, 0]),
        storm=np.array([0, 0, 0, 0, 0, 1.0, 0]),
        support_scar=np.array([0, 0, 0, 0, 0, 1.0, 0]),
    )
    found = causes.dominant(causes.contributions(state))
    assert found.tolist() == [
        "key_user_gone",
        "low_usage",
        "low_adoption",
        "kpi_shortfall",
        "no_first_value",
        "support_storm",
        causes.NONE,
    ]


def test_the_larger_of_two_causes_wins_and_noise_is_no_cause() -> None:
    state = replace(
        _healthy(2),
        key_gone=np.array([1.0, 0.0]),
        storm=np.array([1.0, 0.0]),
        support_scar=np.array([1.5, 0.0]),
        term_noise=np.array([0.0, 3.0]),  # a risky term no data shows
        term_shift=np.array([0.0, 1.0]),
    )
    parts = causes.contributions(state)
    assert parts["support_storm"][0] > parts["key_user_gone"][0] > 0
    assert causes.dominant(parts).tolist() == ["support_storm", causes.NONE]


def test_contributions_follow_the_logit_the_world_uses() -> None:
    """Another causal structure (here: a key user matters 3x as much) moves the diagnosis."""
    state = replace(_healthy(1), key_gone=np.array([1.0]), storm=np.array([1.0]))
    assert causes.dominant(causes.contributions(state)).tolist() == ["key_user_gone"]

    def storms_matter_more(s: RiskState) -> np.ndarray:
        return risk.observed_logit(s) + 3.0 * s.storm

    parts = causes.contributions(state, storms_matter_more)
    assert causes.dominant(parts).tolist() == ["support_storm"]


def test_every_cause_maps_to_a_feature_family() -> None:
    assert set(causes.CAUSE_FAMILY.values()) <= set(FAMILIES)
    assert len(causes.CAUSE_FAMILY) == len(causes.CAUSES)


@pytest.fixture(scope="module")
def small_world():
    return simulate(80, seed=5, months=6)


def test_the_world_writes_a_cause_for_every_truth_row(small_world) -> None:
    truth = small_world.truth
    found = truth["causes"]
    keys = ["account_id", "as_of"]
    assert len(found) == len(truth["churn"]) > 0
    assert found[keys].merge(truth["churn"][keys], on=keys).shape[0] == len(found)
    assert set(found["dominant_cause"]) <= {c.name for c in causes.CAUSES} | {causes.NONE}
    assert (found["dominant_cause"] != causes.NONE).any()


def test_a_key_user_gone_cause_matches_the_users_table(small_world) -> None:
    """Where the truth says the key user is gone, no key user has an active login then."""
    found = small_world.truth["causes"]
    users = small_world.tables["users"]
    gone = found[found["contribution_key_user_gone"] > 0]
    kept = found[found["contribution_key_user_gone"] == 0]
    assert len(gone) > 0 and len(kept) > 0

    def active_keys(row: pd.Series) -> int:
        mine = users[(users["account_id"] == row["account_id"]) & users["is_key_user"]]
        on = (mine["created_at"] <= row["as_of"]) & (
            mine["deactivated_at"].isna() | (mine["deactivated_at"] > row["as_of"])
        )
        return int(on.sum())

    assert all(active_keys(row) == 0 for _, row in gone.iterrows())
    assert sum(active_keys(row) > 0 for _, row in kept.iterrows()) > 0.9 * len(kept)
