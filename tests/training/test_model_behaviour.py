"""Behavioural tests of the trained churn model on real snapshots of a simulated world.

Directional: a key user going quiet, a KPI falling below target and a support storm each
raise churn risk. Invariance: renaming every id in the source tables (and shuffling their
rows) changes no score. Minimum
functionality: an account with every alarm is high risk. Features are perturbed by their
names in `features.definitions`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.definitions import feature

pytestmark = pytest.mark.slow

Change = Callable[[pd.Series], pd.Series]

KEY_USER_QUIET: dict[str, Change] = {
    "key_users_active_30d": lambda s: s * 0,
    "key_user_active_share_30d": lambda s: s * 0,
    "key_user_event_share_30d": lambda s: s * 0,
    "days_since_key_user_active": lambda s: s.fillna(0).clip(lower=75),
    "key_users_lost_90d": lambda s: s.fillna(0) + 1,
    "key_users_lost_unreplaced_90d": lambda s: s.fillna(0) + 1,
}
# Each change only ever makes an account look worse (an account already far below target
# keeps its figure), so "risk rises" is asked only where the alarm actually went off.
KPI_BELOW_TARGET: dict[str, Change] = {
    "kpi_attainment_latest": lambda s: s.clip(upper=0.45),
    "kpi_attainment_mean_180d": lambda s: s.clip(upper=0.55),
    "kpi_attainment_change": lambda s: s.clip(upper=-0.3),
    "kpi_share_below_target_latest": lambda s: s * 0 + 1.0,
    "kpi_periods_below_target_180d": lambda s: s.clip(lower=6),
}
SUPPORT_STORM: dict[str, Change] = {
    "open_tickets": lambda s: s + 4,
    "open_tickets_high": lambda s: s + 2,
    "open_tickets_urgent": lambda s: s + 1,
    "tickets_opened_30d": lambda s: s + 4,
    "tickets_opened_90d": lambda s: s + 6,
    "oldest_open_ticket_days": lambda s: s.clip(lower=25),
    "bug_share_90d": lambda s: s * 0 + 0.8,
    "csat_mean_180d": lambda s: s * 0 + 2.0,
}
# A quiet account is quiet in every usage measure: a 90% drop in 30-day events beside
# unchanged active days, value events and usage hours would be an account no data shows.
# The value and action shares drop too: what little use is left is page views.
QUIET_USAGE = (
    "events_7d",
    "events_90d",
    "active_users_7d",
    "active_users_90d",
    "active_days_7d",
    "active_days_30d",
    "active_days_90d",
    "value_events_30d",
    "value_events_90d",
    "value_events_per_active_user_30d",
    "value_share_30d",
    "value_share_90d",
    "action_share_30d",
    "usage_hours_30d",
    "usage_hours_90d",
    "usage_minutes_per_active_user_30d",
)
DISENGAGED: dict[str, Change] = {
    **{name: (lambda s: s * 0.1) for name in QUIET_USAGE},
    "first_value_reached": lambda s: s * 0,
    "first_value_overdue": lambda s: s * 0 + 1,
    "modules_used_30d": lambda s: s * 0 + 1,
    "modules_used_90d": lambda s: s * 0 + 1,
    "module_coverage_90d": lambda s: s * 0 + 0.125,
    "features_used_30d": lambda s: s * 0 + 2,
    "features_used_90d": lambda s: s * 0 + 3,
    "feature_coverage_90d": lambda s: s * 0 + 0.1,
    "events_change_30d": lambda s: s * 0 - 0.8,
    "events_30d": lambda s: s * 0.1,
    "events_per_active_user_30d": lambda s: s * 0.3,
    "active_users_30d": lambda s: s.clip(upper=1),
    "active_user_share_30d": lambda s: s * 0 + 0.1,
    "seat_utilization_30d": lambda s: s * 0 + 0.05,
    "days_since_last_activity": lambda s: s.clip(lower=20),
    "nps_mean_180d": lambda s: s * 0 + 5,
    "kpi_attainment_latest": lambda s: s * 0 + 0.5,
}


def perturb(rows: pd.DataFrame, changes: dict[str, Change]) -> pd.DataFrame:
    changed = rows.copy()
    for name, change in changes.items():
        feature(name)  # a renamed or removed feature fails here, not silently
        changed[name] = change(changed[name].astype(float))
    return changed


@pytest.fixture(scope="module")
def churn(trained_world):
    result = trained_world.result.targets["churn"]
    return result.model, result.split.test


@pytest.mark.parametrize(
    "alarm",
    [KEY_USER_QUIET, KPI_BELOW_TARGET, SUPPORT_STORM],
    ids=["key_user_goes_quiet", "kpi_below_target", "support_storm"],
)
def test_an_alarm_raises_churn_risk(churn, alarm):
    model, test = churn
    alarmed = perturb(test, alarm)
    changed = ~np.isclose(alarmed[list(alarm)], test[list(alarm)], equal_nan=True).all(axis=1)
    assert changed.mean() > 0.5  # the alarm goes off for most accounts
    before, after = model.raw_score(test), model.raw_score(alarmed)
    assert np.mean(after - before) > 0.1
    assert np.mean(after[changed] > before[changed]) >= 0.75
    assert model.predict_proba(alarmed).mean() > model.predict_proba(test).mean()


def _renamed(value: object) -> object:
    """Another shape of id: spaces, unicode, reversed, leading zeros (None stays None)."""
    return None if value is None or value != value else f"Kunde {str(value)[::-1]} Ø-007"


def test_renaming_ids_in_the_source_changes_no_score(trained_world, churn, tmp_path):
    from features.compute import compute_features
    from features.source import load_source

    model, test = churn
    as_of = pd.Timestamp(test["as_of"].max()).to_pydatetime()
    renamed_dir = tmp_path / "renamed"
    renamed_dir.mkdir()
    tables = sorted(Path(trained_world.data).glob("*.parquet"))
    tables.append(Path(trained_world.data) / "events")  # a directory of Parquet files
    for path in tables:
        table = pd.read_parquet(path)
        for column in [c for c in table.columns if c.endswith("_id")]:
            uniques = table[column].dropna().unique()
            table[column] = table[column].map({u: _renamed(u) for u in uniques})
        target = renamed_dir / (path.name if path.suffix else f"{path.name}.parquet")
        table.sample(frac=1.0, random_state=0).to_parquet(target, index=False)
    scores = {}
    for name, source in (("original", trained_world.data), ("renamed", renamed_dir)):
        with load_source(str(source)) as loaded:
            frame = compute_features(loaded.con, [as_of])
        scores[name] = pd.Series(model.predict_proba(frame), index=frame["account_id"])
    original, renamed = scores["original"], scores["renamed"]
    assert len(original) > 500 and len(renamed) == len(original)
    assert renamed.index[0].startswith("Kunde ")
    back = renamed.rename(index={_renamed(a): a for a in original.index})
    np.testing.assert_array_equal(back.loc[original.index].to_numpy(), original.to_numpy())


def test_training_keeps_healthy_accounts_middle_half_with_the_churn_model(churn):
    model, _ = churn
    bands, medians = model.healthy_band, model.family_reference
    assert len(bands) > 50  # every feature some healthy account has a value for
    for name, (low, high) in bands.items():
        assert low <= medians[name] <= high, name
    assert any(low < high for low, high in bands.values())


def test_an_account_with_every_alarm_is_high_risk(churn):
    # Measured beside this test: over LightGBM seeds 1-4 and this one, all 20 reach "high";
    # of 300 such accounts 90-96% do (the rest keep other healthy signs: seats, ARR growth).
    model, test = churn
    # annual terms: a 1-month term's risk per renewal is a twelfth-root of the annual one
    annual = test[test["term_length_days"] >= 300]
    healthy = annual[model.tier(model.predict_proba(annual)) == "low"].head(20)
    assert len(healthy) == 20
    alarmed = healthy
    for alarm in (KEY_USER_QUIET, KPI_BELOW_TARGET, SUPPORT_STORM, DISENGAGED):
        alarmed = perturb(alarmed, alarm)
    assert (model.tier(model.predict_proba(alarmed)) == "high").all()
