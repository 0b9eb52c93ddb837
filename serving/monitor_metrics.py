"""The latest `retain monitor` results as Prometheus gauges on `/metrics`.

`retain monitor` (and `make retrain`) write their results as JSON
(`RETAIN_MONITOR_RESULTS`); this collector reads that file at each scrape, so a new
monitor run shows without a restart and nothing is computed on the request path. No file
yet: only `retain_monitor_results_present 0`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from training.monitor import DEFAULT_RESULTS

logger = logging.getLogger(__name__)


class MonitorCollector(Collector):
    """Gauges from the monitor's results: alarms, diagnoses, PSI, score, tiers, outcomes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _read(self) -> dict[str, Any] | None:
        try:
            return dict(json.loads(self.path.read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            logger.warning("monitor results %s unreadable: %s", self.path, error)
            return None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        results = self._read()
        yield GaugeMetricFamily(
            "retain_monitor_results_present",
            "1 when the results of a `retain monitor` run are available",
            value=0 if results is None else 1,
        )
        if results is None:
            return
        alarms = GaugeMetricFamily(
            "retain_monitor_alarms", "Thresholds crossed in the latest monitor run", labels=["kind"]
        )
        kinds: dict[str, int] = {}
        for alarm in results.get("alarms", []):
            kinds[alarm["kind"]] = kinds.get(alarm["kind"], 0) + 1
        for kind in ("feature", "missing", "score", "tier", "outcome"):
            alarms.add_metric([kind], kinds.get(kind, 0))
        yield alarms
        yield GaugeMetricFamily(  # a change in how events are logged: alert on it as on alarms
            "retain_monitor_diagnoses",
            "What the drift most likely is, where the latest monitor run could say",
            value=len(results.get("diagnosis", [])),
        )
        psi = GaugeMetricFamily(
            "retain_monitor_feature_psi", "PSI against the training reference", labels=["feature"]
        )
        missing = GaugeMetricFamily(
            "retain_monitor_feature_missing_share", "Share of accounts with no value",
            labels=["feature"],
        )  # fmt: skip
        for row in results.get("features", []):
            psi.add_metric([row["feature"]], row["psi"])
            missing.add_metric([row["feature"]], row["missing_now"])
        yield psi
        yield missing
        score = GaugeMetricFamily(
            "retain_monitor_score", "Churn score drift (psi, js, mean_now)", labels=["measure"]
        )
        for key, value in results.get("score", {}).items():
            score.add_metric([key], value)
        yield score
        tiers = GaugeMetricFamily(
            "retain_monitor_tier_share", "Share of accounts per risk tier now", labels=["tier"]
        )
        for tier, share in results.get("tier_share", {}).items():
            tiers.add_metric([tier], share)
        yield tiers
        outcome = GaugeMetricFamily(
            "retain_monitor_outcome",
            "Scores against matured renewals, per churn model version",
            labels=["version", "measure"],
        )
        for row in results.get("outcomes", []):
            for key in ("matured", "roc_auc", "ece", "arr_caught_top10", "miscalibrated_deciles"):
                value = row.get(key)
                if isinstance(value, int | float) and value == value:  # NaN is not a value
                    outcome.add_metric([str(row["version"]), key], float(value))
        yield outcome


def attach_monitor_gauges(registry: CollectorRegistry, settings: Any) -> None:
    """Expose the monitor's results file (`settings.monitor_results`) on `registry`."""
    path = getattr(settings, "monitor_results", None) or DEFAULT_RESULTS
    registry.register(MonitorCollector(Path(path)))
