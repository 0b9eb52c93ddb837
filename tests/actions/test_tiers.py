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
