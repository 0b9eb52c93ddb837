"""The alarm rules of `retain monitor`: which measure crossed which threshold, in words."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from training.monitor.thresholds import DriftThresholds, MonitorThresholds, OutcomeThresholds


@dataclass(frozen=True)
class Alarm:
    """One crossed threshold, and what a CS-ops person reads about it.

    `kind` is feature, missing, score, tier or outcome; `subject` the feature, tier or
    model version.
    """

    kind: str
    subject: str
    message: str


def shifted(psi: float, natural: float, psi_month: float, thresholds: DriftThresholds) -> bool:
    """Whether a measure moved from the reference by the drift rule (see `DriftThresholds`)."""
    far = psi >= thresholds.psi and psi >= thresholds.natural_factor * natural
    sudden = math.isnan(psi_month) or psi_month >= thresholds.psi_since_last_month
    return far and (sudden or psi >= thresholds.psi_always)


def drift_alarms(
    features: pd.DataFrame, descriptions: Mapping[str, str], thresholds: DriftThresholds
) -> list[Alarm]:
    """Alarms for features whose distribution or missing share moved (see `feature_drift`)."""
    alarms = []
    for row in _records(features):
        what = descriptions.get(row["feature"], row["feature"])
        if shifted(row["psi"], row["natural_psi"], row["psi_month"], thresholds):
            alarms.append(
                Alarm(
                    "feature",
                    row["feature"],
                    f"'{what}' ({row['feature']}) has shifted since training: PSI {row['psi']:.2f}"
                    f" (its usual month-to-month swing {row['natural_psi']:.2f})",
                )
            )
        rise = row["missing_now"] - row["missing_then"]
        if rise >= thresholds.missing_increase:
            alarms.append(
                Alarm(
                    "missing",
                    row["feature"],
                    f"'{what}' ({row['feature']}) is unknown for {row['missing_now']:.0%} of"
                    f" accounts against {row['missing_then']:.0%} at training: has a table"
                    " stopped arriving?",
                )
            )
    return alarms


def score_alarms(
    score: Mapping[str, float],
    tiers: Mapping[str, float],
    score_psi_month: float,
    thresholds: DriftThresholds,
) -> list[Alarm]:
    """Alarms for the churn score's distribution and the risk-tier mix."""
    alarms = []
    if score and shifted(score["psi"], score["natural_psi"], score_psi_month, thresholds):
        alarms.append(
            Alarm(
                "score",
                "churn_probability",
                f"The churn scores have shifted since training: PSI {score['psi']:.2f}, mean"
                f" {score['mean_then']:.1%} then, {score['mean_now']:.1%} now",
            )
        )
    for tier, change in tiers.items():
        if abs(change) >= thresholds.tier_share_change:
            alarms.append(
                Alarm(
                    "tier",
                    tier,
                    f"The {tier}-risk tier holds {abs(change):.0%} "
                    f"{'more' if change > 0 else 'fewer'} of the accounts than at training",
                )
            )
    return alarms


def outcome_alarms(
    outcomes: pd.DataFrame, thresholds: OutcomeThresholds, champion: str
) -> list[Alarm]:
    """Alarms when the champion's matured scores fell short (with enough of them).

    Earlier versions are measured and shown, never alarmed on: they no longer serve.
    """
    alarms = []
    for row in _records(outcomes):
        if row["matured"] < thresholds.min_matured or str(row["version"]) != str(champion):
            continue
        name = f"churn model v{row['version']}"
        if not math.isnan(row["roc_auc"]) and row["roc_auc"] < thresholds.min_roc_auc:
            alarms.append(
                Alarm(
                    "outcome",
                    str(row["version"]),
                    f"{name} ranks poorly on the renewals since: ROC-AUC {row['roc_auc']:.3f}"
                    f" (floor {thresholds.min_roc_auc:.2f}) over {row['matured']} matured scores",
                )
            )
        if row["miscalibrated_deciles"]:
            alarms.append(
                Alarm(
                    "outcome",
                    str(row["version"]),
                    f"{name} is miscalibrated: {row['miscalibrated_deciles']} risk decile(s)"
                    " churned at a rate its probabilities did not predict (overall"
                    f" {row['churn_rate']:.1%} churned, {row['predicted_rate']:.1%} predicted)",
                )
            )
        if row["arr_caught_top10"] < thresholds.min_arr_caught_top10:
            alarms.append(
                Alarm(
                    "outcome",
                    str(row["version"]),
                    f"{name}'s riskiest 10% held only {row['arr_caught_top10']:.0%} of the churned"
                    f" ARR (floor {thresholds.min_arr_caught_top10:.0%})",
                )
            )
    return alarms


def all_alarms(
    features: pd.DataFrame,
    descriptions: Mapping[str, str],
    score: Mapping[str, float],
    score_psi_month: float,
    tiers: Mapping[str, float],
    outcomes: pd.DataFrame,
    thresholds: MonitorThresholds,
    champion: str,
) -> list[Alarm]:
    """Every alarm of one monitor run, features first."""
    return [
        *drift_alarms(features, descriptions, thresholds.drift),
        *score_alarms(score, tiers, score_psi_month, thresholds.drift),
        *outcome_alarms(outcomes, thresholds.outcomes, champion),
    ]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in record.items()} for record in frame.to_dict("records")]
