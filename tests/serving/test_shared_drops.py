"""A drop in use most accounts share in the same weeks (a season) is no account's own reason."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from serving.models import ModelBundle
from serving.shared_drops import CHANGE_UNIT, BookDrop, against_book, shared_drops
from serving.snapshots import FeatureSnapshot
from tests.support.serving import make_model, make_service
from training.diagnosis import load_reader

TREND = "active_users_change_30d"


def _service():
    churn = make_model("churn")
    churn.cause_reader = load_reader()
    # a steady book: healthy accounts' trend is flat, their middle half close around it
    churn.healthy_reference[TREND] = 0.0
    churn.healthy_band[TREND] = (-0.1, 0.1)
    if getattr(churn, "family_reference", None):
        churn.family_reference[TREND] = 0.0
    bundle = ModelBundle(churn, make_model("upsell", 1), {"retain-churn": "1"}, origin="memory")
    return make_service(120, bundle=bundle)


def _with_trend(snapshot: FeatureSnapshot, trend: np.ndarray) -> FeatureSnapshot:
    matrix = snapshot.matrix.copy()
    matrix[:, snapshot.column[TREND]] = trend
    return dataclasses.replace(snapshot, matrix=matrix)


def _trend_reasons(service, snapshot: FeatureSnapshot) -> list[tuple[float, str]]:
    rows = np.arange(len(snapshot.account_ids))
    scores = service._score_rows(service.models.bundle, snapshot, rows)
    return [
        (d.value, d.sentence)
        for s in scores
        for d in s.drivers
        if d.feature == TREND and d.contribution > 0
    ]


def test_a_summer_every_account_shares_is_no_reason_unless_the_account_fell_further():
    """Every account's people down 33% to 85% in one month (a summer): the active users'
    trend was a reason for risk at nearly every account; read against the book it is one
    only below the book's lower quartile, and then it says the book fell too."""
    service = _service()
    summer = np.random.default_rng(0).uniform(-0.75, -0.25, 120)
    season = _with_trend(service.features.latest, summer)
    blind = _with_trend(service.features.latest, summer)
    blind.__dict__["shared_drops"] = {}  # as before: each account against healthy alone
    assert len(_trend_reasons(service, blind)) > 100
    low = float(np.quantile(summer, 0.25))
    left = _trend_reasons(service, season)
    assert len(left) < 30
    for value, sentence in left:
        assert value < low
        assert sentence.endswith(
            "Most accounts fell in the same weeks (the median account: down 63%)."
        )


def test_an_accounts_own_drop_in_a_steady_book_stays_a_reason():
    service = _service()
    steady = np.zeros(120)
    steady[:10] = -0.6  # ten accounts lose people; the book holds
    snapshot = _with_trend(service.features.latest, steady)
    assert snapshot.shared_drops == {}
    reasons = _trend_reasons(service, snapshot)
    assert reasons and all("Most accounts" not in s for _, s in reasons)


@pytest.mark.parametrize(
    ("median", "accounts", "found"),
    [(-0.5, 40, True), (-0.2, 40, True), (-0.1, 40, False), (0.4, 40, False), (-0.5, 10, False)],
)
def test_a_shared_drop_is_a_trend_the_median_account_fell_by_a_third(median, accounts, found):
    matrix = np.column_stack([np.full(accounts, median), np.full(accounts, -0.9)])
    drops = shared_drops(["t", "level"], matrix, {"t": CHANGE_UNIT, "level": "events"})
    assert ("t" in drops) is found
    assert "level" not in drops  # only trends: a level has no "before" to share


def test_a_trend_is_read_against_the_books_middle_half():
    values = np.array([[-1.0], [-0.7], [-0.5], [-0.3], [0.2], [np.nan]])
    read = against_book(values, ["t"], {"t": BookDrop(-0.6, -0.5, -0.4)})
    expected = [-0.4, -0.1, 0.0, 0.1, 0.6, np.nan]
    np.testing.assert_allclose(read[:, 0], expected, atol=1e-12)
    assert against_book(values, ["t"], {}) is values
