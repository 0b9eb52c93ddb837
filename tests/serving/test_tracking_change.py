"""A change in how events are logged, seen in one snapshot: no event count is a reason.

The twelfth new-user audit's tracking release halved every account's events while the
people using the product stayed: 202 of 600 stable accounts read "use halved in a month",
and growth asks were withheld for it. The same forty accounts are scored in two books that
differ only in the others' events: where they alone halved, their use halving is a reason
and a pain; where every account's halved with its people unchanged, neither.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from actions.playbook import DEFAULT_PLAYBOOK, load_playbook
from actions.ranking import GROWTH_ASKS
from serving.models import ModelStore
from serving.schemas import AccountScore
from serving.scoring import ScoringService
from serving.snapshots import FeatureStore, snapshot_from_frames
from tests.support.serving import make_bundle, random_features
from training.monitor.thresholds import TrackingThresholds
from training.monitor.tracking import (
    event_count_features,
    recent_tracking_change,
    window_before,
)

AS_OF = datetime(2026, 6, 1)
ACCOUNTS, HALVED = 200, 40


def test_the_30_days_before_are_rebuilt_from_the_trends() -> None:
    now = pd.DataFrame(
        {
            "account_id": ["a", "b", "c"],
            "as_of": pd.Timestamp(AS_OF),
            "events_30d": [10.0, 40.0, 0.0],
            "active_users_30d": [4.0, 4.0, 0.0],
            "events_change_30d": [-0.5, 1 / 3, -1.0],  # 30 before: 30, 20, unknown
            "active_users_change_30d": [0.0, -0.6, -1.0],  # 4, 16, unknown
        }
    )
    then = window_before(now)
    assert then["events_30d"].tolist()[:2] == pytest.approx([30.0, 20.0])
    assert then["active_users_30d"].tolist()[:2] == pytest.approx([4.0, 16.0])
    assert then.iloc[2].isna()[["events_30d", "active_users_30d"]].all()
    assert (then["as_of"] == pd.Timestamp(2026, 5, 2)).all()


def test_a_snapshot_without_the_counts_or_trends_shows_no_change() -> None:
    frame = _book(everyone=True).drop(columns="events_30d")
    assert window_before(frame).empty
    assert recent_tracking_change(frame, TrackingThresholds()) is None


def _book(everyone: bool) -> pd.DataFrame:
    frame = random_features(ACCOUNTS)
    frame["active_users_30d"], frame["active_users_change_30d"] = 5.0, 0.0
    halved = np.arange(ACCOUNTS) < HALVED
    frame["events_change_30d"] = np.where(halved | everyone, -0.5, 0.0)  # a third as many
    return frame


def _scores(frame: pd.DataFrame) -> tuple[bool, list[AccountScore]]:
    snapshot = snapshot_from_frames(AS_OF, frame)
    features = FeatureStore(snapshot, lambda when: snapshot)  # type: ignore[arg-type,return-value]
    service = ScoringService(ModelStore(make_bundle()), features, load_playbook(DEFAULT_PLAYBOOK))
    _, _, scores, _ = service.score(list(frame["account_id"][:HALVED]))
    return snapshot.tracking_change is not None, scores


def test_a_book_wide_fall_in_events_per_user_is_read_as_tracking() -> None:
    thresholds = TrackingThresholds()
    assert recent_tracking_change(_book(everyone=False), thresholds) is None  # 20% fell
    change = recent_tracking_change(_book(everyone=True), thresholds)
    assert change is not None and change.fell and change.ratio == pytest.approx(1 / 3)
    assert change.users_ratio == 1.0


def test_while_a_tracking_change_shows_no_event_count_is_a_reason_or_a_pain() -> None:
    counted = event_count_features()
    alone, own = _scores(_book(everyone=False))
    together, book = _scores(_book(everyone=True))
    assert not alone and together
    # the same forty accounts, the same features and scores in both books
    assert [s.churn_probability for s in own] == [s.churn_probability for s in book]
    named = [s.account_id for s in own if any(d.feature in counted for d in s.drivers)]
    assert len(named) >= HALVED // 4  # else this test could not tell
    assert not [s.account_id for s in book if any(d.feature in counted for d in s.drivers)]

    def asked(scores: list[AccountScore]) -> set[str]:
        return {s.account_id for s in scores if any(a.action in GROWTH_ASKS for a in s.actions)}

    # use halved is a pain to mend first: no growth ask where these accounts alone fell
    assert not asked(own)
    assert asked(book)  # with every account's events, it reads as logging, not a pain


def test_the_random_test_worlds_show_no_tracking_change() -> None:
    # else every serving test would run with event counts hidden
    for n, seed in ((50, 0), (200, 0), (600, 100), (50, AS_OF.toordinal())):
        assert snapshot_from_frames(AS_OF, random_features(n, seed)).tracking_change is None
