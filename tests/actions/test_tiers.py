"""Risk tiers: one definition, the same answer one at a time and in bulk."""

from __future__ import annotations

import numpy as np

from actions.tiers import cut_points, risk_tier, risk_tier_cuts, risk_tiers


def test_cut_points_split_accounts_by_share():
    p = np.linspace(0, 1, 1001)
    cuts = cut_points(p, 0.1, 0.2)
    assert abs(np.mean(p >= cuts["high"]) - 0.1) < 0.002
    assert abs(np.mean(p >= cuts["medium"]) - 0.3) < 0.002


def test_one_at_a_time_equals_in_bulk_and_cuts_are_inclusive():
    cuts = {"high": 0.5, "medium": 0.2}
    p = np.array([0.0, 0.19, 0.2, 0.49, 0.5, 0.9])
    assert list(risk_tiers(p, cuts)) == [risk_tier(float(x), cuts) for x in p]
    assert list(risk_tiers(p, cuts)) == ["low", "low", "medium", "medium", "high", "high"]
    assert risk_tier_cuts((0.5, 0.2)) == cuts


def test_without_ties_the_cuts_are_the_quantiles():
    p = np.random.default_rng(3).beta(1, 6, 2_000)
    cuts = cut_points(p, 0.1, 0.2)
    assert cuts == {"high": np.quantile(p, 0.9), "medium": np.quantile(p, 0.7)}


def test_accounts_with_one_score_get_one_tier():
    """Tenth audit: 398 of 1,173 accounts had one score, the cut was that score, medium was
    empty, 38% were high, and equal scores read "high" or "low" by their 16th digit."""
    rng = np.random.default_rng(0)
    block = 0.14618051562427983 + rng.choice([0.0, -1.1e-16, 1.1e-16], 398)
    above, below = rng.uniform(0.2, 0.6, 129), rng.uniform(0.01, 0.14, 646)
    p = np.r_[above, block, below]
    cuts = cut_points(p, 0.1, 0.2)
    assert set(risk_tiers(block, cuts)) == {"medium"}  # the block on one side, whatever its digits
    tiers = risk_tiers(p, cuts)
    assert abs(np.mean(tiers == "high") - 0.1) < 0.01
    # the block goes where the share is nearest: 45% at risk is nearer 30% than 11% is
    assert np.mean(tiers != "low") == (129 + 398) / len(p)
    # a score of the block met later, with other last digits, is read the same
    assert risk_tier(0.14618051562427983 + 2e-16, cuts) == risk_tier(0.14618051562427983, cuts)


def test_a_block_too_large_for_a_tier_stays_out_of_it():
    p = np.r_[np.linspace(0.2, 0.6, 100), np.full(900, 0.05)]
    tiers = risk_tiers(p, cut_points(p, 0.1, 0.2))
    # 10% at risk is nearer 30% than 100% is: medium stays empty rather than taking everyone
    assert list(np.unique(tiers, return_counts=True)[1]) == [100, 900]
    assert set(tiers[100:]) == {"low"}


def test_a_quantile_on_one_account_is_kept():
    p = np.linspace(0, 1, 11)  # the 90th percentile is exactly the score of one account
    assert cut_points(p, 0.1, 0.2) == {"high": np.quantile(p, 0.9), "medium": np.quantile(p, 0.7)}
