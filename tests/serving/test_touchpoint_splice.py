"""Touchpoints recorded while serving: only what they reach is computed again, exactly.

`FeatureStore.include_touchpoints` splices the touchpoints features of the accounts whose
touchpoints changed into a copy of the latest snapshot (`recount_touchpoints`) instead of
computing the whole snapshot again; `ScoringService.include_touchpoints` scores those
accounts alone again. Both must give what computing everything anew gives: every feature
and fact of every account, NaN for NaN, and the same scores.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import serving.snapshots as snapshots
from actions.playbook import DEFAULT_PLAYBOOK, load_playbook
from features.contract import ACTION_CODES
from serving.models import ModelStore
from serving.scoring import ScoringService
from serving.snapshots import FeatureSnapshot, FeatureStore, changed_rows, recount_touchpoints
from tests.support.serving import FakeUplift, make_bundle


def recorded(*rows: tuple[str, str, datetime | str, str]) -> pd.DataFrame:
    """Touchpoints as `store.Store.touchpoints()` gives them."""
    return pd.DataFrame(
        [
            {
                "touchpoint_id": touchpoint_id,
                "account_id": account_id,
                "ts": pd.Timestamp(ts),
                "type": kind,
                "owner": "dana",
                "notes": None,
                "plan_line_id": None,
                "recorded_at": pd.Timestamp("2024-02-06"),
            }  # fmt: skip
            for touchpoint_id, account_id, ts, kind in rows
        ]
    )


def assert_same(got: FeatureSnapshot, want: FeatureSnapshot) -> None:
    """Every value of every account the same (NaN where NaN), in the same order."""
    assert got.as_of == want.as_of
    assert got.account_ids == want.account_ids
    assert got.feature_names == want.feature_names
    np.testing.assert_array_equal(got.matrix, want.matrix)  # exact; NaN equals NaN
    np.testing.assert_array_equal(got.arr, want.arr)
    assert got.renewal_dates == want.renewal_dates
    assert got.facts == want.facts


@pytest.fixture
def full_computes(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The times at which a whole snapshot is computed (`build_snapshot`) from now on."""
    calls: list[datetime] = []
    build = snapshots.build_snapshot

    def counted(con: Any, as_of: datetime) -> FeatureSnapshot:
        calls.append(as_of)
        return build(con, as_of)

    monkeypatch.setattr(snapshots, "build_snapshot", counted)
    return calls


def follow(data: Path, rounds: list[pd.DataFrame], full_computes: list[datetime]) -> None:
    """Include each round's touchpoints while serving; each time equal to a fresh load."""
    store = FeatureStore.from_source(str(data))
    for touchpoints in rounds:
        full_computes.clear()
        before = store.latest
        assert store.include_touchpoints(touchpoints)
        assert full_computes == []  # spliced, not computed whole
        assert len(changed_rows(before, store.latest))  # type: ignore[arg-type]  # not vacuous
        fresh = FeatureStore.from_source(str(data), touchpoints=touchpoints)
        assert_same(store.latest, fresh.latest)
        assert store.touchpoints_key == fresh.touchpoints_key
        store.source.close()  # type: ignore[union-attr]
        fresh.source.close()  # type: ignore[union-attr]
        store = FeatureStore.from_source(str(data), touchpoints=touchpoints)
        assert not store.include_touchpoints(touchpoints)  # the same: nothing to do


def test_the_spliced_snapshot_equals_a_full_recompute_on_the_tiny_world(
    tiny_parquet_dir: Path, full_computes: list[datetime]
) -> None:
    first = recorded(
        ("svc-1", "1003", "2024-02-05", "onboarding_push"),  # 1003 had none
        ("p2", "1001", "2024-01-21", "health_check"),  # the source's p2, recorded otherwise
        ("svc-9", "9999", "2024-01-30", "training"),  # no such account
        ("svc-late", "1002", "2024-03-01", "training"),  # after the data: does not count
    )
    more = pd.concat([first, recorded(("svc-2", "1002", "2024-02-06 09:00", "training"))])
    fewer = more[more["touchpoint_id"] != "p2"]  # the source's p2 counts again
    follow(tiny_parquet_dir, [first, more, fewer], full_computes)


def test_the_spliced_snapshot_equals_a_full_recompute_on_a_simulated_world(
    tmp_path: Path, full_computes: list[datetime]
) -> None:
    from simulator.world import simulate_to_dir

    data = tmp_path / "world"
    simulate_to_dir(data, n_accounts=60, seed=5, months=12)
    store = FeatureStore.from_source(str(data))
    latest = store.latest
    source_touchpoints = pd.read_parquet(data / "touchpoints.parquet")
    store.source.close()  # type: ignore[union-attr]
    active = list(latest.account_ids)
    rng = np.random.default_rng(3)
    chosen = [str(a) for a in rng.choice(active, size=5, replace=False)]
    rows = []
    for i, account_id in enumerate(chosen):  # from hours to over 180 days before the end
        for j, days in enumerate((0.2, 12.5, 95.0, 179.9, 200.0)[: i + 1]):
            kind = str(ACTION_CODES[(i + j) % len(ACTION_CODES)])
            rows.append((f"svc-{i}-{j}", account_id, latest.as_of - timedelta(days=days), kind))
    copied = source_touchpoints.iloc[0]  # one of the source's, recorded at another time
    rows.append((str(copied["touchpoint_id"]), str(copied["account_id"]),
                 latest.as_of - timedelta(days=1), "health_check"))  # fmt: skip
    first = recorded(*rows[: len(rows) // 2])
    everything = recorded(*rows)
    follow(data, [first, everything, first], full_computes)


def test_the_whole_snapshot_is_computed_where_the_splice_cannot_be_exact(
    tiny_parquet_dir: Path, full_computes: list[datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FeatureStore.from_source(str(tiny_parquet_dir))
    full_computes.clear()
    assert recount_touchpoints(object(), store.latest, {"1003"}) is None  # not DuckDB
    monkeypatch.setattr(snapshots, "recount_touchpoints", lambda *args: None)
    touchpoints = recorded(("svc-1", "1003", "2024-02-05", "onboarding_push"))
    assert store.include_touchpoints(touchpoints)
    assert full_computes == [store.latest.as_of]
    assert_same(
        store.latest,
        FeatureStore.from_source(str(tiny_parquet_dir), touchpoints=touchpoints).latest,
    )


def test_other_dates_are_dropped_and_the_generation_moves(tiny_parquet_dir: Path) -> None:
    store = FeatureStore.from_source(str(tiny_parquet_dir))
    earlier = datetime(2024, 1, 15)
    store.snapshot(earlier)
    assert store.is_loaded(earlier)
    generation = store._generation
    assert store.include_touchpoints(recorded(("svc-1", "1003", "2024-02-05", "training")))
    assert not store.is_loaded(earlier)
    assert store._generation == generation + 1


class CountingUplift(FakeUplift):
    """`FakeUplift`, noting how many accounts each call computes effects for."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def effects(self, X: pd.DataFrame) -> Any:
        self.sizes.append(len(X))
        return super().effects(X)


def test_only_the_accounts_whose_rows_changed_are_scored_again(tiny_parquet_dir: Path) -> None:
    uplift = CountingUplift()
    features = FeatureStore.from_source(str(tiny_parquet_dir))
    service = ScoringService(
        ModelStore(make_bundle(uplift=uplift)), features, load_playbook(DEFAULT_PLAYBOOK)
    )
    scored: list[list[str]] = []
    score_rows: Callable[..., Any] = service._score_rows

    def noted(bundle: Any, snapshot: FeatureSnapshot, rows: np.ndarray) -> Any:
        scored.append([snapshot.account_ids[r] for r in rows])
        return score_rows(bundle, snapshot, rows)

    service._score_rows = noted  # type: ignore[method-assign]
    memo = service.memo
    assert memo is not None
    uplift.sizes.clear()
    touchpoints = recorded(
        ("svc-1", "1003", "2024-02-05", "onboarding_push"),
        ("svc-late", "1002", "2024-03-01", "training"),  # after the data: does not count
    )
    assert service.include_touchpoints(touchpoints)
    assert scored == [["1003"]]
    assert uplift.sizes == [1]
    new = service.memo
    assert new is not None and new.serves(service.models.bundle, service.features.latest)
    assert new.by_id["1001"] is memo.by_id["1001"]  # kept as it was
    assert new.by_id["1003"] is not memo.by_id["1003"]  # scored again
    incremental = dict(new.json)
    service.warm(service.models.bundle)  # every account scored anew
    assert service.memo is not None and service.memo.json == incremental
