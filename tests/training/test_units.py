"""Unit tests of training/ on synthetic frames shaped like `features.dataset.build_dataset`."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from actions.tiers import cut_points
from features.definitions import FEATURE_NAMES, feature
from tests.support.datasets import AS_OF, synthetic_dataset
from training.baselines import HealthScore, HealthScoreBaseline, logistic_baseline
from training.calibration import Calibrator
from training.config import (
    LightGBMParams,
    SearchConfig,
    SplitConfig,
    TrainingConfig,
    load_config,
)
from training.evaluate import evaluate, expected_calibration_error, top_share_flags
from training.model import AccountModel, healthy_reference
from training.search import positive_weight, search_booster
from training.split import NotEnoughHistory, label_known_at, labelled_rows, time_split
from training.train import NothingTrained, families_without_data, trainable_splits


@pytest.fixture(scope="module")
def dataset() -> pd.DataFrame:
    return synthetic_dataset()


@pytest.fixture(scope="module")
def config() -> TrainingConfig:
    return load_config()


# --- config -------------------------------------------------------------------------------


def test_config_rejects_unknown_keys(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("seed: 1\nsearch:\n  configs: [{num_leaves: 7}]\n  early_stoping_rounds: 5\n")
    with pytest.raises(ValidationError, match="early_stoping_rounds"):
        load_config(path)


def test_default_config_is_a_small_bounded_search(config):
    assert 2 <= len(config.search.configs) <= 12
    assert config.calibration in ("isotonic", "platt")


def test_the_training_set_reads_upsell_with_the_configured_minimum_rise(
    config, tiny_parquet_dir, monkeypatch
):
    # A company whose renewals carry a price indexation sets `upsell_min_rise` (eleventh
    # audit); `retain train` must build its labels with it, and a share of 1 or more is refused.
    import features.dataset
    from training.train import build_training_set

    seen = []
    real = features.dataset.compute_labels

    def spy(*args, **kwargs):
        seen.append(kwargs.get("upsell_min_rise"))
        return real(*args, **kwargs)

    monkeypatch.setattr(features.dataset, "compute_labels", spy)
    indexed = config.model_copy(update={"upsell_min_rise": 0.05, "warmup_days": 0})
    build_training_set(str(tiny_parquet_dir), None, indexed)
    assert seen == [0.05]
    assert load_config().upsell_min_rise == 0.0  # the contract's rule by default
    with pytest.raises(ValidationError, match="upsell_min_rise"):
        TrainingConfig.model_validate({**config.model_dump(), "upsell_min_rise": 1.0})


# --- split --------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["churn", "upsell"])
def test_split_keeps_training_labels_before_validation(dataset, target):
    split = time_split(
        dataset, target, AS_OF, SplitConfig(test_months=3, validation_months=2, embargo_days=30)
    )
    known = label_known_at(split.train, target)
    assert (known < split.validation_start).all()
    assert (split.train["as_of"] < split.validation_start - pd.Timedelta(days=30)).all()
    assert (
        split.validation["as_of"]
        .between(split.validation_start, split.test_start, inclusive="left")
        .all()
    )
    # test is the latest labelled snapshot months
    labelled = labelled_rows(dataset, target, AS_OF)
    assert split.test["as_of"].max() == labelled["as_of"].max()
    assert split.test["as_of"].nunique() == 3 and split.validation["as_of"].nunique() == 2
    for part in (split.train, split.validation, split.test):
        assert (label_known_at(part, target) <= AS_OF).all()
        assert part[target].notna().all()


def test_no_renewal_outcome_is_shared_between_training_and_later_periods(dataset):
    split = time_split(dataset, "churn", AS_OF, SplitConfig(test_months=3, validation_months=2))
    trained = set(zip(split.train["account_id"], split.train["renewal_date"], strict=True))
    later = pd.concat([split.validation, split.test])
    assert not trained & set(zip(later["account_id"], later["renewal_date"], strict=True))


def test_labels_not_known_at_training_date_are_unused(dataset):
    earlier = datetime(2024, 6, 1)
    rows = labelled_rows(dataset, "churn", earlier)
    assert (rows["renewal_date"] <= pd.Timestamp(earlier)).all()
    assert len(rows) < dataset["churn"].notna().sum()


def test_split_shortens_its_periods_when_the_history_is_short(dataset):
    config = SplitConfig(test_months=18, validation_months=6)
    split = time_split(dataset, "upsell", AS_OF, config)
    months = split.months()
    assert split.adapted
    assert months["test_months"] < 18 and months["validation_months"] < 6
    assert months["train_months"] >= config.min_train_months
    assert (label_known_at(split.train, "upsell") < split.validation_start).all()
    assert "shortened" in split.describe()


def test_split_keeps_the_configured_periods_when_the_history_allows(dataset):
    split = time_split(dataset, "churn", AS_OF, SplitConfig(test_months=3, validation_months=2))
    assert not split.adapted
    assert split.months()["test_months"] == 3 and split.months()["validation_months"] == 2


def test_split_below_its_floor_says_why_in_one_line(dataset):
    floor = SplitConfig(
        test_months=6,
        validation_months=3,
        min_test_months=6,
        min_validation_months=3,
        min_train_months=12,
    )
    with pytest.raises(NotEnoughHistory, match="upsell: not trained: only .* snapshot months"):
        time_split(dataset, "upsell", AS_OF, floor)
    try:
        time_split(dataset, "upsell", AS_OF, floor)
    except NotEnoughHistory as error:
        assert "\n" not in str(error)


def test_a_model_without_positive_labels_is_not_trained(dataset):
    flat = dataset.assign(upsell=dataset["upsell"].where(dataset["upsell"].isna(), 0.0))
    with pytest.raises(NotEnoughHistory, match="no expansions to learn from"):
        time_split(flat, "upsell", AS_OF, SplitConfig())


def test_upsell_is_skipped_and_churn_kept_when_only_churn_has_the_history(dataset, config):
    flat = dataset.assign(upsell=dataset["upsell"].where(dataset["upsell"].isna(), 0.0))
    lines: list[str] = []
    splits, skipped = trainable_splits(flat, AS_OF, config, lines.append)
    assert list(splits) == ["churn"] and list(skipped) == ["upsell"]
    assert lines == [skipped["upsell"]]


def test_nothing_is_trained_without_a_churn_model(dataset, config):
    unknown = dataset.assign(churn=np.nan)
    with pytest.raises(NothingTrained, match="churn: not trained"):
        trainable_splits(unknown, AS_OF, config, lambda line: None)


def test_families_without_data_are_those_whose_features_never_vary(dataset):
    names = list(FEATURE_NAMES)
    frame = dataset.copy()
    nps = [n for n in names if feature(n).family == "nps"]
    support = [n for n in names if feature(n).family == "support"]
    frame[nps] = np.nan  # no surveys table: unknown
    frame[support] = 0.0  # no tickets table: zero tickets everywhere
    assert families_without_data(frame, names) == ["nps", "support"]
    assert families_without_data(dataset, names) == []


# --- calibration and metrics ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_calibration_repairs_a_distorted_score(method):
    rng = np.random.default_rng(1)
    truth = rng.uniform(0.02, 0.6, 20000)
    y = (rng.random(truth.size) < truth).astype(float)
    raw = np.log(truth / (1 - truth)) + 1.5  # over-confident by a constant shift
    half = truth.size // 2
    calibrator = Calibrator(method).fit(raw[:half], y[:half])
    before = expected_calibration_error(y[half:], 1 / (1 + np.exp(-raw[half:])))
    after = expected_calibration_error(y[half:], calibrator.transform(raw[half:]))
    assert before > 0.1 and after < 0.03
    p = calibrator.transform(np.sort(raw))
    assert (np.diff(p) >= -1e-12).all() and p.min() >= 0 and p.max() <= 1


def test_metrics_on_a_known_example():
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1] * 2, dtype=float)
    p = np.array([0.9, 0.1, 0.2, 0.1, 0.3, 0.2, 0.1, 0.2, 0.3, 0.4] * 2)
    as_of = pd.Series(["2024-01-01"] * 10 + ["2024-02-01"] * 10)
    arr = np.array([100.0, 1, 1, 1, 1, 1, 1, 1, 1, 300.0] * 2)
    m = evaluate(y, p, as_of, arr)
    assert m["roc_auc"] == pytest.approx(1.0)
    # the riskiest 10% per month is one account (the 0.9 one): half the churners, 100 of 400 ARR
    assert m["top_decile_lift"] == pytest.approx(1.0 / 0.2)
    assert m["arr_caught_top10"] == pytest.approx(0.25)
    assert top_share_flags(as_of, p).sum() == 2


def test_ece_is_zero_when_rates_match_and_large_when_not():
    y = np.array([1, 0, 0, 0] * 50, dtype=float)
    assert expected_calibration_error(y, np.full(y.size, 0.25)) == pytest.approx(0.0)
    assert expected_calibration_error(y, np.full(y.size, 0.75)) == pytest.approx(0.5)


# --- baselines ------------------------------------------------------------------------------


def test_health_score_follows_the_healthy_direction_of_each_feature(dataset):
    health = HealthScore().fit(dataset)
    row = dataset.iloc[[0, 0]].copy()
    row.iloc[1, row.columns.get_loc("nps_mean_180d")] = 10.0  # higher is healthy
    assert health.score(row)[1] > health.score(row)[0]
    row = dataset.iloc[[0, 0]].copy()
    row.iloc[1, row.columns.get_loc("tickets_opened_30d")] = 50.0  # lower is healthy
    assert health.score(row)[1] < health.score(row)[0]
    assert ((health.score(dataset) >= 0) & (health.score(dataset) <= 100)).all()


def test_baselines_find_the_signal(dataset):
    split = time_split(dataset, "churn", AS_OF, SplitConfig(test_months=3, validation_months=2))
    features = list(FEATURE_NAMES)
    logistic = logistic_baseline(split.train, features, "churn")
    p_log = logistic.predict_proba(split.test[features])[:, 1]
    p_health = (
        HealthScoreBaseline("churn").fit(split.train, split.validation).predict_proba(split.test)
    )
    for p in (p_log, p_health):
        assert evaluate(split.test["churn"], p, split.test["as_of"])["roc_auc"] > 0.7


# --- LightGBM search and the account model --------------------------------------------------


def test_positive_weight_modes():
    y = np.array([1] + [0] * 99)
    assert positive_weight(y, "none") == 1.0
    assert positive_weight(y, "balanced") == pytest.approx(99.0)
    assert positive_weight(y, "sqrt") == pytest.approx(99.0**0.5)


@pytest.fixture(scope="module")
def account_model(dataset, config) -> tuple[AccountModel, pd.DataFrame]:
    split = time_split(dataset, "churn", AS_OF, SplitConfig(test_months=3, validation_months=2))
    features = list(FEATURE_NAMES)
    result = search_booster(split.train, split.validation, features, "churn", config.search, seed=3)
    raw = result.booster.predict(split.validation[features].to_numpy(float), raw_score=True)
    calibrator = Calibrator("isotonic").fit(raw, split.validation["churn"])
    tiers = cut_points(calibrator.transform(raw), 0.1, 0.2)
    healthy = healthy_reference(split.train[split.train["churn"] == 0], features)
    return AccountModel("churn", result.booster, calibrator, features, tiers, healthy), split.test


def test_search_is_reproducible_with_a_seed(dataset, config):
    split = time_split(dataset, "churn", AS_OF, SplitConfig(test_months=3, validation_months=2))
    features = list(FEATURE_NAMES)
    runs = [
        search_booster(split.train, split.validation, features, "churn", config.search, seed=3)
        for _ in range(2)
    ]
    x = split.test[features].to_numpy(float)
    np.testing.assert_array_equal(runs[0].booster.predict(x), runs[1].booster.predict(x))
    # the configured candidates, then the best of them without monotone constraints
    assert runs[0].trials["kind"].tolist() == ["configured"] * len(config.search.configs) + [
        "unconstrained"
    ]
    assert runs[0].validation_auc in set(runs[0].trials["validation_auc"])
    # the choice can be audited: one candidate chosen, each finalist's gap to the best
    trials = runs[0].trials
    assert trials["chosen"].sum() == 1
    finalists = trials.dropna(subset=["gap_to_best"])
    assert set(finalists["kind"]) == {"configured", "unconstrained"}
    best = int(trials["validation_auc"].to_numpy().argmax())
    assert trials["gap_to_best"].iloc[best] == 0.0
    chosen = trials[trials["chosen"]].iloc[0]
    assert chosen["gap_to_best"] <= chosen["gap_se"]


def test_account_model_contract(account_model):
    model, test = account_model
    proba = model.predict_proba(test)
    assert proba.shape == (len(test),) and ((proba >= 0) & (proba <= 1)).all()
    contributions = model.contributions(test)
    assert contributions.shape == (len(test), len(model.feature_names) + 1)
    np.testing.assert_allclose(contributions.sum(axis=1), model.raw_score(test), atol=1e-6)
    # numpy rows, shuffled DataFrame columns and the pyfunc entry point agree
    shuffled = test[model.feature_names[::-1]]
    np.testing.assert_allclose(model.predict_proba(shuffled), proba)
    np.testing.assert_allclose(model.predict_proba(test[model.feature_names].to_numpy()), proba)
    np.testing.assert_allclose(model.predict(None, test), proba)
    assert evaluate(test["churn"], proba, test["as_of"])["roc_auc"] > 0.75


def test_tiers_and_healthy_reference(account_model, dataset):
    model, test = account_model
    assert model.tier_thresholds["high"] >= model.tier_thresholds["medium"]
    tiers = model.tier(model.predict_proba(test))
    assert set(tiers) <= {"high", "medium", "low"}
    assert 0.03 < (tiers == "high").mean() < 0.25
    assert set(model.healthy_reference) == set(model.feature_names)
    renewed = dataset[dataset["churn"] == 0]
    assert (
        model.healthy_reference["nps_mean_180d"]
        > dataset.loc[dataset["churn"] == 1, "nps_mean_180d"].median()
    )
    assert model.healthy_reference["nps_mean_180d"] == pytest.approx(
        renewed["nps_mean_180d"].median(), abs=0.5
    )


def test_churn_risk_never_falls_as_a_feature_turns_unhealthy():
    from features.definitions import feature
    from training.search import churn_monotone_constraints

    data = synthetic_dataset()
    names = [n for n in FEATURE_NAMES if n in data.columns]
    train, validation = data.iloc[: len(data) // 2], data.iloc[len(data) // 2 :]
    search = SearchConfig(  # the monotone candidates alone (no unconstrained challenger)
        max_rounds=60,
        early_stopping_rounds=60,
        configs=[LightGBMParams(num_leaves=15)],
        challengers=(),
    )
    booster = search_booster(train, validation, names, "churn", search, seed=0).booster
    signs = churn_monotone_constraints(names)
    assert signs[names.index("days_since_key_user_active")] == 1  # healthy: lower
    rows = validation[names].to_numpy(float)
    for name, sign in zip(names, signs, strict=True):
        if sign == 0:
            continue
        worse = rows.copy()
        spread = np.nanstd(rows[:, names.index(name)]) or 1.0
        worse[:, names.index(name)] += sign * spread  # one standard deviation less healthy
        before = np.asarray(booster.predict(rows, raw_score=True))  # dense rows: an array
        after = np.asarray(booster.predict(worse, raw_score=True))
        assert (after >= before - 1e-9).all(), f"{name} ({feature(name).healthy} is healthy)"


# --- model selection and the plain baselines --------------------------------------------


class _Scores:
    """A stand-in booster returning fixed validation scores."""

    def __init__(self, scores: np.ndarray) -> None:
        self.scores = scores

    def predict(self, x: np.ndarray, raw_score: bool = True, num_threads: int = 1) -> np.ndarray:
        return self.scores


def _candidates(noise: dict[str, float], n: int = 600, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(float)
    validation = pd.DataFrame({"account_id": [f"a{i}" for i in range(n)], "churn": y})
    out = []
    for kind, sd in noise.items():
        scores = y + rng.normal(0, sd, n)
        auc = evaluate(y, 1 / (1 + np.exp(-scores)), pd.Series([AS_OF] * n))["roc_auc"]
        out.append((auc, kind, LightGBMParams(), ["f"], _Scores(scores)))
    validation["f"] = 0.0
    return out, validation


def test_selection_takes_the_simpler_candidate_when_the_best_is_within_noise():
    from training.search import _one_standard_error

    close, validation = _candidates({"configured": 1.0, "simple": 1.02, "unconstrained": 0.98})
    assert _one_standard_error(close, validation, "churn", seed=0)[1] == "simple"
    apart, validation = _candidates({"configured": 0.6, "simple": 2.0, "unconstrained": 0.59})
    assert _one_standard_error(apart, validation, "churn", seed=0)[1] == "configured"


def test_paired_auc_gap_and_its_noise():
    from training.evaluate import paired_auc_gap

    rng = np.random.default_rng(4)
    y = (rng.random(2000) < 0.3).astype(float)
    accounts = np.repeat(np.arange(400), 5)
    good, poor = y + rng.normal(0, 0.5, 2000), y + rng.normal(0, 2.0, 2000)
    gap, se = paired_auc_gap(y, good, poor, accounts)
    assert gap > 3 * se > 0
    assert paired_auc_gap(y, good, good, accounts) == (0.0, 0.0)


def test_weighted_auc_equals_roc_auc_on_the_resampled_rows():
    from sklearn.metrics import roc_auc_score

    from training.evaluate import WeightedAuc

    rng = np.random.default_rng(8)
    y = (rng.random(600) < 0.2).astype(float)
    for score in (y + rng.normal(0, 1.0, 600), np.round(rng.random(600) * 5) + y):  # ties
        auc = WeightedAuc(y, score)
        for _ in range(20):
            counts = rng.multinomial(600, np.full(600, 1 / 600))
            rows = np.repeat(np.arange(600), counts)
            assert auc(counts.astype(float)) == pytest.approx(
                roc_auc_score(y[rows], score[rows]), abs=1e-12
            )
    single = np.where(y == 1, 0.0, 1.0)  # weights on negatives only
    assert not WeightedAuc(y, y).defined(single)


def test_the_logistic_baseline_leaves_out_features_never_observed(dataset):
    from training.baselines import LogisticBaseline

    split = time_split(dataset, "churn", AS_OF, SplitConfig(test_months=3, validation_months=2))
    train = split.train.assign(nps_latest=np.nan)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Skipping features without any observed values"
        logistic = LogisticBaseline(list(FEATURE_NAMES), "churn").fit(train)
    assert "nps_latest" not in logistic.used_
    assert logistic.predict_proba(split.test).shape == (len(split.test),)


def test_training_reports_the_model_against_plain_baselines_on_the_same_rows(dataset, config):
    from training.train import fit_target, gap_lines

    split = time_split(dataset, "churn", AS_OF, SplitConfig(test_months=3, validation_months=2))
    names = list(FEATURE_NAMES)
    healthy = healthy_reference(split.train[split.train["churn"] == 0], names)
    result = fit_target(dataset, "churn", AS_OF, config, names, healthy, lambda _: None, split)
    assert set(result.metrics) >= {"model", "plain_lightgbm", "logistic_regression"}
    assert {len(p) for p in result.test_probability.values()} == {len(split.test)}
    lines = gap_lines(result)
    assert any(line.startswith("model - plain_lightgbm ROC-AUC") for line in lines)
    assert any(line.startswith("model - health_score ROC-AUC") for line in lines)
    assert result.search.kind in lines[0]


def test_the_gap_to_a_baseline_says_whether_it_is_beyond_noise_either_way():
    from types import SimpleNamespace

    from training.train import NOISE_Z, gap_lines

    se = 0.01
    result = SimpleNamespace(
        search=SimpleNamespace(kind="configured"),
        model=SimpleNamespace(feature_names=["a", "b"]),
        gaps={"ahead": (2 * NOISE_Z * se, se), "close": (0.5 * NOISE_Z * se, se),
              "behind": (-2 * NOISE_Z * se, se)},
    )  # fmt: skip
    lines = gap_lines(result)  # type: ignore[arg-type]
    verdicts = [line.rsplit(": ", 1)[1] for line in lines[1:]]
    assert verdicts == ["better beyond noise", "within noise", "worse beyond noise"]


def test_a_period_whose_positives_come_from_few_accounts_is_flagged():
    from types import SimpleNamespace

    from training.train import MIN_POSITIVE_ACCOUNTS, thin_lines

    def part(accounts: list[str], churned: list[int]) -> pd.DataFrame:
        return pd.DataFrame({"account_id": accounts, "churn": churned})

    enough = [f"a{i}" for i in range(MIN_POSITIVE_ACCOUNTS)]
    validation = part([*enough, "b"], [1] * MIN_POSITIVE_ACCOUNTS + [0])
    # one account's long term: six churned snapshots, one account
    test = part(["x"] * 6 + ["y", "z"], [1] * 6 + [0, 0])
    split = SimpleNamespace(validation=validation, test=test)
    lines = thin_lines(SimpleNamespace(target="churn", split=split))  # type: ignore[arg-type]
    assert len(lines) == 1
    assert lines[0].startswith("warning: the test period's 6 positive snapshots come from 1 ")
    assert "test figures above rest on too few churn outcomes" in lines[0]
    split.validation = part(enough[:2] * 3, [1] * 6)
    lines = thin_lines(SimpleNamespace(target="churn", split=split))  # type: ignore[arg-type]
    assert "validation period's 6 positive snapshots come from 2 accounts" in lines[0]
    assert "calibration and risk tiers" in lines[0]


def test_a_model_that_ranks_no_better_than_chance_is_flagged():
    """A first model becomes champion with nothing to beat: at chance, it is said."""
    from types import SimpleNamespace

    from training.train import chance_lines

    rng = np.random.default_rng(3)
    churned = (np.arange(200) % 5 == 0).astype(float)  # 40 churned accounts of 200
    test = pd.DataFrame({"account_id": [f"a{i}" for i in range(200)], "churn": churned})

    def lines(score: np.ndarray) -> list[str]:
        result = SimpleNamespace(
            target="churn", split=SimpleNamespace(test=test), test_probability={"model": score}
        )
        return chance_lines(result)  # type: ignore[arg-type]

    noise = rng.uniform(0, 1, 200)
    found = lines(noise)  # a score that knows nothing
    assert len(found) == 1 and found[0].startswith("warning: the churn model ranks the test")
    assert "within noise of chance" in found[0]
    assert lines(0.6 * churned + 0.4 * noise) == []  # ranks well beyond noise
    test["churn"] = 0.0
    assert lines(noise) == []  # one outcome only: nothing to judge


def test_a_band_of_terms_scored_off_beyond_noise_is_flagged():
    """The eighth audit: annual terms in a monthly book scored at 4%, churned at 25%."""
    from types import SimpleNamespace

    from training.train import term_calibration, term_lines

    rng = np.random.default_rng(0)
    monthly, annual = 600, 120
    days = np.r_[np.full(monthly, 31.0), np.full(annual, 365.0)]
    truth = np.r_[np.full(monthly, 0.03), np.full(annual, 0.25)]
    churned = (rng.random(monthly + annual) < truth).astype(int)
    accounts = np.r_[[f"m{i % 100}" for i in range(monthly)], [f"a{i}" for i in range(annual)]]
    test = pd.DataFrame({"account_id": accounts, "churn": churned, "term_length_days": days})
    train = pd.DataFrame({"term_length_days": np.r_[np.full(1629, 31.0), np.full(37, 365.0)]})
    result = SimpleNamespace(
        target="churn",
        split=SimpleNamespace(test=test, train=train),
        test_probability={"model": np.full(monthly + annual, 0.04)},
    )
    lines = term_lines("churn", term_calibration(result))  # type: ignore[arg-type]

    def warned() -> bool:
        bands = term_calibration(result)  # type: ignore[arg-type]
        return any(line.startswith("warning") for line in term_lines("churn", bands))

    assert lines[0].startswith("terms under 6 months: scored 4.0%")  # within noise
    assert lines[1].startswith("warning: terms of 6 months or more: scored 4.0%")
    assert "under-predicted beyond noise; training held 37 of 1,666 snapshots" in lines[1]
    assert "too few to learn them apart" in lines[1]
    # beyond noise on many rows but near the mark (the demo's upsell: 26.4% against 28.5%)
    near = np.where(days < 180, 0.03, 0.22)
    result.test_probability = {"model": near}
    assert not warned()
    # scored at their own rates: nothing to warn of
    result.test_probability = {"model": truth}
    assert not warned()
    # a book of one kind of term says nothing
    result.split.test = test[days < 180]
    result.test_probability = {"model": np.full(monthly, 0.04)}
    assert term_calibration(result) == []  # type: ignore[arg-type]


def test_the_heading_and_split_line_say_how_many_outcomes_the_figures_rest_on():
    """The nineteenth audit: 61 churned test snapshots from 18 accounts, not said anywhere."""
    from types import SimpleNamespace

    from training.split import TimeSplit
    from training.train import header_line

    def part(start: str, accounts: list[str], churned: list[int]) -> pd.DataFrame:
        dates = pd.date_range(start, periods=len(accounts), freq="MS")
        return pd.DataFrame({"account_id": accounts, "churn": churned, "as_of": dates})

    split = TimeSplit(
        "churn",
        part("2024-01-01", ["a", "b", "c", "d"], [1, 0, 0, 1]),
        part("2025-01-01", ["a", "b", "c"], [1, 1, 0]),
        part("2025-06-01", ["x", "x", "x", "y", "z"], [1, 1, 1, 0, 0]),
        pd.Timestamp("2025-01-01"),
        pd.Timestamp("2025-06-01"),
    )
    heading = header_line(SimpleNamespace(target="churn", split=split))  # type: ignore[arg-type]
    assert "5 snapshots, 3 positive from 1 account;" in heading
    line = split.describe()
    assert "(3, 2 positive)" in line and "(5, 3 positive)" in line
