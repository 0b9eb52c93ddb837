"""Risk tiers: one definition, the same answer one at a time and in bulk."""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def test_each_term_class_holds_its_share_of_each_tier():
    from actions.tiers import MIN_CLASS_ROWS, term_days

    # annual accounts at 2-30% at their renewal, monthly ones at 0.2-3% at theirs
    rng = np.random.default_rng(0)
    annual, monthly = rng.uniform(0.02, 0.30, 700), rng.uniform(0.002, 0.03, 300)
    p = np.concatenate([annual, monthly])
    days = np.concatenate([np.full(700, 365.0), np.full(300, 30.4)])
    book = pd.DataFrame({"churn": p, "term_length_days": days})
    assert list(term_days(book)) == list(days) and term_days(book[["churn"]]) is None
    pooled, per_class = cut_points(p, 0.1, 0.2), cut_points(p, 0.1, 0.2, days)
    assert (risk_tiers(monthly, pooled) == "low").all()  # one set of cuts starves a class
    tiers = risk_tiers(p, per_class, days)
    for part in (slice(0, 700), slice(700, None)):
        assert abs(np.mean(tiers[part] == "high") - 0.1) < 0.01
        assert abs(np.mean(tiers[part] != "low") - 0.3) < 0.01
    # the long terms keep the cuts a book of long terms alone would get
    assert {k: per_class[k] for k in ("high", "medium")} == cut_points(annual, 0.1, 0.2)
    # one at a time equals in bulk; an unknown term is read as long
    assert [risk_tier(float(x), per_class, d) for x, d in zip(p, days, strict=True)] == list(tiers)
    assert risk_tier(0.025, per_class, None) == risk_tier(0.025, per_class, float("nan")) == "low"
    # a class with too few accounts is cut with the whole book
    few = np.concatenate([np.full(700, 365.0), np.full(MIN_CLASS_ROWS - 1, 30.4)])
    assert cut_points(p[: len(few)], 0.1, 0.2, few) == cut_points(p[: len(few)], 0.1, 0.2)
    # cuts saved before term classes (two keys) tier every term alike
    assert risk_tier(0.5, pooled, 30.4) == risk_tier(0.5, pooled) == "high"
