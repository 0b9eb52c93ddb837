"""The simulator: contract shape, integrity, determinism and the causal structure it carries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from features.contract import ACTION_CODES, BOOL, DATE, FLOAT, INT, STRING, TABLES, TIMESTAMP
from simulator.world import World, simulate, simulate_to_dir
from simulator.writer import ARROW_TYPES


@pytest.fixture(scope="module")
def world() -> World:
    return simulate(600, seed=11)


def _terms(world: World) -> pd.DataFrame:
    subs = world.tables["subscriptions"]
    return subs[subs.kind != "expansion"]


def test_same_seed_same_world_and_other_seed_differs() -> None:
    first, again, other = simulate(60, seed=5), simulate(60, seed=5), simulate(60, seed=6)
    for name in TABLES:
        pd.testing.assert_frame_equal(first.tables[name], again.tables[name])
    for name in first.truth:
        pd.testing.assert_frame_equal(first.truth[name], again.truth[name])
    assert not first.tables["events"].equals(other.tables["events"])
    assert not first.tables["subscriptions"].equals(other.tables["subscriptions"])


def test_every_contract_column_with_its_type_family(world: World) -> None:
    def is_text(values: pd.Series) -> bool:
        return pd.api.types.is_string_dtype(values) or bool(values.isna().all())

    checks = {
        STRING: is_text,
        INT: pd.api.types.is_integer_dtype,
        FLOAT: pd.api.types.is_float_dtype,
        BOOL: pd.api.types.is_bool_dtype,
        DATE: pd.api.types.is_datetime64_dtype,
        TIMESTAMP: pd.api.types.is_datetime64_dtype,
    }
    for name, table in TABLES.items():
        frame = world.tables[name]
        assert list(frame.columns) == list(table.column_names), name
        assert len(frame) > 0, name
        for column in table.columns:
            assert checks[column.type](frame[column.name]), f"{name}.{column.name}"
            if not column.nullable:
                assert frame[column.name].notna().all(), f"{name}.{column.name}"
            if column.enum:
                assert set(frame[column.name].dropna()) <= set(column.enum), column.name
        if table.key:
            assert not frame.duplicated(list(table.key)).any(), name


def test_references_point_at_existing_rows(world: World) -> None:
    accounts = set(world.tables["accounts"].account_id)
    users = world.tables["users"].set_index("user_id")
    for name, table in TABLES.items():
        frame = world.tables[name]
        for column in table.columns:
            if column.references == "accounts.account_id":
                assert set(frame[column.name]) <= accounts, f"{name}.{column.name}"
            if column.references == "users.user_id":
                ids = frame[column.name].dropna()
                assert ids.isin(users.index).all(), f"{name}.{column.name}"
    events = world.tables["events"].sample(20_000, random_state=0)
    assert (users.loc[events.user_id, "account_id"].to_numpy() == events.account_id).all()


def test_terms_are_well_formed(world: World) -> None:
    subs = world.tables["subscriptions"]
    assert (subs.end_date > subs.start_date).all()
    assert (subs.arr >= 0).all()
    terms = _terms(world)
    length = (terms.end_date - terms.start_date).dt.days
    monthly = length < 40
    assert 0.03 < monthly.groupby(terms.account_id).any().mean() < 0.2
    assert length[~monthly].between(365, 366).all()
    first = terms.sort_values("start_date").groupby("account_id").kind.first()
    assert (first == "new").all()
    closed = terms.end_date <= world.end
    assert terms.loc[closed, "outcome"].notna().all()
    assert terms.loc[~closed, "outcome"].isna().all()
    assert subs.loc[subs.kind == "expansion", "outcome"].isna().all()
    assert (terms.start_date < world.start).any() and (terms.start_date > world.start).any()


def test_expansions_are_co_terminous_with_their_term(world: World) -> None:
    subs = world.tables["subscriptions"]
    expansions = subs[subs.kind == "expansion"]
    assert len(expansions) > 20
    pairs = expansions.merge(_terms(world), on="account_id", suffixes=("", "_term"))
    inside = (pairs.start_date > pairs.start_date_term) & (pairs.end_date == pairs.end_date_term)
    assert inside.groupby(pairs.subscription_id).any().all()


def test_nothing_is_dated_after_the_window_end(world: World) -> None:
    for name, table in TABLES.items():
        for column in table.columns:
            if column.type == TIMESTAMP:
                values = world.tables[name][column.name].dropna()
                assert (values <= world.end).all(), f"{name}.{column.name}"
    for name, stamp in (("events", "ts"), ("tickets", "opened_at"), ("touchpoints", "ts")):
        assert (world.tables[name][stamp] >= world.start).all()
    assert (world.tables["outcomes"].period_end < world.end).all()
    assert set(world.tables["touchpoints"].type) <= set(ACTION_CODES)


def _decisions(world: World) -> pd.DataFrame:
    """Closed terms decided in the window, with the month start of their decision."""
    terms = _terms(world).dropna(subset=["outcome"])
    terms = terms[terms.end_date > world.start].copy()
    terms["as_of"] = (terms.end_date - pd.Timedelta(days=1)).dt.to_period("M").dt.to_timestamp()
    terms["churned"] = terms.outcome == "churned"
    return terms


def test_churn_is_higher_without_a_key_user(world: World) -> None:
    decisions = _decisions(world)
    keys = world.tables["users"].query("is_key_user")
    pairs = decisions[["account_id", "as_of", "churned"]].merge(keys, on="account_id", how="left")
    active = (pairs.created_at <= pairs.as_of) & (
        pairs.deactivated_at.isna() | (pairs.deactivated_at > pairs.as_of)
    )
    has_key = active.groupby([pairs.account_id, pairs.as_of]).any().rename("has_key")
    rows = decisions.join(has_key, on=["account_id", "as_of"])
    without, with_key = rows[~rows.has_key], rows[rows.has_key]
    assert len(without) > 30
    assert without.churned.mean() > 1.5 * with_key.churned.mean()


def test_churn_is_higher_when_kpis_miss_target(world: World) -> None:
    decisions = _decisions(world)
    kpis = world.tables["outcomes"].assign(ratio=lambda o: o.actual / o.target)
    pairs = decisions[["account_id", "as_of", "churned"]].merge(kpis, on="account_id")
    recent = (pairs.period_end < pairs.as_of) & (
        pairs.period_end >= pairs.as_of - pd.Timedelta(days=92)
    )
    ratio = pairs[recent].groupby(["account_id", "as_of", "churned"]).ratio.mean().reset_index()
    missed = ratio.ratio < 0.9
    assert missed.sum() > 50
    assert ratio[missed].churned.mean() > 2 * ratio[~missed].churned.mean()


def test_truth_is_the_mechanism_behind_renewals(world: World) -> None:
    from sklearn.metrics import roc_auc_score

    decisions = _decisions(world).merge(world.truth["churn"], on=["account_id", "as_of"])
    assert len(decisions) > 500
    assert roc_auc_score(decisions.churned, decisions.churn_probability) > 0.8
    assert abs(decisions.churn_probability.mean() - decisions.churned.mean()) < 0.03
    truth = world.truth["churn"]
    assert truth.churn_probability.between(0, 1).all()
    assert truth.upsell_probability.between(0, 1).all()
    assert (truth.as_of.dt.day == 1).all() and (truth.as_of.dt.hour == 0).all()


def test_action_effects_depend_on_the_situation(world: World) -> None:
    effects = world.truth["action_effects"]
    assert set(effects.action) == set(ACTION_CODES)
    events = world.tables["events"]
    month = events.ts.dt.to_period("M").dt.to_timestamp() + pd.offsets.MonthBegin(1)
    modules = events.groupby([events.account_id, month.rename("as_of")]).module.nunique()
    training = effects[effects.action == "training"].join(
        modules.rename("modules_used"), on=["account_id", "as_of"]
    )
    low = training[training.modules_used <= 2].effect.mean()
    high = training[training.modules_used >= 6].effect.mean()
    assert low < high - 0.02
    upsell = effects[effects.action == "upsell_offer"].merge(
        world.truth["churn"], on=["account_id", "as_of"]
    )
    risky = upsell.churn_probability > upsell.churn_probability.quantile(0.8)
    safe = upsell.churn_probability < upsell.churn_probability.quantile(0.2)
    assert upsell[risky].effect.mean() > 0.05
    assert upsell[safe].effect.mean() < 0.01
    replacement = effects[effects.action == "key_user_replacement"]
    # Held until the renewal, naming a key user never hurts; looking ahead (the CS team
    # then relaxes, the account's luck plays out) it helps where one-step says it does.
    assert (replacement.effect_if_unchanged <= 1e-12).all()
    assert (replacement.effect_if_unchanged < -0.05).any()
    helps = replacement.effect_if_unchanged < -0.05
    assert replacement[helps].effect.mean() < -0.05
    assert replacement.effect.corr(replacement.effect_if_unchanged) > 0.5
    assert (replacement.effect > 0.02).mean() < 0.01


def test_look_ahead_effects_share_each_paths_luck(world: World) -> None:
    # A constant shift of the term's churn log-odds (health check: -0.1) can only lower
    # the churn probability; with and without it the look-ahead paths draw the same
    # numbers, so the difference carries no sampling noise of the wrong sign.
    effects = world.truth["action_effects"]
    check = effects[effects.action == "health_check"]
    assert (check.effect < 1e-9).all() and (check.effect < -0.005).mean() > 0.5


def test_expansions_favour_healthy_accounts(world: World) -> None:
    subs = world.tables["subscriptions"]
    expansions = subs[subs.kind == "expansion"]
    truth = world.truth["churn"]
    buyers = truth.account_id.isin(expansions.account_id)
    assert truth[buyers].churn_probability.mean() < truth[~buyers].churn_probability.mean()
    assert truth[buyers].upsell_probability.mean() > truth[~buyers].upsell_probability.mean()


def _read_back(folder: Path, name: str, fmt: str) -> pd.DataFrame:
    table = TABLES[name]
    if fmt == "parquet":
        path = folder / name if name == "events" else folder / f"{name}.parquet"
        frame = pq.read_table(path).to_pandas()
    else:
        types = {c.name: ARROW_TYPES[c.type] for c in table.columns}
        options = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True)
        frame = pacsv.read_csv(folder / f"{name}.csv", convert_options=options).to_pandas()
    frame = frame[list(table.column_names)]
    return frame.sort_values(list(table.column_names)).reset_index(drop=True)


def test_csv_and_parquet_hold_the_same_rows(tmp_path: Path) -> None:
    simulate_to_dir(tmp_path / "pq", n_accounts=40, seed=3, months=6, fmt="parquet")
    simulate_to_dir(tmp_path / "csv", n_accounts=40, seed=3, months=6, fmt="csv")
    assert len(list((tmp_path / "pq" / "events").glob("*.parquet"))) == 6
    for name in TABLES:
        from_parquet = _read_back(tmp_path / "pq", name, "parquet")
        from_csv = _read_back(tmp_path / "csv", name, "csv")
        assert len(from_parquet) > 0, name
        pd.testing.assert_frame_equal(from_parquet, from_csv, check_dtype=False, obj=name)
    for folder in ("pq", "csv"):
        truth = pd.read_parquet(tmp_path / folder / "_truth" / "action_effects.parquet")
        assert list(truth.columns) == [
            "account_id",
            "as_of",
            "action",
            "effect",
            "effect_if_unchanged",
        ]


def test_written_world_passes_contract_validation(tmp_path: Path) -> None:
    from features.source import open_source
    from features.validate import validate_source

    for fmt in ("parquet", "csv"):
        simulate_to_dir(tmp_path / fmt, n_accounts=50, seed=9, months=8, fmt=fmt)
        with open_source(tmp_path / fmt) as source:
            problems = validate_source(source)
            assert set(source.present) == set(TABLES)
        assert problems == [], [str(p) for p in problems]


def test_event_volume_scales_with_the_configured_rate() -> None:
    from simulator.config import SimConfig

    base = simulate(40, seed=2, months=4)
    busy = simulate(40, seed=2, months=4, config=SimConfig(events_per_user_month=24.0))
    ratio = len(busy.tables["events"]) / len(base.tables["events"])
    assert 2.5 < ratio < 3.5
    assert np.isclose(base.stats["events"], len(base.tables["events"]))


def _running_terms(world: World) -> pd.DataFrame:
    """Truth rows joined to the outcome of the term running at `as_of`, decided later."""
    terms = _terms(world).dropna(subset=["outcome"])
    rows = world.truth["churn"].merge(
        terms[["account_id", "start_date", "end_date", "outcome"]], on="account_id"
    )
    rows = rows[(rows.start_date <= rows.as_of) & (rows.as_of < rows.end_date)]
    ahead = rows.end_date > rows.as_of + pd.offsets.MonthBegin(1)
    return rows[ahead].assign(churned=lambda r: r.outcome == "churned")


def test_truth_is_the_expected_probability_of_renewals_months_ahead(world: World) -> None:
    rows = _running_terms(world)
    assert len(rows) > 3000
    realised = rows.churned.mean()
    # A term's one outcome is shared by all its monthly snapshots: the standard error of
    # the mean gap is clustered by term, and a calibrated truth stays within 3 of them.
    residual = (
        (rows.churned - rows.churn_probability).groupby([rows.account_id, rows.start_date]).sum()
    )
    clustered_se = float(np.sqrt((residual**2).sum())) / len(rows)
    gap = abs(rows.churn_probability.mean() - realised)
    assert gap < min(3 * clustered_se, 0.04), (gap, clustered_se)
    # The state-frozen probability ignores drift and misses the realised rate by far.
    assert rows.churn_probability_if_unchanged.mean() - realised > 0.04
    bins = pd.qcut(rows.churn_probability, 5)
    by_bin = rows.groupby(bins, observed=True).agg(
        p=("churn_probability", "mean"), y=("churned", "mean")
    )
    assert (abs(by_bin.p - by_bin.y) < 0.05).all(), by_bin


def test_truth_ranks_snapshots_better_than_the_frozen_state(world: World) -> None:
    from sklearn.metrics import roc_auc_score

    rows = _running_terms(world)
    looked_ahead = roc_auc_score(rows.churned, rows.churn_probability)
    frozen = roc_auc_score(rows.churned, rows.churn_probability_if_unchanged)
    assert looked_ahead > frozen + 0.01


def test_truth_draws_do_not_change_the_world() -> None:
    from simulator.config import SimConfig

    few = simulate(60, seed=4, months=6, config=SimConfig(truth_draws=2))
    many = simulate(60, seed=4, months=6, config=SimConfig(truth_draws=12))
    for name in few.tables:
        pd.testing.assert_frame_equal(few.tables[name], many.tables[name], obj=name)
    frozen = "churn_probability_if_unchanged"
    pd.testing.assert_series_equal(few.truth["churn"][frozen], many.truth["churn"][frozen])
    assert not np.allclose(
        few.truth["churn"].churn_probability, many.truth["churn"].churn_probability
    )


def test_look_ahead_draws_belong_to_paths_not_positions() -> None:
    from simulator.outlook import _Draws

    rows = np.array([0, 3, 7])
    alone = _Draws([1, 2, 3], 10, rows[1:2])
    among = _Draws([1, 2, 3], 10, rows)
    assert alone.random(1)[0] == among.random(3)[1]
    assert alone.normal(0.0, 1.0, 1)[0] == among.normal(0.0, 1.0, 3)[1]
    # A different count on one path does not move the next path's draw.
    a = _Draws([4], 2, np.array([0, 1])).binomial(np.array([1, 40]), 0.3)
    b = _Draws([4], 2, np.array([0, 1])).binomial(np.array([30, 40]), 0.3)
    assert a[1] == b[1]


def test_look_ahead_counts_follow_their_distributions() -> None:
    from simulator.outlook import _Draws

    n = 200_000
    everyone = np.arange(n)
    counts = _Draws([5], n, everyone).binomial(np.full(n, 12), 0.025)
    assert counts.min() >= 0 and counts.max() <= 12
    assert abs(counts.mean() - 12 * 0.025) < 0.01
    assert abs(counts.var() - 12 * 0.025 * 0.975) < 0.01
    lam = np.where(everyone % 2 == 0, 0.0, 7.5)
    hires = _Draws([6], n, everyone).poisson(lam)
    assert (hires[lam == 0] == 0).all()
    assert abs(hires[lam > 0].mean() - 7.5) < 0.05
    assert abs(hires[lam > 0].var() - 7.5) < 0.15
