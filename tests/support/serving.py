"""A real small LightGBM `AccountModel` over random accounts, and a scoring service on it."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import duckdb
import lightgbm as lgb
import numpy as np
import pandas as pd

from actions.playbook import DEFAULT_PLAYBOOK, load_playbook
from actions.ranking import PAIN_FACTS
from features.definitions import FEATURE_NAMES, FEATURES
from retain.settings import Settings
from serving.models import ModelBundle, ModelStore
from serving.scoring import ScoringService
from serving.snapshots import FeatureStore, snapshot_from_frames
from training.calibration import Calibrator
from training.model import AccountModel, healthy_band
from training.uplift import ActionEffect, UpliftConfig

AS_OF = datetime(2026, 6, 1)
API_KEY = "test-key-0123456789"
OTHER_KEY = "other-key-0123456789"
CHURN_DRIVER = "days_since_key_user_active"  # the synthetic churn model mostly reads this
UPSELL_DRIVER = "seat_utilization_30d"


def calm_values() -> dict[str, float]:
    """A value of each pain fact (`actions.ranking.PAIN_FACTS`) that is no pain."""
    return {name: 0.0 if op == ">=" else bound + 1.0 for name, (op, bound) in PAIN_FACTS.items()}


def random_features(n: int, seed: int = 0, as_of: datetime = AS_OF) -> pd.DataFrame:
    """Plausible random feature rows for `n` accounts, by each feature's unit; some NaN."""
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    for feature in FEATURES:
        unit = feature.unit
        if unit == "yes/no":
            values = rng.integers(0, 2, n).astype(float)
        elif unit.startswith("share") or unit == "ratio":
            values = rng.uniform(0, 1.3 if "target" in unit else 1, n)
        elif unit.startswith("change"):
            values = rng.uniform(-1, 1, n)
        elif unit.startswith("score"):
            values = rng.uniform(0, 10, n).round()
        elif unit.startswith("currency"):
            values = rng.uniform(5_000, 100_000, n).round()
        else:
            values = rng.integers(0, 120, n).astype(float)
        values[rng.uniform(size=n) < 0.05] = np.nan
        columns[feature.name] = values
    frame = pd.DataFrame(columns)
    # a pain to mend (a key user gone, urgent tickets, first value overdue) on about a fifth
    # of the accounts, and use halved or a detractor's answer on about two fifths of the rest,
    # as growth asks are withheld from those (actions.ranking.in_pain) and detractors at risk
    # get the playbook's executive call; drawn apart, so every other column is as before
    calm = np.random.default_rng(seed + 1).uniform(size=n) < 0.8
    content = np.random.default_rng(seed + 2).uniform(size=n) < 0.6
    for pain, value in calm_values().items():
        at_least = PAIN_FACTS[pain][0] == ">="
        frame.loc[calm if at_least else calm & content, pain] = value
    # people and their events move together, as they do unless the logging changes: drawn
    # apart, events per active user rose 40% at 62% of the accounts with their users held,
    # which scoring reads as a tracking change (`FeatureSnapshot.tracking_change`)
    frame["active_users_change_30d"] = frame["events_change_30d"]
    frame["contract_arr"] = rng.uniform(5_000, 100_000, n).round()  # always known
    frame["days_to_renewal"] = rng.integers(1, 365, n).astype(float)
    frame.insert(0, "as_of", as_of)
    frame.insert(0, "account_id", [f"acct-{i:04d}" for i in range(n)])
    return frame


def make_model(target: str, seed: int = 0, trees: int = 30) -> AccountModel:
    """A real calibrated LightGBM AccountModel trained on random accounts."""
    rng = np.random.default_rng(seed)
    frame = random_features(600, seed=seed + 100)
    X = frame[list(FEATURE_NAMES)].to_numpy(dtype=float)
    driver = UPSELL_DRIVER if target == "upsell" else CHURN_DRIVER
    signal = np.nan_to_num(frame[driver].to_numpy(), nan=0.5 if target == "upsell" else 60)
    cut = 0.8 if target == "upsell" else 60
    y = ((signal > cut) ^ (rng.uniform(size=len(frame)) < 0.05)).astype(float)
    booster = lgb.train(
        {"objective": "binary", "num_leaves": 7, "learning_rate": 0.2, "verbose": -1,
         "seed": seed, "min_data_in_leaf": 10},
        lgb.Dataset(X, y, feature_name=list(FEATURE_NAMES)),
        num_boost_round=trees,
    )  # fmt: skip
    raw = np.asarray(booster.predict(X, raw_score=True))
    calibrator = Calibrator("platt").fit(raw, y)
    p = calibrator.transform(raw)
    healthy = frame.loc[y == 0, list(FEATURE_NAMES)].median()
    model = AccountModel(
        target=target,
        booster=booster,
        calibrator=calibrator,
        feature_names=list(FEATURE_NAMES),
        tier_thresholds={"high": float(np.quantile(p, 0.8)), "medium": float(np.quantile(p, 0.5))},
        healthy_reference={k: float(v) for k, v in healthy.items()},
    )
    model.healthy_band = healthy_band(frame.loc[y == 0], list(FEATURE_NAMES))
    return model


def make_bundle(version: str = "1", seed: int = 0, uplift: object = None) -> ModelBundle:
    """Churn and upsell models (and an uplift model when given) as one champion bundle."""
    versions = {"retain-churn": version, "retain-upsell": version}
    if uplift is not None:
        versions["retain-uplift"] = version
    return ModelBundle(
        make_model("churn", seed),
        make_model("upsell", seed + 1),
        versions,
        origin="memory",
        uplift=uplift,
    )


def make_service(
    n: int = 50, bundle: ModelBundle | None = None, store: ModelStore | None = None, **kw: object
) -> ScoringService:
    """A scoring service over `n` random accounts; other as_of dates get re-drawn features."""
    snapshot = snapshot_from_frames(AS_OF, random_features(n))

    def compute(as_of: datetime) -> object:
        compute.calls.append(as_of)  # type: ignore[attr-defined]
        return snapshot_from_frames(as_of, random_features(n, seed=as_of.toordinal(), as_of=as_of))

    compute.calls = []  # type: ignore[attr-defined]
    features = FeatureStore(snapshot, compute)  # type: ignore[arg-type]
    models = store or ModelStore(bundle or make_bundle())
    return ScoringService(models, features, load_playbook(DEFAULT_PLAYBOOK), **kw)  # type: ignore[arg-type]


def test_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {"api_keys": f"{OTHER_KEY},{API_KEY}", "reload_seconds": 3600}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


FAKE_COSTS = {"exec_sponsor_call": 500.0, "health_check": 50.0}


class FakeUplift:
    """Stands in for a fitted UpliftModel: the call cuts churn by 10 points for every
    account (6 as history alone shows it, before the hidden selection CSMs make is taken
    out), a health check adds nothing, upsell offers are unknown to history."""

    def __init__(self) -> None:
        self.config = UpliftConfig(costs=FAKE_COSTS)
        self.actions_ = ["exec_sponsor_call", "health_check", "upsell_offer"]
        self.calls = 0

    def effects(self, X: pd.DataFrame) -> dict[str, ActionEffect]:
        self.calls += 1
        n = len(X)

        def learned(value: float, history: float) -> ActionEffect:
            basis = np.full(n, "learned", dtype=object)
            reason = np.full(n, "learned from 400 times", dtype=object)
            found = ActionEffect(np.full(n, value), np.full(n, 0.02), basis, reason)
            return found._replace(history=np.full(n, history))

        unknown = ActionEffect(
            np.full(n, np.nan),
            np.full(n, np.nan),
            np.full(n, "playbook", dtype=object),
            np.full(n, "too few comparable cases", dtype=object),
        )
        return {
            "exec_sponsor_call": learned(-0.10, -0.06),
            "health_check": learned(0.0, 0.0),
            "upsell_offer": unknown,
        }


def planned_service(
    n: int, touched: str = "acct-0001", bundle: ModelBundle | None = None
) -> ScoringService:
    """`make_service(n, bundle)` with a source to plan a week from.

    Accounts owned by dana (even) and lee (odd), each in a yearly term that began 30 days
    before the data ends; `touched` was contacted (a health check) two days before it.
    """
    service = make_service(n=n, bundle=bundle)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE accounts AS SELECT 'acct-' || lpad(i::VARCHAR, 4, '0') AS account_id, "
        "CASE WHEN i % 2 = 0 THEN 'dana' ELSE 'lee' END AS csm_owner FROM range(?) t(i)",
        [n],
    )
    con.execute(
        "CREATE TABLE touchpoints AS SELECT 'tp1' AS touchpoint_id, ? AS account_id, "
        "?::TIMESTAMP AS ts, 'health_check' AS type",
        [touched, AS_OF - timedelta(days=2)],
    )
    con.execute(
        "CREATE TABLE subscriptions AS SELECT account_id, 'new' AS kind, "
        "?::DATE AS start_date, ?::DATE AS end_date FROM accounts",
        [AS_OF - timedelta(days=30), AS_OF + timedelta(days=335)],
    )
    service.features.source = SimpleNamespace(con=con)  # type: ignore[attr-defined]
    return service
