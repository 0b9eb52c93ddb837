"""One monitor run's findings: the `MonitorReport`, its words and its JSON for `/metrics`."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from features.times import utc_iso
from training.monitor.alarms import Alarm
from training.monitor.tracking import TrackingChange

SHOWN_ALARMS = 12  # in words; every alarm is in the JSON and the MLflow run


@dataclass
class MonitorReport:
    """What `retain monitor` found, comparing the latest snapshot with the champion.

    Attributes:
        as_of: the latest snapshot's date.
        champion: the churn champion's version.
        accounts: active accounts in the snapshot.
        features: per-feature drift (`training.monitor.drift.feature_drift`); empty when the
            champion has no training reference.
        score: the churn score's drift (`psi`, `js`, `mean_then`, `mean_now`, ...).
        tier_mix: tier -> (share at training, share now).
        outcomes: per model version, scores held against matured labels.
        deciles: version -> its calibration by decile.
        alarms: every threshold crossed.
        notes: what could not be judged and why, in words.
        warnings: what in the data itself the reader must know, each beginning "Warning:"
            (a table whose dates run past the latest event: `late_activity_warning`).
        tracking: a change in how events are logged, where the data says so
            (`training.monitor.tracking`); its sentence is in `diagnosis`.
        backdated: matured scores left out as made for an earlier date than the data's
            end then (a backfill; said in `notes`).
    """

    as_of: datetime
    champion: str
    accounts: int
    features: pd.DataFrame
    score: dict[str, float]
    tier_mix: dict[str, tuple[float, float]]
    outcomes: pd.DataFrame
    deciles: dict[str, pd.DataFrame] = field(default_factory=dict)
    alarms: list[Alarm] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tracking: TrackingChange | None = None
    backdated: int = 0
    reference_as_of: tuple[datetime, ...] = ()

    @property
    def diagnosis(self) -> list[str]:
        """What the drift most likely is, where the data says so, with what to do."""
        return [] if self.tracking is None else [self.tracking.sentence()]

    @property
    def alarmed(self) -> bool:
        return bool(self.alarms)

    @property
    def needs_attention(self) -> bool:
        """An alarm, or a diagnosis that stands without one.

        A retrained model's reference holds the new counts, so its alarms go quiet while
        the change stands.
        """
        return self.alarmed or bool(self.diagnosis)

    def lines(self, top: int = 5) -> list[str]:
        """The findings in words: alarms first, then what was measured."""
        head = f"Monitor as of {self.as_of:%Y-%m-%d}, churn champion v{self.champion}"
        lines = [f"{head}, {self.accounts} active accounts.", *self.warnings]
        alarms = sorted(self.alarms, key=lambda a: a.kind != "outcome")  # outcomes first
        if self.alarms:
            lines.append(f"{len(self.alarms)} alarm(s):")
            shown = alarms[:SHOWN_ALARMS]
            lines += [f"  - {alarm.message}" for alarm in shown]
            if len(self.alarms) > len(shown):
                lines.append(f"  ... and {len(self.alarms) - len(shown)} more (see the MLflow run)")
        else:
            lines.append("No alarm: nothing crossed its threshold.")
        lines += [f"Diagnosis: {sentence}" for sentence in self.diagnosis]
        lines += [f"Note: {note}" for note in self.notes]
        if not self.features.empty:
            since = ", ".join(f"{t:%Y-%m-%d}" for t in self.reference_as_of)
            lines.append(f"Largest feature shifts since training (reference {since}):")
            for row in _records(self.features.head(top)):
                lines.append(
                    f"  {row['feature']:34} PSI {row['psi']:5.2f}"
                    f" (usual {row['natural_psi']:4.2f}), JS {row['js']:4.2f},"
                    f" unknown {row['missing_then']:.0%} -> {row['missing_now']:.0%}"
                )
        if self.score:
            lines.append(
                f"Churn score: mean {self.score['mean_then']:.1%} at training,"
                f" {self.score['mean_now']:.1%} now (PSI {self.score['psi']:.2f})"
            )
        if self.tier_mix:
            lines.append(
                "Risk tiers (training -> now): "
                + ", ".join(f"{t} {a:.0%} -> {b:.0%}" for t, (a, b) in self.tier_mix.items())
            )
        for row in _records(self.outcomes):
            lines.append(
                f"Churn model v{row['version']} on {row['matured']} matured scores: ROC-AUC"
                f" {row['roc_auc']:.3f}, {row['churn_rate']:.1%} churned vs"
                f" {row['predicted_rate']:.1%} predicted,"
                f" {row['miscalibrated_deciles']} miscalibrated decile(s), riskiest 10%"
                f" held {row['arr_caught_top10']:.0%} of the churned ARR"
            )
        return lines

    def metrics(self) -> dict[str, float]:
        """Flat numeric results (MLflow metrics and Prometheus gauges), finite ones only."""
        values: dict[str, float] = {"alarms": float(len(self.alarms)), "accounts": self.accounts}
        for row in _records(self.features):
            values[f"psi.{row['feature']}"] = row["psi"]
            values[f"missing.{row['feature']}"] = row["missing_now"]
        for key in ("psi", "js", "mean_now"):
            if key in self.score:
                values[f"score.{key}"] = self.score[key]
        for tier, (_, now) in self.tier_mix.items():
            values[f"tier_share.{tier}"] = now
        for row in _records(self.outcomes):
            for key in ("matured", "roc_auc", "ece", "arr_caught_top10", "miscalibrated_deciles"):
                values[f"outcome.v{row['version']}.{key}"] = float(row[key])
        return {k: float(v) for k, v in values.items() if math.isfinite(float(v))}

    def as_json(self) -> dict[str, Any]:
        """What `/metrics` reads: when, which champion, the alarms and the numbers."""
        return {
            "as_of": utc_iso(self.as_of),  # as the API says it: ...Z
            "champion": self.champion,
            "alarms": [alarm.__dict__ for alarm in self.alarms],
            "notes": self.notes,
            "warnings": self.warnings,
            "diagnosis": self.diagnosis,
            "features": self.features[["feature", "psi", "missing_now"]].to_dict("records"),
            "score": {k: v for k, v in self.score.items() if math.isfinite(v)},
            "tier_share": {tier: now for tier, (_, now) in self.tier_mix.items()},
            "outcomes": self.outcomes.to_dict("records"),
            "backdated_scores": self.backdated,
        }

    def write_json(self, path: Path) -> None:
        """Write `as_json()` to `path` (whole: a reader never sees half a file)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".partial")
        partial.write_text(json.dumps(self.as_json(), indent=1, default=float))
        partial.replace(path)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in record.items()} for record in frame.to_dict("records")]
