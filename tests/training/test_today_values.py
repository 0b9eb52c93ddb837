"""Training leaves out `employees` when churned accounts' sizes were cleared (seventeenth audit).

A CRM keeps today's size: once an account left, it was cleared (or refreshed), and every
snapshot of a churned account, years before the churn, read it unknown. On the audit's
export the churn model put half its gain on it, and `retain train` reported a test
ROC-AUC of 0.935 where the renewals after the cut bore out 0.780.
"""

from __future__ import annotations

from pathlib import Path

from features.contract import TABLES
from tests.support import write_tables
from tests.support.tables import random_world
from training.config import load_config
from training.train import build_training_set, model_features


def _source(tmp_path: Path, clear: bool) -> str:
    tables = random_world(5, n_accounts=60)
    terms = tables["subscriptions"]
    terms = terms[terms["kind"] != "expansion"].sort_values("start_date")
    latest = terms.groupby("account_id").tail(1)
    churned = set(latest.loc[latest["outcome"] == "churned", "account_id"])
    assert len(churned) >= 10
    accounts = tables["accounts"].assign(employees=250)
    if clear:
        accounts["employees"] = accounts["employees"].where(~accounts["account_id"].isin(churned))
    tables["accounts"] = accounts
    for name, frame in tables.items():  # every contract column, the nullable ones empty
        for column in TABLES[name].column_names:
            if column not in frame:
                frame[column] = None
    return str(write_tables(tables, tmp_path / ("cleared" if clear else "kept"), fmt="parquet"))


def test_sizes_cleared_at_churned_accounts_are_left_out_and_said(tmp_path: Path) -> None:
    said: list[str] = []
    dataset, _ = build_training_set(
        _source(tmp_path, True), None, load_config(), report=said.append
    )
    assert dataset["employees"].isna().all()
    told = [line for line in said if line.startswith("Leaving `employees` out of the models")]
    assert len(told) == 1 and "churned accounts" in told[0]


def test_sizes_kept_are_read(tmp_path: Path) -> None:
    said: list[str] = []
    dataset, _ = build_training_set(
        _source(tmp_path, False), None, load_config(), report=said.append
    )
    assert (dataset["employees"] == 250).all()
    assert not any("employees" in line for line in said)


def test_the_models_read_employees_only_where_it_is_known(tmp_path: Path) -> None:
    cleared, _ = build_training_set(_source(tmp_path, True), None, load_config(), report=None)
    kept, _ = build_training_set(_source(tmp_path, False), None, load_config(), report=None)
    assert "employees" in model_features(kept)
    assert "employees" not in model_features(cleared)
    assert model_features(cleared) == [name for name in model_features(kept) if name != "employees"]
    # another feature unknown everywhere is still read (say, NPS without surveys)
    assert "nps_latest" in model_features(kept.assign(nps_latest=float("nan")))
