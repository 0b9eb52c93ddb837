"""The dated facts behind driver sentences are point in time: the future never moves them."""

from __future__ import annotations

import pandas as pd
import pytest

from features.facts import FACT_COLUMNS, compute_facts
from tests.support.tables import START, change_after, random_world, typed_connection


@pytest.mark.parametrize("seed", [4, 5])
def test_rows_after_t_never_change_the_facts(seed: int) -> None:
    world = random_world(seed)
    t = START + pd.Timedelta(days=400, hours=7)
    before = compute_facts(typed_connection(world), [t.to_pydatetime()])
    after = compute_facts(typed_connection(change_after(world, t, seed)), [t.to_pydatetime()])
    assert len(before) > 5
    assert before[list(FACT_COLUMNS)].notna().any().sum() >= 8  # the facts say something
    pd.testing.assert_frame_equal(before, after, check_exact=False, rtol=1e-9)


def test_the_facts_move_when_the_past_does() -> None:
    """A key user leaving and an urgent ticket before T show; the test can fail."""
    world = random_world(6)
    t = START + pd.Timedelta(days=400)
    account = world["accounts"]["account_id"].iloc[0]
    users = world["users"]
    users = users[users["account_id"] != account]
    left = pd.DataFrame(
        {
            "user_id": ["u_gone"],
            "account_id": [account],
            "role": ["admin"],
            "is_key_user": [True],
            "created_at": [START],
            "deactivated_at": [t - pd.Timedelta(days=10)],
        }
    )
    world["users"] = pd.concat([users, left], ignore_index=True)
    tickets = world["tickets"]
    urgent = tickets.iloc[:1].assign(
        ticket_id="tk_urgent",
        account_id=account,
        opened_at=t - pd.Timedelta(days=12),
        closed_at=t + pd.Timedelta(days=3),  # closed after T: open at T
        priority="urgent",
    )
    world["tickets"] = pd.concat([tickets, urgent], ignore_index=True)
    facts = compute_facts(typed_connection(world), [t.to_pydatetime()]).set_index("account_id")
    mine = facts.loc[account]
    assert mine["key_user_left_id"] == "u_gone" and mine["key_user_left_role"] == "admin"
    assert mine["key_user_left_at"] == t - pd.Timedelta(days=10)
    assert mine["pressing_tickets_open"] >= 1
    assert mine["oldest_pressing_opened_at"] <= t - pd.Timedelta(days=12)
