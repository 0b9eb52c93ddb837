"""The monitor's results file as Prometheus gauges (read at each scrape)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest

from serving.monitor_metrics import MonitorCollector


def _scrape(path: Path) -> str:
    registry = CollectorRegistry()
    registry.register(MonitorCollector(path))
    return generate_latest(registry).decode()


def test_no_results_yet_is_a_zero_not_an_error(tmp_path: Path):
    text = _scrape(tmp_path / "latest.json")
    assert "retain_monitor_results_present 0.0" in text
    assert "retain_monitor_feature_psi" not in text


def test_a_new_monitor_run_shows_at_the_next_scrape(tmp_path: Path):
    path = tmp_path / "latest.json"
    results: dict[str, Any] = {
        "alarms": [{"kind": "feature", "subject": "arr_per_seat", "message": "..."}],
        "features": [{"feature": "arr_per_seat", "psi": 3.2, "missing_now": 0.0}],
        "score": {"psi": 0.1},
        "tier_share": {"high": 0.12},
        "outcomes": [{"version": "4", "matured": 300, "roc_auc": 0.71, "ece": float("nan")}],
    }
    path.write_text(json.dumps(results))
    text = _scrape(path)
    assert 'retain_monitor_alarms{kind="feature"} 1.0' in text
    assert 'retain_monitor_alarms{kind="outcome"} 0.0' in text
    assert 'retain_monitor_feature_psi{feature="arr_per_seat"} 3.2' in text
    assert 'retain_monitor_outcome{measure="roc_auc",version="4"} 0.71' in text
    assert 'measure="ece"' not in text  # NaN is left out
    assert "retain_monitor_diagnoses 0.0" in text  # a file from before diagnoses: none
    results["diagnosis"] = ["Events per active user fell 47% at the median account ..."]
    path.write_text(json.dumps(results))
    assert "retain_monitor_diagnoses 1.0" in _scrape(path)
    results["features"][0]["psi"] = 0.05
    path.write_text(json.dumps(results))
    assert 'retain_monitor_feature_psi{feature="arr_per_seat"} 0.05' in _scrape(path)
