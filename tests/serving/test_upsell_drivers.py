"""The upsell score says why, in words (tenth new-user audit: it had no explanation)."""

from __future__ import annotations

from serving.models import ModelBundle
from tests.support.serving import UPSELL_DRIVER, make_model, make_service


def _scores(service):  # type: ignore[no-untyped-def]
    _, _, scores, _ = service.score(list(service.features.latest.account_ids))
    return scores


def test_an_account_offered_an_upsell_is_told_why() -> None:
    service = make_service(400)  # the stand-in upsell model reads seat use above 80%
    scores = _scores(service)
    pitched = [s for s in scores if "upsell_offer" in {a.action for a in s.actions}]
    assert len(pitched) >= 5
    for score in pitched:
        lead = score.upsell_drivers[0]
        assert lead.feature == UPSELL_DRIVER, score.upsell_drivers
        assert lead.contribution > 0
        assert "better than healthy accounts" in lead.sentence, lead.sentence
        assert len(score.upsell_drivers) <= 3
        for d in score.upsell_drivers:  # only what raises the score, only better than healthy
            assert d.contribution > 0 and "better than" in d.sentence, d.sentence
    # the upsell model's SHAP costs as much as the churn model's: only where a pitch is made
    assert all(s.upsell_drivers == [] for s in scores if s not in pitched)


def test_without_an_upsell_model_there_is_no_reason_to_give() -> None:
    churn = make_model("churn")
    churn.models_not_trained = {"upsell": "not trained"}
    bundle = ModelBundle(churn, None, {"retain-churn": "1"}, origin="memory")
    scores = _scores(make_service(50, bundle=bundle))
    assert all(s.upsell_probability is None and s.upsell_drivers == [] for s in scores)
