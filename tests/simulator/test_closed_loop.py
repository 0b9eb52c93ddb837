"""A world lived month by month by another team: it does what it is told, on the same draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.contract import ACTION_CODES
from simulator.closed_loop import LiveWorld


@pytest.fixture(scope="module")
def world() -> LiveWorld:
    return LiveWorld.open(accounts=60, seed=3, burn_in=3, months=2)


def every_other(action: str, asked: list[str] | None = None):  # noqa: ANN201
    """A team choosing `action` for every other running account (noting whom it was asked)."""

    def choose(_start: object, running: object, _churn: object) -> dict[str, str]:
        chosen = {str(a): action for a in list(running)[::2]}  # type: ignore[call-overload]
        if asked is not None:
            asked.extend(chosen)
        return chosen

    return choose


def test_the_team_does_exactly_what_it_chose_for_running_accounts(world: LiveWorld) -> None:
    asked: list[str] = []
    lived = world.fork().live_month(every_other("business_review", asked))
    chosen = set(asked)
    done = lived.touchpoints
    assert len(done) > 0
    assert set(done["type"]) == {"business_review"}
    assert set(done["account_id"]) <= chosen
    # an account that is running all month gets its action (one ending mid-month may not)
    assert len(done) >= 0.8 * len(chosen)
    assert done["ts"].between(lived.start, lived.start + pd.Timedelta(days=31)).all()


def test_a_team_that_does_nothing_leaves_no_touchpoints(world: LiveWorld) -> None:
    lived = world.fork().live_month(lambda _start, _running, _churn: {})
    assert lived.touchpoints.empty


def test_the_team_is_told_each_running_accounts_true_churn_at_the_months_start(
    world: LiveWorld,
) -> None:
    told: dict[str, float] = {}

    def note(_start: object, running: np.ndarray, churn: np.ndarray) -> dict[str, str]:
        told.update(zip((str(a) for a in running), churn.tolist(), strict=True))
        return {}

    lived = world.fork().live_month(note)
    truth = lived.churn.set_index("account_id")["churn_probability"]
    assert len(truth) > 20
    assert set(truth.index) <= set(told)
    assert all(told[str(a)] == pytest.approx(p) for a, p in truth.items())


def test_the_worlds_own_team_acts_beside_another_only_where_asked(world: LiveWorld) -> None:
    asked: list[str] = []
    lived = world.fork().live_month(every_other("business_review", asked), own_team=1.0)
    done = lived.touchpoints
    own = done[~done["account_id"].isin(asked)]
    assert len(own) > 0  # its usual, varied choice on the accounts left out
    assert own["type"].nunique() > 1
    planned = done[done["account_id"].isin(asked)]
    assert set(planned["type"]) == {"business_review"}  # it does not override the choice
    with pytest.raises(ValueError, match="own_team"):
        world.fork().live_month(lambda _start, _running, _churn: {}, own_team=1.5)


def test_the_months_truth_covers_every_running_account_and_action(world: LiveWorld) -> None:
    lived = world.fork().live_month(lambda _start, _running, _churn: {})
    assert set(lived.effects["action"]) == set(ACTION_CODES)
    assert set(lived.effects["account_id"]) == set(lived.churn["account_id"])
    assert lived.effects["effect"].notna().all()


def test_same_seeds_same_month_and_reading_tables_does_not_move_the_draws(
    world: LiveWorld,
) -> None:
    first, second = world.fork(), world.fork()
    second.tables()  # what the service reads must not change what happens next
    a = first.live_month(every_other("training"))
    b = second.live_month(every_other("training"))
    pd.testing.assert_frame_equal(a.touchpoints, b.touchpoints)
    pd.testing.assert_frame_equal(a.effects, b.effects)


def test_actions_change_the_world(world: LiveWorld) -> None:
    acted, idle = world.fork(), world.fork()
    acted.live_month(every_other("key_user_replacement"))
    idle.live_month(lambda _start, _running, _churn: {})
    # the same future draws, but the accounts acted on are not where they would have been
    after_acted = acted.live_month(lambda _start, _running, _churn: {}).churn
    after_idle = idle.live_month(lambda _start, _running, _churn: {}).churn
    assert not after_acted["churn_probability"].equals(after_idle["churn_probability"])


def test_tables_hold_only_what_is_known_now(world: LiveWorld) -> None:
    tables = world.tables()
    assert pd.to_datetime(tables["events"]["ts"]).max() < world.now
    assert pd.to_datetime(tables["accounts"]["created_at"]).max() < world.now


def test_no_month_left_is_an_error() -> None:
    done = LiveWorld.open(accounts=20, seed=1, burn_in=2, months=0)
    with pytest.raises(ValueError, match="no month left"):
        done.live_month(lambda _start, _running, _churn: {})
