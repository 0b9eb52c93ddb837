"""The simulator's data-shape knobs: billing of growth, missing tables, ids, timestamps."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from features.labels import compute_labels
from features.source import load_source
from simulator.config import SimConfig
from simulator.shapes import OPTIONAL_TABLES, IdStyle
from simulator.world import World, simulate, simulate_to_dir


@pytest.fixture(scope="module")
def renewal_only() -> World:
    """Monthly terms whose growth arrives only with a renewal: no expansion rows."""
    return simulate(
        120, seed=3, months=14, config=SimConfig(expansions="renewal", monthly_term_share=1.0)
    )


def test_growth_billed_at_renewal_writes_no_expansion_rows_but_grows_renewals(renewal_only):
    subs = renewal_only.tables["subscriptions"]
    assert "expansion" not in set(subs["kind"])
    terms = subs.sort_values(["account_id", "start_date"])
    growth = terms.groupby("account_id")["arr"].diff() > 0
    assert growth.sum() >= 5


def test_no_growth_at_all():
    subs = simulate(80, seed=3, months=12, config=SimConfig(expansions="none")).tables[
        "subscriptions"
    ]
    assert "expansion" not in set(subs["kind"])
    assert (subs.sort_values(["account_id", "start_date"]).groupby("account_id")["arr"].diff()
            .fillna(0) <= 0).all()  # fmt: skip


def test_upsell_labels_on_a_world_whose_only_expansions_happen_at_renewals(renewal_only, tmp_path):
    """Growth only ever goes up here, so an upsell is exactly a renewal above today's ARR."""
    data = tmp_path / "world"
    simulate_to_dir(
        data, 120, seed=3, months=14,
        config=SimConfig(expansions="renewal", monthly_term_share=1.0),
    )  # fmt: skip
    grid = [datetime(2024, m, 1) for m in (2, 4, 6)]
    with load_source(str(data)) as source:
        labels = compute_labels(source.con, grid).dropna(subset=["upsell"])
    subs = renewal_only.tables["subscriptions"]
    renewals = subs[subs["kind"] == "renewal"]
    expected = []
    rows = zip(labels["account_id"], labels["as_of"], labels["arr"], strict=True)
    for account_id, as_of, arr in rows:
        t = pd.Timestamp(as_of)
        start = pd.to_datetime(renewals["start_date"])
        window = renewals[
            (renewals["account_id"] == account_id)
            & (start > t)
            & (start <= t + pd.Timedelta(days=180))
        ]
        expected.append(float((window["arr"] > arr + 1e-6).any()))
    assert labels["upsell"].sum() >= 5  # growth at renewal is found without expansion rows
    assert labels["upsell"].tolist() == expected


def test_optional_tables_are_left_out_of_the_export(tmp_path: Path):
    world = simulate_to_dir(
        tmp_path / "bare", 40, seed=2, months=6, config=SimConfig(tables=("surveys",))
    )
    assert set(world.tables) & set(OPTIONAL_TABLES) == {"surveys"}
    written = {p.name.split(".")[0] for p in (tmp_path / "bare").iterdir()}
    assert "surveys" in written and not written & {"tickets", "outcomes", "milestones"}
    with pytest.raises(ValueError, match="not optional"):
        simulate(10, seed=2, months=2, config=SimConfig(tables=("events",)))


@pytest.mark.parametrize("style", ["spaces", "unicode", "leading_zeros"])
def test_id_styles_keep_every_reference_intact(style: IdStyle):
    plain, styled = (
        simulate(40, seed=4, months=4),
        simulate(40, seed=4, months=4, config=SimConfig(id_style=style)),
    )
    accounts = styled.tables["accounts"]["account_id"]
    assert accounts.is_unique and not set(accounts) & set(plain.tables["accounts"]["account_id"])
    for name, frame in styled.tables.items():
        assert frame["account_id"].isin(accounts).all(), name
        assert len(frame) == len(plain.tables[name])
    assert styled.truth["churn"]["account_id"].isin(accounts).all()
    users = styled.tables["users"]["user_id"]
    assert styled.tables["events"]["user_id"].dropna().isin(users).all()


def test_zoned_timestamps_are_the_same_instants_with_an_offset(tmp_path: Path):
    world = simulate_to_dir(
        tmp_path / "z", 30, seed=4, months=3, config=SimConfig(timestamps="zoned")
    )
    table = pq.read_table(tmp_path / "z" / "accounts.parquet")
    assert table.schema.field("created_at").type.tz == "Europe/Berlin"
    written = table.column("created_at").to_pandas().dt.tz_convert("UTC").dt.tz_localize(None)
    assert (written.to_numpy() == world.tables["accounts"]["created_at"].to_numpy()).all()


def test_subsecond_timestamps_carry_fractions():
    world = simulate(30, seed=4, months=2, config=SimConfig(timestamps="subsecond"))
    stamps = pd.to_datetime(world.tables["events"]["ts"])
    assert (stamps.dt.microsecond > 0).mean() > 0.99
