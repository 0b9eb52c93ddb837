# mypy: disable-error-code="arg-type,assignment,call-overload"
"""Point-in-time proof: rows dated after T never change features as of T, and labels
only depend on what happens after T.

Worlds are random (seeded) with every table filled, and T is a random moment
(not only midnights); the simulator's world is used too when it is available.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from features.compute import compute_features
from features.horizon import data_horizon
from features.labels import compute_labels
from tests.support.tables import DAYS, START, change_after, random_world, typed_connection


def scramble_until(
    world: dict[str, pd.DataFrame], t: pd.Timestamp, seed: int
) -> dict[str, pd.DataFrame]:
    """Change everything known by `t` except the contracts that labels read."""
    rng = np.random.default_rng(seed)
    w = {name: frame.copy() for name, frame in world.items()}
    events = w["events"]
    before = events["ts"] <= t
    w["events"] = events[~before | (rng.random(len(events)) < 0.3)].assign(module="Scrambled")
    for name, column in (("tickets", "opened_at"), ("surveys", "ts"), ("touchpoints", "ts")):
        frame = w[name]
        w[name] = frame[~(frame[column] <= t) | (rng.random(len(frame)) < 0.5)]
    w["users"]["is_key_user"] = ~w["users"]["is_key_user"]
    w["outcomes"]["actual"] = rng.uniform(0, 10, len(w["outcomes"]))
    subs = w["subscriptions"]
    subs.loc[subs["end_date"] <= t, "outcome"] = "churned"
    return w


def _moments(seed: int, n: int) -> list[pd.Timestamp]:
    rng = np.random.default_rng(seed)
    days = rng.uniform(60, DAYS - 30, n)
    return [(START + pd.Timedelta(days=float(d))).round("s") for d in days]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rows_after_t_never_change_features(seed: int) -> None:
    world = random_world(seed)
    for i, t in enumerate(_moments(seed, 3) + [pd.Timestamp("2024-03-01")]):
        as_of = [t.to_pydatetime()]
        before = compute_features(typed_connection(world), as_of)
        changed = change_after(world, t, seed * 100 + i)
        after = compute_features(typed_connection(changed), as_of)
        assert len(before) > 5
        pd.testing.assert_frame_equal(before, after, check_exact=False, rtol=1e-9)


def test_change_after_really_changes_later_features() -> None:
    """The perturbation is strong enough to move features at a later T (the test can fail)."""
    world = random_world(4)
    t = pd.Timestamp("2024-01-01")
    later = [(t + pd.Timedelta(days=60)).to_pydatetime()]
    before = compute_features(typed_connection(world), later)
    after = compute_features(typed_connection(change_after(world, t, 4)), later)
    assert not before.drop(columns=["account_id"]).equals(after.drop(columns=["account_id"]))


@pytest.mark.parametrize("seed", [5, 6])
def test_labels_use_only_what_happens_after_t(seed: int) -> None:
    world = random_world(seed)
    for t in _moments(seed, 3):
        as_of = [t.to_pydatetime()]
        scrambled = scramble_until(world, t, seed)
        con, other = typed_connection(world), typed_connection(scrambled)
        assert data_horizon(con) == data_horizon(other)
        labels = compute_labels(con, as_of)
        assert labels["churn"].notna().any()
        pd.testing.assert_frame_equal(labels, compute_labels(other, as_of))
        features = compute_features(con, as_of)
        assert not features.equals(compute_features(other, as_of))


def test_features_at_many_snapshots_equal_one_at_a_time() -> None:
    world = random_world(7)
    con = typed_connection(world)
    moments = [m.to_pydatetime() for m in _moments(7, 4)]
    together = compute_features(con, moments)
    alone = pd.concat([compute_features(con, [m]) for m in sorted(moments)], ignore_index=True)
    pd.testing.assert_frame_equal(together, alone)
    assert (together["as_of"] - timedelta(0)).isin(moments).all() and datetime(
        2000, 1, 1
    ) not in moments
