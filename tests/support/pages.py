"""One small simulated world served with the CSM pages: users, a store, real source tables.

Models come from `tests.support.serving` (small LightGBM on random accounts, real feature
names) with an uplift stand-in whose effects differ by account, so actions carry expected
effects and uncertainty. One account's name holds `<script>` to prove escaping.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from argon2 import PasswordHasher

from actions.playbook import DEFAULT_PLAYBOOK, load_playbook
from retain.settings import Settings
from serving.models import ModelStore
from serving.scoring import ScoringService
from serving.snapshots import FeatureStore
from simulator.world import simulate
from tests.support import write_tables
from tests.support.serving import make_bundle, test_settings
from training.uplift import ActionEffect, UpliftConfig

PASSWORD = "correct horse battery"
SECRET = "a-test-session-secret-of-forty-characters"
SCRIPT_NAME = '<script>alert("owned")</script> Labs'
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # tests only


class VariedUplift:
    """Stands in for a fitted uplift model: a business review helps in proportion to risk,
    by half as much as history alone shows it (before the hidden selection is taken out)."""

    def __init__(self) -> None:
        self.config = UpliftConfig(costs={"business_review": 300.0, "health_check": 50.0})
        self.actions_ = ["business_review", "health_check"]

    def effects(self, X: pd.DataFrame) -> dict[str, ActionEffect]:
        n = len(X)
        quiet = np.nan_to_num(X["days_since_key_user_active"].to_numpy(dtype=float), nan=30.0)
        review = -np.clip(quiet / 1000.0, 0.005, 0.12)

        def learned(effect: np.ndarray) -> ActionEffect:
            return ActionEffect(
                effect,
                np.full(n, 0.015),
                np.full(n, "learned", dtype=object),
                np.full(n, "learned from 300 reviews", dtype=object),
                history=effect / 2,
            )

        return {"business_review": learned(review), "health_check": learned(np.full(n, -0.004))}


@dataclass
class PagesWorld:
    """What a pages test needs: the service, settings, and who signs in as what."""

    service: ScoringService
    settings: Settings
    data: Path
    csm: str  # username of a CSM with accounts
    csm_owner: str
    other_csm: str
    other_owner: str
    manager: str
    script_account: str


def build_world(
    root: Path, accounts: int = 40, seed: int = 3, decomposed_id: bool = False
) -> PagesWorld:
    """Simulate, write, load and score a small world; write its users file and store.

    `decomposed_id`: the markup-named account's id is `Café-<id>`, spelled decomposed (NFD)
    in every table, as some exports spell it.
    """
    tables = simulate(accounts, seed, months=15).tables
    data = write_tables(tables, root / "data", "parquet")
    features = FeatureStore.from_source(str(data))
    active = set(features.latest.account_ids)
    owned = tables["accounts"][tables["accounts"]["account_id"].isin(active)]
    counts = owned["csm_owner"].value_counts()
    owner, other = str(counts.index[0]), str(counts.index[1])
    script_account = str(owned[owned["csm_owner"] == owner]["account_id"].iloc[-1])
    named = tables["accounts"].copy()
    named.loc[named["account_id"] == script_account, "name"] = SCRIPT_NAME
    # two active accounts without a CSM owner, as a quarter of the eighth audit's were
    others = owned[~owned["csm_owner"].isin([owner, other])]["account_id"].head(2)
    named.loc[named["account_id"].isin(others), "csm_owner"] = None
    changed = {"accounts": named}
    if decomposed_id:
        changed = {**tables, **changed}
        spelt = unicodedata.normalize("NFD", f"Café-{script_account}")
        for frame in changed.values():
            frame.loc[frame["account_id"] == script_account, "account_id"] = spelt
        script_account = spelt
    write_tables(changed, data, "parquet")  # same files, new names (and id)
    features = FeatureStore.from_source(str(data))
    hashed = CHEAP.hash(PASSWORD)
    users = [
        {"username": "dana", "name": owner, "role": "csm", "password_hash": hashed},
        {"username": "lee", "name": "Lee", "role": "csm", "owner": other, "password_hash": hashed},
        {"username": "morgan", "name": "Morgan Reyes", "role": "manager", "password_hash": hashed},
    ]
    users_file = root / "users.yaml"
    users_file.write_text(yaml.safe_dump({"users": users}), encoding="utf-8")
    bundle = make_bundle(uplift=VariedUplift())
    service = ScoringService(ModelStore(bundle), features, load_playbook(DEFAULT_PLAYBOOK))
    settings = test_settings(
        store_url=f"sqlite:///{root}/store.db",
        users_file=users_file,
        session_secret=SECRET,
        data=str(data),
    )
    return PagesWorld(
        service, settings, data, "dana", owner, "lee", other, "morgan", script_account
    )


def short_term_accounts(world: PagesWorld) -> set[str]:
    """Accounts whose latest term (from the subscriptions as written) is under 6 months."""
    terms = world.service.features.source.con.execute(
        "SELECT account_id, max_by(date_diff('day', start_date, end_date), start_date)"
        " FROM subscriptions WHERE kind <> 'expansion' GROUP BY account_id"
    ).fetchall()
    return {str(a) for a, days in terms if days < 180}
