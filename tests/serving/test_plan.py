"""Candidate lines from scores: owners, last touchpoints and values as the plan needs them."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from actions.plan_config import load_plan_config
from serving.plan import AccountContext, candidate_lines, default_week
from tests.support.serving import make_service

COSTS = {"upsell_offer": 100.0}


def test_candidates_carry_owner_touchpoint_and_value() -> None:
    service = make_service(n=40)
    _, _, scores, _ = service.score(list(service.features.latest.account_ids))
    config = load_plan_config()
    first = scores[0].account_id
    context = AccountContext(
        owners={s.account_id: "dana" for s in scores}, last_touch={first: datetime(2026, 5, 30)}
    )
    frame = candidate_lines(scores, context, config, lambda a: COSTS.get(a, 50.0))
    assert len(frame) == sum(len(s.actions) for s in scores) > 0
    assert set(frame["csm"]) == {"dana"}
    touched = frame["account_id"] == first
    assert (frame.loc[touched, "last_touch"] == datetime(2026, 5, 30)).all()
    assert frame.loc[~touched, "last_touch"].isna().all()
    by_account = {s.account_id: s for s in scores}
    for line in frame.to_dict("records"):  # no uplift model: every value is the assumed one
        score = by_account[line["account_id"]]
        assert score.arr is not None
        assumed = config.assumed_effect * score.arr - COSTS.get(line["action"], 50.0)
        expansion = (
            (score.upsell_probability or 0) * score.arr * config.upsell_value_share
            if line["action"] == "upsell_offer"
            else 0.0
        )
        assert line["basis"] == "playbook"
        assert line["saved_arr"] == pytest.approx(assumed + expansion)
        assert line["expansion_arr"] == pytest.approx(expansion)


def test_the_default_week_starts_at_the_first_midnight_of_or_after_the_data() -> None:
    assert default_week(datetime(2026, 6, 1)) == datetime(2026, 6, 1)
    assert default_week(datetime(2025, 12, 31, 21, 45)) == datetime(2026, 1, 1)


def test_a_learned_upsell_value_is_not_credited_its_expansion_twice() -> None:
    from tests.support.serving import FakeUplift, make_bundle
    from training.uplift import ActionEffect

    class PitchHelps(FakeUplift):
        def effects(self, X):  # type: ignore[no-untyped-def]
            found = super().effects(X)
            n = len(X)
            found["upsell_offer"] = ActionEffect(
                np.full(n, -0.3), np.full(n, 0.01),
                np.full(n, "learned", dtype=object), np.full(n, "learned", dtype=object),
            )  # fmt: skip
            return found

    service = make_service(n=40, bundle=make_bundle(uplift=PitchHelps()))
    _, _, scores, _ = service.score(list(service.features.latest.account_ids))
    context = AccountContext(owners={s.account_id: "dana" for s in scores}, last_touch={})
    frame = candidate_lines(scores, context, load_plan_config(), lambda a: 0.0)
    learned = frame[(frame["action"] == "upsell_offer") & (frame["basis"] == "learned")]
    assert len(learned) > 0
    by_account = {s.account_id: s for s in scores}
    for line in learned.to_dict("records"):
        offer = next(
            a for a in by_account[line["account_id"]].actions if a.action == "upsell_offer"
        )
        assert line["saved_arr"] == pytest.approx(offer.expected_saved_arr)
        assert line["expansion_arr"] == 0.0
