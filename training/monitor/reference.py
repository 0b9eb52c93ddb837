"""The training reference: what the accounts looked like when the champion was trained.

Kept with the registered model (`AccountModel.reference`), so `retain monitor` compares
today's snapshot with what this very model learned from, not with another run's data.
Per feature it keeps quantile bin edges and the share of accounts in each bin plus a
missing bin (a few hundred numbers, no account data); the same for the churn score, and
the tier mix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from training.monitor.bins import BINS, Bins, psi, quantile_bins

REFERENCE_MONTHS = 6  # monthly snapshots up to the training date: the usual swing too


@dataclass(frozen=True)
class TrainingReference:
    """What the champion's training snapshot looked like.

    Attributes:
        as_of: the snapshot dates the reference was taken from (the training date and
            the month starts just before it: every active account, labelled or not).
        accounts: how many account snapshots it summarises.
        features: feature -> its bins.
        score: the churn probability's bins (None for a model of another target).
        tier_mix: risk tier -> share of accounts.
        score_mean: the mean churn probability.
        natural_psi: measure -> the largest PSI of one reference month against the
            whole reference (its usual month-to-month swing; the score under `score`).
    """

    as_of: tuple[datetime, ...]
    accounts: int
    features: Mapping[str, Bins]
    score: Bins | None = None
    tier_mix: Mapping[str, float] = field(default_factory=dict)
    score_mean: float = float("nan")
    natural_psi: Mapping[str, float] = field(default_factory=dict)


def build_reference(
    snapshot: pd.DataFrame,
    feature_names: Sequence[str],
    probability: np.ndarray | None = None,
    tiers: np.ndarray | None = None,
    bins: int = BINS,
) -> TrainingReference:
    """Summarise feature snapshots (and the model's scores of them) as a reference.

    Args:
        snapshot: features of every active account at one or more `as_of` dates.
        feature_names: the features the model reads.
        probability: the model's churn probability of each row, if a churn model.
        tiers: the risk tier of each row.
        bins: quantile bins per measure.
    """
    as_of = tuple(pd.Timestamp(t).to_pydatetime() for t in sorted(snapshot["as_of"].unique()))
    features = {name: quantile_bins(snapshot[name], bins) for name in feature_names}
    score = None if probability is None else quantile_bins(probability, bins)
    measures: dict[str, tuple[Bins, np.ndarray]] = {
        name: (features[name], snapshot[name].to_numpy(dtype=float, na_value=np.nan))
        for name in feature_names
    }
    if score is not None and probability is not None:
        measures["score"] = (score, np.asarray(probability, dtype=float))
    stamps = snapshot["as_of"].to_numpy()
    months = [stamps == t for t in np.unique(stamps)]
    natural = {
        name: max(
            (psi(np.asarray(b.shares), b.shares_of(values[month])) for month in months),
            default=0.0,
        )
        for name, (b, values) in measures.items()
    }
    mix: dict[str, float] = {}
    if tiers is not None and len(tiers):
        mix = {str(k): float(v) for k, v in pd.Series(tiers).value_counts(normalize=True).items()}
    mean = float(np.mean(probability)) if probability is not None and len(probability) else np.nan
    return TrainingReference(as_of, len(snapshot), features, score, mix, mean, natural)


def reference_dates(as_of: datetime, months: int = REFERENCE_MONTHS) -> list[datetime]:
    """`as_of` and the same moment in each of the `months - 1` months before it."""
    stamp = pd.Timestamp(as_of)
    return [(stamp - pd.DateOffset(months=k)).to_pydatetime() for k in range(months - 1, -1, -1)]


def reference_at(
    data: str,
    as_of: datetime,
    model: Any,
    months: int = REFERENCE_MONTHS,
    touchpoints: pd.DataFrame | None = None,
) -> TrainingReference:
    """The reference of a churn model trained at `as_of` on `data`.

    Every account active at `as_of` and at the same moment in the months before it
    (labelled or not: the population the model will score), with the model's scores.
    Every feature of the catalogue is kept, not only those the model reads: a broken
    export shows wherever it lands. `touchpoints` recorded through the service count with
    the source's, as at training and when serving.
    """
    from features.compute import compute_features
    from features.definitions import FEATURE_NAMES
    from features.source import load_source

    with load_source(data, touchpoints) as source:  # with the store's, as the model trained
        snapshot = compute_features(source.con, reference_dates(as_of, months))
    probability = model.predict_proba(snapshot)
    names = [name for name in FEATURE_NAMES if name in snapshot.columns]
    return build_reference(snapshot, names, probability, model.tier(probability))
