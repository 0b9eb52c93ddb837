"""The upsell score says why, in words (tenth new-user audit: it had no explanation)."""

from __future__ import annotations

from serving.models import ModelBundle
from tests.support.serving import UPSELL_DRIVER, make_model, make_service


def _scores(service):  # type: ignore[no-untyped-def]
    _, _, scores, _ = service.score(list(service.features.latest.account_ids))
    return scores


def test_an_account_ready_to_buy_more_is_told_why() -> None:
    service = make_service(200)  # the stand-in upsell model reads seat use above 80%
    scores = _scores(service)
    ready = [s for s in scores if (s.upsell_probability or 0) > 0.5]
    assert len(ready) >= 10
    for score in ready:
        lead = score.upsell_drivers[0]
        assert lead.feature == UPSELL_DRIVER, score.upsell_drivers
        assert lead.contribution > 0
        assert "better than healthy accounts" in lead.sentence, lead.sentence
    for score in scores:  # only what raises the upsell score, and only better than healthy
        assert len(score.upsell_drivers) <= 3
        for d in score.upsell_drivers:
            assert d.contribution > 0 and "better than" in d.sentence, d.sentence
    # an account the model sees no growth in is told no reason for it
    unlikely = [s for s in scores if (s.upsell_probability or 1) < 0.1]
    assert unlikely and all(
        UPSELL_DRIVER not in {d.feature for d in s.upsell_drivers} for s in unlikely
    )


def test_without_an_upsell_model_there_is_no_reason_to_give() -> None:
    churn = make_model("churn")
    churn.models_not_trained = {"upsell": "not trained"}
    bundle = ModelBundle(churn, None, {"retain-churn": "1"}, origin="memory")
    scores = _scores(make_service(50, bundle=bundle))
    assert all(s.upsell_probability is None and s.upsell_drivers == [] for s in scores)
