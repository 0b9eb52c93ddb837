"""A score with no driver still says why, truly: never a typical value given as a reason.

The sixth audit found 100 of 2,126 scores with no drivers (12 at high risk): a value in
line with healthy accounts is never a reason (the healthy band), so an account whose every
value raising the score is typical, or describes the account (ARR, term length), has none.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from actions.playbook import DEFAULT_PLAYBOOK, load_playbook
from features.definitions import FEATURE_NAMES, feature
from serving.batch import score_frame, write_scores
from serving.explain import describe, without_drivers
from serving.models import ModelBundle, ModelStore
from serving.scoring import ScoringService
from serving.snapshots import FeatureStore, snapshot_from_frames
from simulator.world import simulate_to_dir
from tests.support.serving import AS_OF, make_model, random_features
from training.config import load_config
from training.train import train

NOTHING_WORSE = "Nothing in this account's data is worse than in healthy accounts."
NOTHING_RAISING_WORSE = (
    "Nothing that raises this account's score is worse than in healthy accounts."
)


@pytest.fixture(scope="module")
def churn_model():
    return make_model("churn")


def _typical(model) -> np.ndarray:
    """An account whose every value is the healthy accounts' median."""
    return np.array([model.healthy_reference[n] for n in FEATURE_NAMES], dtype=float)


def _names_the_largest(
    sentence: str, shap: dict, values: dict, reference: dict, bands: dict
) -> None:
    """The sentence names the two largest contributions the way it says they push."""
    sign = -1 if "What lowers its score most:" in sentence else 1
    pushing = sorted((n for n in shap if sign * shap[n] > 0), key=lambda n: -sign * shap[n])
    assert pushing, sentence
    for name in pushing[:2]:  # each in the words of `describe`: value against healthy accounts
        tenure = values.get("tenure_days")  # a window the account has not filled: no "worse"
        words = describe(feature(name), values[name], reference.get(name), bands.get(name), tenure)
        assert words in sentence, (name, sentence)


def _named(sentence: str, names: list[str]) -> list[str]:
    return [n for n in names if feature(n).description.rstrip(". ") in sentence]


@pytest.mark.parametrize("low_risk", [False, True], ids=["at-risk", "low-risk"])
def test_a_typical_account_says_nothing_is_worse_and_names_its_largest_contributions(
    churn_model, low_risk
):
    values = _typical(churn_model)
    contributions = churn_model.contributions(values[None, :])[0, : len(FEATURE_NAMES)]
    shap = dict(zip(FEATURE_NAMES, contributions.tolist(), strict=True))
    reference, bands = churn_model.healthy_reference, churn_model.healthy_band
    sentence = without_drivers(
        shap, dict(zip(FEATURE_NAMES, values, strict=True)), reference, low_risk, bands=bands
    )
    assert sentence.startswith(NOTHING_WORSE)
    assert "worse than healthy" not in sentence and "better than healthy" not in sentence
    sign = -1 if low_risk else 1
    pushing = sorted((n for n in shap if sign * shap[n] > 0), key=lambda n: -sign * shap[n])
    assert len(pushing) >= 2  # the model leans on typical values both ways
    lead = "What lowers its score most:" if low_risk else "What raises its score most is context"
    assert lead in sentence
    _names_the_largest(sentence, shap, dict(zip(FEATURE_NAMES, values, strict=True)),
                       reference, bands)  # fmt: skip
    assert set(_named(sentence, list(FEATURE_NAMES))) == set(pushing[:2])


def test_a_worse_value_the_model_gives_no_weight_is_not_denied(churn_model):
    values = _typical(churn_model)
    unread = [
        n
        for n, gain in zip(FEATURE_NAMES, churn_model.booster.feature_importance(), strict=True)
        if gain == 0 and feature(n).healthy == "lower"
    ]
    assert unread
    name = unread[0]
    values[FEATURE_NAMES.index(name)] = churn_model.healthy_band[name][1] * 3 + 10  # worse
    contributions = churn_model.contributions(values[None, :])[0, : len(FEATURE_NAMES)]
    shap = dict(zip(FEATURE_NAMES, contributions.tolist(), strict=True))
    assert shap[name] == 0.0
    sentence = without_drivers(
        shap,
        dict(zip(FEATURE_NAMES, values, strict=True)),
        churn_model.healthy_reference,
        False,
        bands=churn_model.healthy_band,
    )
    assert sentence.startswith(NOTHING_RAISING_WORSE)  # not "nothing ... is worse"


def test_the_served_typical_account_carries_the_reason_and_no_driver(churn_model):
    frame = random_features(20, seed=4)
    frame.loc[0, list(FEATURE_NAMES)] = _typical(churn_model)
    bundle = ModelBundle(churn_model, make_model("upsell", 1), {"retain-churn": "1"}, "memory")
    service = ScoringService(
        ModelStore(bundle),
        FeatureStore(snapshot_from_frames(AS_OF, frame)),
        load_playbook(DEFAULT_PLAYBOOK),
    )
    scores = service.score(list(frame["account_id"]))[2]
    typical = scores[0]
    assert typical.drivers == [] and typical.families == []
    assert typical.no_driver_reason and typical.no_driver_reason.startswith(NOTHING_WORSE)
    for score in scores[1:]:  # a reason for no drivers only where there are none
        assert (score.no_driver_reason is None) == bool(score.drivers)


@pytest.fixture(scope="module")
def small_world(tmp_path_factory):
    """A small world of another design, trained as `retain train` does (no uplift)."""
    root = tmp_path_factory.mktemp("driverless")
    data = root / "world"
    simulate_to_dir(data, n_accounts=100, seed=3061, months=10, structure_seed=61)
    result = train(
        str(data),
        config=load_config(),
        register=False,
        report=lambda *_: None,
        tracking_uri=f"sqlite:///{root}/mlflow.db",
        uplift=False,
    )
    upsell = result.targets.get("upsell")
    bundle = ModelBundle(
        result.targets["churn"].model,
        None if upsell is None else upsell.model,
        {"retain-churn": "1"},
        origin="memory",
    )
    features = FeatureStore.from_source(str(data))
    return ScoringService(ModelStore(bundle), features, load_playbook(DEFAULT_PLAYBOOK))


def test_every_score_of_a_small_world_carries_an_explanation(small_world, tmp_path):
    frame = score_frame(small_world, progress=False)
    without = frame[frame["drivers"].map(len) == 0]
    assert len(without) > 5  # the world has them: its churn model leans on typical values
    assert (frame["no_driver_reason"].isna() == (frame["drivers"].map(len) > 0)).all()
    churn = small_world.models.bundle.churn
    snapshot = small_world.features.latest
    reference = dict(getattr(churn, "family_reference", None) or churn.healthy_reference)
    for account_id, sentence in zip(
        without["account_id"], without["no_driver_reason"], strict=True
    ):
        assert sentence.startswith((NOTHING_WORSE, NOTHING_RAISING_WORSE)), sentence
        assert "worse than healthy" not in sentence, sentence
        row = snapshot.matrix[snapshot.row[account_id]]
        values = dict(zip(snapshot.feature_names, row.tolist(), strict=True))
        X = np.array([[values[n] for n in churn.feature_names]])
        shap = dict(zip(churn.feature_names, churn.contributions(X)[0].tolist(), strict=False))
        _names_the_largest(sentence, shap, values, reference, churn.healthy_band)
    write_scores(frame, tmp_path / "scores.csv")
    written = pd.read_csv(tmp_path / "scores.csv")
    explained = written["no_driver_reason"].notna() | (written["drivers"] != "[]")
    assert explained.all()


def test_a_young_accounts_window_count_is_neither_worse_nor_a_verdict(churn_model):
    """Eleventh audit: a count over 90 days read "worse than healthy accounts" for accounts
    6-25 days old. In the opening and in the context named, it is no verdict."""
    values = dict(zip(FEATURE_NAMES, _typical(churn_model), strict=True))
    low, _ = churn_model.healthy_band["value_events_90d"]
    values["value_events_90d"] = low / 4 - 1  # far below healthy accounts' 90 days
    reference, bands = churn_model.healthy_reference, churn_model.healthy_band
    shap = dict.fromkeys(FEATURE_NAMES, 0.0) | {"value_events_90d": 0.5, "tenure_days": 0.2}

    def sentence(tenure: float) -> str:
        return without_drivers(shap, values | {"tenure_days": tenure}, reference, False,
                               bands=bands)  # fmt: skip

    grown = sentence(400.0)
    assert grown.startswith(NOTHING_RAISING_WORSE) and "worse than healthy" in grown
    young = sentence(20.0)
    assert young.startswith(NOTHING_WORSE), young
    assert "worse than healthy" not in young and "over the 20 days the account has had" in young
