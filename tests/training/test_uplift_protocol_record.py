"""The protocol's untouched-world figures are shown only for the settings that earned them."""

from __future__ import annotations

from training.uplift.config import UpliftConfig, load_uplift_config
from training.uplift.protocol_record import describe_recorded, record_protocol, recorded_protocol

METRICS = {
    f"protocol_{policy}_{column}": value
    for policy, value in (("uplift", 0.552), ("playbook", 0.241), ("true_cause", 0.769))
    for column in ("net_mean", "net_worst", "gross_mean", "gross_worst")
}


def test_figures_come_back_only_for_the_settings_they_were_measured_with(tmp_path):
    path = tmp_path / "protocol.json"
    config = UpliftConfig(confidence=0.8)
    assert recorded_protocol(config, path) is None  # nothing measured yet
    record_protocol(METRICS, config, 700, [1, 2, 3], list(range(11, 19)), path, learner_seeds=2)
    recorded = recorded_protocol(config, path)
    assert recorded == {**METRICS, "protocol_learner_seeds": 2.0}
    assert recorded_protocol(config.model_copy(update={"cause_l2": 3.0}), path) is None
    line = describe_recorded(recorded)
    assert "net of cost mean 55.2%" in line and "true cause's remedy 76.9%" in line
    assert "each world the mean of 2 fits with different learner seeds" in line
    assert "learner seeds" not in describe_recorded(METRICS)  # one fit per world: nothing to say
    assert "stated" not in line  # recorded before the stated effects' error was measured
    stated = {
        **METRICS,
        "protocol_stated_error_history_pts": 9.14,
        "protocol_stated_error_ranking_pts": 17.2,
    }
    assert (
        "the effect stated (history alone) is off by 9.1 pts on average, the one that"
        " ranks by 17.2" in describe_recorded(stated)
    )


def test_the_shipped_settings_have_their_protocol_figures():
    # Changing uplift.yaml without rerunning `python -m training.uplift.protocol --record`
    # would leave `retain train` without figures for the model it trains: caught here.
    recorded = recorded_protocol(load_uplift_config())
    assert recorded is not None
    assert 0.0 < recorded["protocol_uplift_net_mean"] < 1.0
