"""The honest protocol's arithmetic: values net of cost, the best choice, fixed policies."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from features.contract import ACTION_CODES
from simulator.structure import TODAY, draw_structure
from training.uplift.protocol import (
    best_values,
    calibration_table,
    cs_team_actions,
    true_cause_actions,
    values,
)

TRAINING, REVIEW = ACTION_CODES.index("training"), ACTION_CODES.index("business_review")


def _effects() -> np.ndarray:
    effects = np.zeros((2, len(ACTION_CODES)))
    effects[0, TRAINING] = -0.10  # saves 1,000 on 10,000 ARR
    effects[0, REVIEW] = -0.12  # saves 1,200 but costs 300
    effects[1, TRAINING] = -0.001  # saves 2 on 2,000 ARR: never pays
    return effects


def test_values_count_true_saved_arr_net_of_cost_and_none_is_free():
    arr, costs = np.array([10_000.0, 2_000.0]), {"training": 150.0, "business_review": 300.0}
    gross, net = values(["training", "training"], _effects(), arr, costs)
    assert gross == pytest.approx(1_000 + 2)
    assert net == pytest.approx(1_000 + 2 - 300)
    assert values(["none", "none"], _effects(), arr, costs) == (0.0, 0.0)


def test_the_best_choice_takes_the_best_action_net_of_cost_or_none():
    arr, costs = np.array([10_000.0, 2_000.0]), {"training": 150.0, "business_review": 300.0}
    gross, net = best_values(_effects(), arr, costs)
    assert gross == pytest.approx(1_200 + 2)  # without costs: the review, and training
    assert net == pytest.approx(max(1_000 - 150, 1_200 - 300))  # account 2: none


def test_cs_team_policy_is_the_first_action_in_the_window_after_the_snapshot():
    snapshots = pd.DataFrame({"account_id": ["a", "b", "c"], "as_of": [datetime(2025, 1, 1)] * 3})
    touchpoints = pd.DataFrame(
        {
            "account_id": ["a", "a", "b", "c"],
            "ts": pd.to_datetime(["2025-01-20", "2025-01-05", "2024-12-30", "2025-05-01"]),
            "type": ["training", "health_check", "training", "training"],
        }
    )
    assert cs_team_actions(snapshots, touchpoints, 60) == ["health_check", "none", "none"]


def test_true_cause_policy_takes_the_worlds_remedy_for_the_dominant_cause():
    snapshots = pd.DataFrame({"account_id": ["a", "b"], "as_of": [datetime(2025, 1, 1)] * 2})
    causes = snapshots.assign(dominant_cause=["key_user_gone", "none"])
    assert true_cause_actions(snapshots, causes, TODAY) == ["key_user_replacement", "none"]
    drawn = next(
        draw_structure(k) for k in range(1, 60) if not draw_structure(k).remedies()["key_gone"]
    )
    assert true_cause_actions(snapshots, causes, drawn) == ["none", "none"]
    assert true_cause_actions(snapshots, None, TODAY) is None


def test_calibration_table_has_ten_deciles_in_points():
    pairs = pd.DataFrame({"estimated": np.linspace(-0.1, 0.0, 100), "true": np.zeros(100)})
    table = calibration_table(pairs)
    assert len(table) == 10
    assert table["estimated"].iloc[0] < table["estimated"].iloc[-1]
    assert table["estimated"].iloc[0] == pytest.approx(-9.55, abs=0.1)


def test_a_world_judged_with_several_learner_seeds_counts_once_with_its_mean():
    from training.uplift.protocol import ProtocolReport, WorldScore

    def score(world: int, share: float, learner_seed: int) -> WorldScore:
        shares = {"uplift": share, "playbook": 0.1, "cs_team": 0.05}
        stated = {"ranking": 20 * share, "history": 10 * share}
        return WorldScore(
            world, 100, shares, shares, {}, learner_seed=learner_seed, stated_error=stated
        )

    # world 1 at 0.2 and 0.6 (mean 0.4), world 2 once at 0.5
    report = ProtocolReport([], [score(1, 0.2, 0), score(1, 0.6, 1000), score(2, 0.5, 0)])
    row = report.summary(report.untouched).loc["uplift"]
    assert row["net_mean"] == pytest.approx(0.45)  # not (0.2 + 0.6 + 0.5) / 3
    assert row["net_worst"] == pytest.approx(0.4)  # not the single fit's 0.2
    text = report.describe()
    assert "untouched structure seeds (1, 2)" in text
    assert "seed 1 (learner seed +1000): 60%" in text
    # the stated effects' error, likewise per world first: (4 + 5) / 2 and (8 + 10) / 2
    metrics = report.metrics()
    assert metrics["protocol_stated_error_history_pts"] == pytest.approx(4.5)
    assert metrics["protocol_stated_error_ranking_pts"] == pytest.approx(9.0)
    assert "stated to the CSM (history alone) is off by 4.5 pts" in text


@pytest.mark.slow
def test_a_drawn_world_is_judged_end_to_end(tmp_path):
    from training.uplift.protocol import ProtocolReport, judge_world, prepare_world

    data = prepare_world(21, accounts=300, cache=tmp_path)
    assert data.structure.seed == 21
    score = judge_world(data)
    assert score.accounts > 30
    assert set(score.net) == {
        "uplift", "playbook", "cs_team", "most_common", "random", "true_cause"
    }  # fmt: skip
    # nothing beats the best choice, net of cost or without
    assert max(score.net.values()) <= 1.0 + 1e-9
    assert max(score.gross.values()) <= 1.0 + 1e-9
    assert score.net["true_cause"] > score.net["random"]
    assert set(score.offpolicy) == {"learned", "playbook", "cs_team"}
    for value, low, high, _ in score.offpolicy.values():
        assert low <= value <= high
    text = ProtocolReport([], [score]).describe()
    assert "untouched structure seeds (21)" in text
    assert set(score.stated_error) == {"ranking", "history"}
    assert all(0 <= v < 100 for v in score.stated_error.values())


def test_a_cached_world_reads_back_whichever_entry_point_wrote_it(tmp_path):
    """`python -m training.uplift.protocol --cache` runs the module as `__main__`; the worlds
    it keeps must load from `run_protocol`, a notebook or a script all the same."""
    import subprocess
    import sys

    from training.uplift.protocol import load_world

    path = tmp_path / "world.pkl"
    writer = f"""
import runpy
import pandas as pd
from simulator.structure import draw_structure
# the module run under a name no import can find, as `python -m` runs it (`__main__`)
ns = runpy.run_module(
    "training.uplift.protocol", run_name="protocol_run_as_a_script", alter_sys=True
)
assert ns["WorldData"].__module__ == "protocol_run_as_a_script"
frame = pd.DataFrame({{"account_id": ["a1"], "churn": [1.0]}})
data = ns["WorldData"](5, frame, frame.iloc[:0], {{"churn": frame}}, draw_structure(5))
ns["save_world"](__import__("pathlib").Path({str(path)!r}), data)
"""
    subprocess.run([sys.executable, "-c", writer], check=True, capture_output=True)
    data = load_world(path)
    assert data.structure_seed == 5 and data.structure.seed == 5
    assert data.dataset["account_id"].tolist() == ["a1"]
    assert set(data.truth) == {"churn"}


def test_a_cache_file_of_another_kind_is_named_in_the_error(tmp_path):
    import pickle

    from training.uplift.protocol import load_world

    path = tmp_path / "world-1-1001-700.pkl"
    path.write_bytes(pickle.dumps(["not a world"]))
    with pytest.raises(ValueError, match="world-1-1001-700.pkl is not a world kept"):
        load_world(path)
