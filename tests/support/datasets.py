"""A synthetic training set: monthly snapshots with churn and upsell labels, no simulator."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from features.definitions import FEATURE_NAMES

AS_OF = datetime(2025, 1, 1)


def synthetic_dataset(n_accounts: int = 400, seed: int = 0) -> pd.DataFrame:
    """24 monthly snapshots; churn driven by usage, NPS and tickets; labels as of 2025-01-01.

    Each account has annual terms with a renewal day; the churn label of a snapshot
    is the outcome of its next renewal (NaN if that renewal lies after AS_OF).
    """
    rng = np.random.default_rng(seed)
    months = pd.date_range("2023-01-01", periods=24, freq="MS")
    rows = []
    for a in range(n_accounts):
        first_renewal = pd.Timestamp("2023-01-15") + pd.Timedelta(days=int(rng.integers(0, 365)))
        health = rng.normal()
        for t in months:
            renewal = first_renewal
            while renewal <= t:
                renewal += pd.DateOffset(years=1)
            rows.append(
                {
                    "account_id": f"A{a:04d}",
                    "as_of": t,
                    "renewal_date": renewal,
                    "health": health + rng.normal(scale=0.3),
                    "term": int((renewal - first_renewal).days // 365),
                }
            )
    frame = pd.DataFrame(rows)
    noise = pd.DataFrame(rng.normal(size=(len(frame), len(FEATURE_NAMES))), columns=FEATURE_NAMES)
    frame = pd.concat([frame, noise], axis=1)
    frame["active_user_share_30d"] = 1 / (1 + np.exp(-frame["health"]))
    frame["nps_mean_180d"] = np.clip(7 + 2 * frame["health"] + rng.normal(size=len(frame)), 0, 10)
    frame["tickets_opened_30d"] = rng.poisson(np.exp(0.5 - 0.6 * frame["health"]))
    term_risk = frame.groupby(["account_id", "term"])["health"].transform("mean")
    churn_probability = 1 / (1 + np.exp(2.2 + 1.6 * term_risk))
    draw = frame.groupby(["account_id", "term"])["health"].transform(lambda s: rng.random())
    frame["churn"] = (draw < churn_probability).astype(float)
    frame.loc[frame["renewal_date"] > AS_OF, "churn"] = np.nan
    upsell_probability = 1 / (1 + np.exp(1.5 - 1.2 * frame["health"]))
    frame["upsell"] = (rng.random(len(frame)) < upsell_probability).astype(float)
    frame.loc[frame["as_of"] + pd.Timedelta(days=180) > AS_OF, "upsell"] = np.nan
    frame["arr"] = rng.integers(5, 100, len(frame)) * 1000.0
    frame["true_churn_probability"] = churn_probability
    return frame.drop(columns=["health", "term"]).copy()
