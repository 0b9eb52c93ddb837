"""Registry and promotion gate against a throw-away MLflow store in tmp_path."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from features.definitions import FEATURE_NAMES
from tests.support.datasets import AS_OF, synthetic_dataset
from training.calibration import Calibrator
from training.config import LightGBMParams, PromotionConfig, SearchConfig, SplitConfig
from training.model import AccountModel
from training.registry import beats, gate, list_versions, load_account_model, promote, score_on
from training.search import search_booster
from training.split import time_split
from training.tracking import configure_mlflow, log_account_model


def test_gate_rule():
    assert beats(0.70, None)
    assert beats(0.71, 0.70)
    assert not beats(0.70, 0.70)
    assert not beats(0.705, 0.70, min_improvement=0.01)


def _model(split, rounds: int, shuffle: bool, seed: int) -> AccountModel:
    train = split.train.copy()
    if shuffle:  # a model that learned nothing real
        train["churn"] = np.random.default_rng(seed).permutation(train["churn"].to_numpy())
    search = SearchConfig(  # synthetic signal ignores healthy directions: no monotone prior
        max_rounds=rounds,
        early_stopping_rounds=rounds,
        configs=[LightGBMParams(num_leaves=7)],
        monotone_churn=False,
    )
    features = list(FEATURE_NAMES)
    result = search_booster(train, split.validation, features, "churn", search, seed)
    raw = result.booster.predict(split.validation[features].to_numpy(float), raw_score=True)
    calibrator = Calibrator("platt").fit(raw, split.validation["churn"])
    return AccountModel(
        "churn",
        result.booster,
        calibrator,
        features,
        {"high": 0.5, "medium": 0.2},
        {f: 0.0 for f in features},
    )


def _register(model: AccountModel, test: pd.DataFrame) -> str:
    with mlflow.start_run():
        info = log_account_model(model, test, "retain-churn")
    return str(info.registered_model_version)


def test_first_version_is_champion_and_only_a_better_one_replaces_it(tmp_path):
    configure_mlflow(f"sqlite:///{tmp_path}/mlflow.db")
    client = MlflowClient()
    dataset = synthetic_dataset(n_accounts=250, seed=5)
    split = time_split(dataset, "churn", AS_OF, SplitConfig(test_months=3, validation_months=2))
    test, gate_config = split.test, PromotionConfig()
    medium = _model(split, rounds=3, shuffle=False, seed=1)
    noise = _model(split, rounds=30, shuffle=True, seed=2)
    good = _model(split, rounds=200, shuffle=False, seed=3)
    scores = {
        name: score_on(m, test, "churn")["roc_auc"]
        for name, m in (("medium", medium), ("noise", noise), ("good", good))
    }
    assert scores["noise"] < scores["medium"] < scores["good"]

    v1 = _register(medium, test)
    first = gate(client, "churn", v1, test, score_on(medium, test, "churn"), gate_config)
    assert first.promoted and first.champion_version is None

    v2 = _register(noise, test)
    second = gate(client, "churn", v2, test, score_on(noise, test, "churn"), gate_config)
    assert not second.promoted
    assert second.champion_version == v1
    assert second.champion_score == pytest.approx(scores["medium"])  # champion re-scored here
    assert str(client.get_model_version_by_alias("retain-churn", "champion").version) == v1
    assert str(client.get_model_version_by_alias("retain-churn", "challenger").version) == v2

    v3 = _register(good, test)
    third = gate(client, "churn", v3, test, score_on(good, test, "churn"), gate_config)
    assert third.promoted and third.champion_version == v1
    champion = mlflow.pyfunc.load_model("models:/retain-churn@champion").unwrap_python_model()
    assert isinstance(champion, AccountModel)
    np.testing.assert_allclose(champion.predict_proba(test), good.predict_proba(test))
    assert champion.feature_names == list(FEATURE_NAMES)
    assert champion.tier_thresholds == {"high": 0.5, "medium": 0.2}

    listing = list_versions(client)
    assert list(listing["version"]) == [1, 2, 3]
    assert listing.set_index("version").loc[3, "aliases"] == "challenger,champion"
    assert float(str(listing.set_index("version").loc[2, "roc_auc"])) == pytest.approx(
        scores["noise"], abs=1e-4
    )

    promote(client, "churn", v1)
    assert load_account_model("churn").predict_proba(test) == pytest.approx(
        medium.predict_proba(test)
    )
    with pytest.raises(KeyError):
        promote(client, "churn", "99")


def test_pyfunc_predicts_from_a_dataframe_of_features(tmp_path):
    configure_mlflow(f"sqlite:///{tmp_path}/mlflow.db")
    dataset = synthetic_dataset(n_accounts=120, seed=6)
    split = time_split(dataset, "churn", AS_OF, SplitConfig(test_months=3, validation_months=2))
    model = _model(split, rounds=20, shuffle=False, seed=4)
    with mlflow.start_run():
        info = log_account_model(model, split.test, registered_name=None)
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    features = split.test[list(FEATURE_NAMES)].astype(float)  # feature frames are floats
    predicted = np.asarray(loaded.predict(features))
    np.testing.assert_allclose(predicted.ravel(), model.predict_proba(split.test))
    assert (tmp_path / "artifacts").is_dir()
