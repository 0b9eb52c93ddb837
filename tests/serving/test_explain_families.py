"""The served drivers come one per signal family, in the order the diagnosis reads them."""

from __future__ import annotations

import pytest

from features.definitions import feature
from serving.explain import comparison
from serving.models import ModelBundle
from tests.support.serving import make_model, make_service
from training.diagnosis import load_reader


def _bundle(reader: bool) -> ModelBundle:
    churn = make_model("churn")
    churn.cause_reader = load_reader() if reader else None
    return ModelBundle(churn, make_model("upsell", 1), {"retain-churn": "1"}, origin="memory")


@pytest.fixture(scope="module", params=[False, True], ids=["shap-only", "cause-reader"])
def scores(request):
    service = make_service(120, bundle=_bundle(request.param))
    return service.score(service.features.latest.account_ids)[2]


def test_every_driver_carries_its_family_and_leads_it(scores):
    shown = 0
    for score in scores:
        assert [d.family for d in score.drivers] == [f.family for f in score.families][
            : len(score.drivers)
        ]
        for d, family in zip(score.drivers, score.families, strict=False):
            assert d.family == feature(d.feature).family == family.family
            assert d.feature == family.lead and d.contribution == pytest.approx(family.contribution)
            shown += 1
    assert shown > 100


def test_raising_families_come_first_and_never_read_in_line_with_healthy(scores):
    """In line: near the healthy median, or inside the middle half of healthy accounts."""
    bands = make_model("churn").healthy_band  # the served model's, as trained
    assert bands
    raised = 0
    for score in scores:
        directions = [f.direction for f in score.families]
        assert directions == sorted(directions, key=lambda d: d != "raises")
        for d in score.drivers:
            if d.value is None or d.healthy_value is None:
                continue
            low, high = bands[d.feature]
            assert not low <= d.value <= high, d.sentence
            verdict = comparison(feature(d.feature), d.value, d.healthy_value, bands[d.feature])
            assert verdict != "in line with", d.sentence
            if d.contribution > 0 and verdict != "unlike":
                assert verdict == "worse than", d.sentence
                raised += 1
    assert raised > 50


def test_the_reader_gives_cause_families_a_likelihood():
    service = make_service(60, bundle=_bundle(True))
    scores = service.score(service.features.latest.account_ids)[2]
    cause_families = {"key_users", "usage", "outcomes", "milestones", "support"}
    led = [f for s in scores for f in s.families if f.family in cause_families]
    assert led and all(f.likelihood is not None for f in led)
    assert any(f.likelihood is not None and f.likelihood > 0.3 for f in led)


def test_the_first_action_answers_the_first_driver_when_the_playbook_can(scores):
    checked = 0
    for score in scores:
        if not score.drivers or score.drivers[0].contribution <= 0:
            continue
        first = score.drivers[0].family
        if any(d.family == first for a in score.actions for d in a.drivers):
            assert any(d.family == first for d in score.actions[0].drivers), score.account_id
            checked += 1
    assert checked > 5


def test_retain_score_writes_the_families_as_json_in_csv(tmp_path):
    import json

    import pandas as pd

    from serving.batch import score_frame, write_scores

    service = make_service(20, bundle=_bundle(True))
    frame = score_frame(service, progress=False)
    write_scores(frame, tmp_path / "scores.csv")
    csv = pd.read_csv(tmp_path / "scores.csv")
    first = json.loads(csv["families"].iloc[0])
    assert [f["family"] for f in first] == [f["family"] for f in frame["families"].iloc[0]]
    drivers = json.loads(csv["drivers"].iloc[0])
    assert all("family" in d for d in drivers)
