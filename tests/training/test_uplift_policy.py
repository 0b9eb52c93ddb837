"""Policy evaluation: value arithmetic, and the learned policy on a small simulated world."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from features.contract import ACTION_CODES
from training.uplift.policy_eval import policy_value, product_playbook, true_effects


def test_policy_value_counts_true_saved_arr_and_none_is_zero():
    effects = np.zeros((2, len(ACTION_CODES)))
    effects[0, ACTION_CODES.index("training")] = -0.2
    effects[1, ACTION_CODES.index("upsell_offer")] = 0.1  # irritates the account
    arr = np.array([1000.0, 2000.0])
    assert policy_value(["training", "none"], effects, arr) == pytest.approx(200.0)
    assert policy_value(["training", "upsell_offer"], effects, arr) == pytest.approx(0.0)


def test_true_effects_align_with_snapshots():
    truth = pd.DataFrame(
        {
            "account_id": ["a", "a", "b"],
            "as_of": [datetime(2025, 1, 1)] * 3,
            "action": ["training", "health_check", "training"],
            "effect": [-0.1, -0.02, -0.3],
        }
    )
    snapshots = pd.DataFrame({"account_id": ["b", "a"], "as_of": [datetime(2025, 1, 1)] * 2})
    matrix = true_effects(truth, snapshots)
    assert matrix[0, ACTION_CODES.index("training")] == pytest.approx(-0.3)
    assert matrix[1, ACTION_CODES.index("health_check")] == pytest.approx(-0.02)


def test_product_playbook_follows_the_shipped_rules_and_risk_tiers():
    features = pd.DataFrame(
        {
            "account_id": ["a", "b", "c"],
            "as_of": [datetime(2025, 1, 1)] * 3,
            "key_users_lost_unreplaced_90d": [1.0, 1.0, 0.0],
            "first_value_overdue": [1.0, 0.0, 0.0],
            "nps_latest": [9.0, 9.0, 3.0],
        }
    )
    cuts = {"high": 0.5, "medium": 0.2}
    suggestions = product_playbook(features, np.array([0.6, 0.05, 0.7]), cuts)
    # High risk: the key-user rule (priority 95) outranks first value overdue (90).
    assert [s.action for s in suggestions[0]][:2] == ["key_user_replacement", "onboarding_push"]
    assert "key user left" in suggestions[0][0].reason
    # Low risk: rescue rules do not fire; the promoter is invited to refer.
    assert "key_user_replacement" not in [s.action for s in suggestions[1]]
    assert "referral_invite" in [s.action for s in suggestions[1]]
    assert suggestions[2][0].action == "exec_sponsor_call"  # detractor at high risk


@pytest.fixture(scope="module")
def simulated_run(tmp_path_factory):
    from actions.playbook import DEFAULT_PLAYBOOK, load_playbook
    from features.dataset import build_dataset
    from features.source import load_source
    from simulator.world import simulate_to_dir
    from training.uplift.run import train_uplift, truth_frame

    out = tmp_path_factory.mktemp("world")
    simulate_to_dir(out, n_accounts=1000, seed=11)
    with load_source(str(out)) as source:
        dataset = build_dataset(source.con, "2024-02-01", "2025-12-01")
        touchpoints = source.con.execute("SELECT account_id, ts, type FROM touchpoints").df()
    return train_uplift(
        dataset,
        touchpoints,
        datetime(2026, 1, 1),
        load_playbook(DEFAULT_PLAYBOOK),
        truth_frame(str(out), "action_effects"),
        truth_frame(str(out), "churn"),
        seed=0,
        final=False,  # the tests judge; the refit for serving would only cost time
    )


@pytest.mark.slow
def test_learned_policy_beats_the_simple_policies(simulated_run):
    report = simulated_run.report
    print(report.describe())
    assert report.accounts > 100
    assert report.share("uplift") > report.share("most_common")
    assert report.share("uplift") > report.share("random")


@pytest.mark.slow
def test_learned_policy_reaches_target_share_of_the_oracle(simulated_run):
    report = simulated_run.report
    from actions.playbook import DEFAULT_PLAYBOOK

    # The playbook policy is the shipped file's rules, and the report says which file.
    assert report.playbook_source == "actions/playbook.yaml"
    assert DEFAULT_PLAYBOOK.as_posix().endswith(report.playbook_source)
    # Settings were chosen on seeds 3 and 7; this world (seed 11) was not used to choose them.
    assert report.share("uplift") >= 0.70
    assert report.share("uplift") > report.share("playbook")
    # Against the one-step truth (today's change held until the renewal) it still wins.
    assert report.one_step_shares["uplift"] > report.one_step_shares["playbook"]
