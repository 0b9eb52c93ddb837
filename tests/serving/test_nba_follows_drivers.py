"""The served next-best-action never contradicts the drivers the CSM reads (issue 18).

Contradiction (`actions.ranking.contradicts`): the top action is learned and answers no
driver of the first family, while an action that does (a playbook rule on that family fired
for it) pays and is expected to save at least what the top is sure to save.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.contract import ACTION_CODES
from serving.models import ModelBundle
from tests.support.serving import make_model, make_service
from training.diagnosis import load_reader
from training.uplift import ActionEffect, UpliftConfig

COSTS = {action: 100.0 for action in ACTION_CODES}


class NoisyUplift:
    """Every action learned, with per-account effects and bounds drawn once per row."""

    def __init__(self) -> None:
        self.config = UpliftConfig(costs=COSTS)
        self.actions_ = list(ACTION_CODES)
        self.drawn: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def effects(self, X: pd.DataFrame) -> dict[str, ActionEffect]:
        n = len(X)
        rng = np.random.default_rng(18)
        out = {}
        for action in self.actions_:
            effect = rng.normal(-0.05, 0.04, n)
            bound = effect + np.abs(rng.normal(0.0, 0.04, n))
            self.drawn[action] = (effect, bound)
            out[action] = ActionEffect(
                effect,
                np.full(n, 0.02),
                np.full(n, "learned", dtype=object),
                np.full(n, "learned from 300 times", dtype=object),
                bound,
            )
        return out


@pytest.fixture(scope="module")
def served():
    uplift = NoisyUplift()
    churn = make_model("churn")
    churn.cause_reader = load_reader()
    versions = {"retain-churn": "1", "retain-upsell": "1", "retain-uplift": "1"}
    bundle = ModelBundle(churn, make_model("upsell", 1), versions, origin="memory", uplift=uplift)
    service = make_service(150, bundle=bundle)
    ids = list(service.features.latest.account_ids)
    return service.score(ids)[2], ids, uplift


def test_the_top_action_never_contradicts_the_first_driver(served):
    scores, ids, uplift = served
    judged = promoted = 0
    for score in scores:
        top = score.actions[0] if score.actions else None
        if not score.drivers or score.drivers[0].contribution <= 0 or top is None:
            continue
        if top.expected_effect is None or score.arr is None:
            continue
        row = ids.index(score.account_id)
        risk = score.churn_probability  # an effect never takes away more churn than that
        assert top.expected_effect == pytest.approx(max(uplift.drawn[top.action][0][row], -risk))
        first = score.drivers[0].family
        learned = [a for a in score.actions if a.expected_saved_arr is not None]
        judged += 1
        if any(d.family == first for d in top.drivers):
            best = max(a.expected_saved_arr for a in learned)
            promoted += top.expected_saved_arr < best
            continue
        sure = -max(uplift.drawn[top.action][1][row], -risk) * score.arr - COSTS[top.action]
        for other in learned:
            if any(d.family == first for d in other.drivers):
                assert other.expected_saved_arr < sure, (score.account_id, other.action)
    assert judged > 20
    assert promoted > 0  # the diagnosis did change some recommendations
