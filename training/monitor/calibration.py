"""Scores held against what happened: the score log joined to matured churn labels.

An account scored at T renews or leaves at its renewal date; once that outcome is
recorded the score can be judged. Per churn model version: realised ROC-AUC, calibration
by risk decile (each decile's churn count tested against its mean predicted probability
with `scipy.stats.binomtest`) and the share of churned ARR in the riskiest 10% of scores,
all with `training.evaluate.evaluate`, the same metrics as training's test period.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from training.evaluate import evaluate
from training.names import model_name

DECILES = 10
_CHURN_VERSION = re.compile(re.escape(model_name("churn")) + r":v?([^,]+)")


def churn_version(model_version: str | None) -> str:
    """The churn model's version in a served `model_version` (`retain-churn:v3,...` -> `3`)."""
    found = _CHURN_VERSION.search(model_version or "")
    return found.group(1) if found else str(model_version or "unknown")


def backdated(score_log: pd.DataFrame, days: float) -> pd.Series:
    """Which logged scores were made for an `as_of` over `days` before the data's end then.

    Such a score (a CRM's backfill asking for last year's dates) was made knowing part of
    its outcome: the accounts asked for are those still customers, so its matured renewals
    are survivors picked after the fact (the thirteenth new-user audit: 303 of them read as
    "0.0% churned, 5.3% predicted", a false alarm). A score logged without its horizon
    (before the store kept it) is not back-dated: it counts, as it always did.
    """
    if "horizon" not in score_log.columns:
        return pd.Series(False, index=score_log.index)
    edge = pd.to_datetime(score_log["horizon"]) - pd.Timedelta(days=days)
    return pd.Series(pd.to_datetime(score_log["as_of"]) < edge, index=score_log.index)


def matured_scores(score_log: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Logged scores whose churn outcome is now known, one per account, as_of and version.

    Args:
        score_log: the store's score log (`account_id`, `as_of`, `churn_probability`,
            `model_version`, `logged_at`, ...).
        labels: `features.labels.compute_labels` at the logged `as_of` dates
            (`account_id`, `as_of`, `churn`, `arr`).

    Returns:
        `account_id`, `as_of`, `version`, `churn_probability`, `churn`, `arr`; an account
        scored at the same `as_of` by the same version more than once (a batch run and the
        API) counts once, its latest logged score.
    """
    if score_log.empty:
        return pd.DataFrame(
            columns=["account_id", "as_of", "version", "churn_probability", "churn", "arr"]
        )
    log = score_log.assign(
        version=score_log["model_version"].map(churn_version),
        as_of=pd.to_datetime(score_log["as_of"]),
        account_id=score_log["account_id"].astype(str),
    )
    log = log.sort_values("logged_at").drop_duplicates(
        ["account_id", "as_of", "version"], keep="last"
    )
    known = labels.loc[labels["churn"].notna(), ["account_id", "as_of", "churn", "arr"]].assign(
        as_of=lambda f: pd.to_datetime(f["as_of"]), account_id=lambda f: f["account_id"].astype(str)
    )
    joined = log.merge(known, on=["account_id", "as_of"], how="inner")
    columns = ["account_id", "as_of", "version", "churn_probability", "churn", "arr"]
    return joined[columns].dropna(subset=["churn_probability"]).reset_index(drop=True)


def decile_calibration(
    probability: np.ndarray, churned: np.ndarray, alpha: float, gap: float
) -> pd.DataFrame:
    """Per decile of predicted risk: accounts, predicted and observed churn, binomial p.

    A decile is `miscalibrated` when its two-sided binomial test rejects the mean predicted
    probability at `alpha / deciles` (Bonferroni) and observed minus predicted is at least
    `gap` in size.
    """
    p = np.asarray(probability, dtype=float)
    y = np.asarray(churned, dtype=float)
    groups = min(DECILES, len(p))
    decile = np.floor(pd.Series(p).rank(method="first").to_numpy() * groups / (len(p) + 1e-9))
    rows = []
    for d in range(groups):
        members = decile == d
        n, k = int(members.sum()), int(y[members].sum())
        predicted = float(p[members].mean())
        observed = k / n
        p_value = binomtest(k, n, min(max(predicted, 1e-9), 1 - 1e-9)).pvalue
        rows.append(
            {
                "decile": d + 1,
                "accounts": n,
                "predicted": predicted,
                "observed": observed,
                "p_value": float(p_value),
                "miscalibrated": bool(
                    p_value < alpha / groups and abs(observed - predicted) >= gap
                ),
            }
        )
    return pd.DataFrame(rows)


def outcome_metrics(
    matured: pd.DataFrame, alpha: float, gap: float
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Per churn model version: matured scores, churn rate, ROC-AUC, ECE, ARR caught.

    Returns:
        A frame with one row per version (`version`, `matured`, `churn_rate`,
        `predicted_rate`, `roc_auc`, `ece`, `arr_caught_top10`, `miscalibrated_deciles`),
        and each version's decile table.
    """
    rows, deciles = [], {}
    for version, scores in matured.groupby("version", sort=True):
        y = scores["churn"].to_numpy(dtype=float)
        p = scores["churn_probability"].to_numpy(dtype=float)
        metrics = evaluate(y, p, scores["as_of"], scores["arr"].to_numpy(dtype=float))
        table = decile_calibration(p, y, alpha, gap)
        deciles[str(version)] = table
        rows.append(
            {
                "version": str(version),
                "matured": len(scores),
                "churn_rate": float(y.mean()),
                "predicted_rate": float(p.mean()),
                "roc_auc": metrics["roc_auc"],
                "ece": metrics["ece"],
                "arr_caught_top10": metrics["arr_caught_top10"],
                "miscalibrated_deciles": int(table["miscalibrated"].sum()),
            }
        )
    columns = [
        "version", "matured", "churn_rate", "predicted_rate", "roc_auc", "ece",
        "arr_caught_top10", "miscalibrated_deciles",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns), deciles
