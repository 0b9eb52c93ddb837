"""Drivers by signal family: which families raise an account's risk, in what order, and why.

A family (`Feature.family`: key users, usage, outcomes, milestones, support, ...) is a
reason for risk only where one of its features is worse than healthy accounts; a value in
line with them, or of a feature with no healthy direction, is never a reason
(`reads_as_reason`; in line: inside the middle half of healthy accounts, or near their
median). Families that reveal a cause come
first, ordered by the cause reader's probability that their cause is the account's main
one (`training.diagnosis`), each led by the feature the reader leaned on most; the other
families follow by the churn model's summed contribution (SHAP) over their features, and
last the families that lower the risk. Each family carries that summed contribution, so
the drivers say both what the diagnosis reads and what the score is made of.

Serving words the drivers (`serving.explain`); training measures the order against the
simulator's true causes (`training.truth`). The same order feeds both, so what a CSM reads
and what is measured never differ.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

from features.units import format_value

SHARE_FLOOR = 0.2
"""A cause family's weight is p x (own SHAP + this share of the total): see `read_families`."""


class FeatureLike(Protocol):
    """What explaining needs from `features.definitions.Feature`."""

    @property
    def name(self) -> str: ...
    @property
    def family(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def healthy(self) -> str: ...
    @property
    def judged(self) -> bool: ...


def clean(value: Any) -> float | None:
    """A float, or None when unknown."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


Band = tuple[float, float]
"""The middle half of healthy accounts' values of a feature (25th, 75th percentile)."""


def comparison(
    feature: FeatureLike, value: float, healthy_value: float, band: Band | None = None
) -> str:
    """'worse than', 'better than' or 'in line with' healthy accounts, by the healthy direction.

    Two values within 5% of each other, or that read the same in the feature's unit
    (`features.units.format_value`: a change of -0.01 and one of 0 both read "flat"), are
    in line: a sentence never calls "flat" worse than "flat". So is a value inside the
    middle half of healthy accounts (`band`, when known): with healthy accounts ranging
    over 6-14 modules, 9 is what healthy peers look like, not "worse than healthy
    accounts (10)". So is one less than the feature's `material` difference away (a
    ticket open for a day where healthy accounts have none open).
    """
    same = (
        math.isclose(value, healthy_value, rel_tol=0.05)
        or format_value(value, feature.unit) == format_value(healthy_value, feature.unit)
        or (band is not None and band[0] <= value <= band[1])
        or abs(value - healthy_value) < getattr(feature, "material", 0.0)
    )
    if same or not feature.judged:
        return "in line with" if same else "unlike"
    better = value > healthy_value if feature.healthy == "higher" else value < healthy_value
    return "better than" if better else "worse than"


def reads_as_reason(
    feature: FeatureLike,
    contribution: float,
    value: Any,
    healthy_value: Any,
    band: Band | None = None,
) -> bool:
    """Whether the account differs from healthy accounts the way the contribution pushes.

    A driver raising the risk must be worse than healthy accounts, one lowering it better;
    a value in line with healthy accounts (`comparison`: near their median, or inside
    their middle half `band`) is no reason either way (its contribution comes from what it
    combines with, which a single sentence cannot say), so it is not shown.
    A feature with no healthy direction (company size, ARR, tenure, days until the
    renewal, the CS team's own contact counts) describes the account or the calendar, not
    what went wrong: it is never a reason, however much the score leans on it (on monthly
    billing "days until the renewal decision" had led the drivers for half the accounts).
    Without a healthy value to compare with, the sentence only states the value and is kept.
    """
    if not feature.judged:
        return False
    account, healthy = clean(value), clean(healthy_value)
    if account is None or healthy is None:
        return account is not None
    verdict = comparison(feature, account, healthy, band)
    if verdict == "in line with":
        return False
    return (verdict == "worse than") == (contribution > 0)


@dataclass(frozen=True)
class FamilyReading:
    """One family's part in an account's risk.

    Attributes:
        family: The signal family.
        direction: `raises` or `lowers` the churn risk.
        contribution: The family's credited part of the churn raw score (log-odds): its
            own SHAP, with the proxies' share handed to the cause they point to.
        shap: The churn model's SHAP summed over the family's features.
        likelihood: The cause reader's probability that the family's cause is the main
            one (None for families that reveal no cause, or without a reader).
        lead: The feature that says it most plainly.
        features: The family's features that read as reasons, lead first.
    """

    family: str
    direction: Literal["raises", "lowers"]
    contribution: float
    shap: float
    likelihood: float | None
    lead: str
    features: tuple[str, ...]


def unfilled(feature: FeatureLike, tenure: float | None) -> bool:
    """Whether `feature` counts over more days (`window_days`) than the account has had.

    Such a count cannot match healthy accounts' full windows, so it is no reason and never
    reads "worse" (`serving.explain.describe`). `tenure` is the account's `tenure_days`
    (None: not known, judged as any other value).
    """
    window = getattr(feature, "window_days", None)
    return window is not None and tenure is not None and tenure < window


def read_families(
    names: Sequence[str],
    values: np.ndarray,
    contributions: Mapping[str, float],
    healthy: Mapping[str, Any],
    catalogue: Mapping[str, FeatureLike],
    likelihood: Mapping[str, float] | None = None,
    evidence: Mapping[str, Mapping[str, float]] | None = None,
    hidden: Collection[str] = (),
    bands: Mapping[str, Band] | None = None,
) -> list[FamilyReading]:
    """The families behind one account's score, risk-raising first, largest credit first.

    A count over the last N days (`window_days`) is no reason for an account younger than
    N days (`tenure_days`): it has not filled the window that healthy accounts have.

    Credit: M is the churn model's positive SHAP over features that read as reasons,
    own_f a family's part of it. A family that reveals a cause and has a feature worse
    than healthy accounts is eligible; L is the sum of the eligible families' reader
    probabilities p_f. Each family keeps (1 - L) x own_f, and L x M is shared among the
    eligible families in proportion to p_f x (own_f + M / 5): the reader says which cause
    the features point to, the company's own churn model how much that family weighs in
    its renewals (the floor M / 5 keeps a cause it leans on little; for a family the
    chosen model does not read at all, p_f x M stands in for own_f). As far as the
    reader is sure, the proxies' credit goes to the cause they stand for; the credits
    add up to M.

    Args:
        names: The snapshot's feature names (every family's features).
        values: The account's values in `names` order.
        contributions: The churn model's SHAP per feature (features it does not read: 0).
        healthy: Feature -> typical value among healthy accounts.
        catalogue: Feature definitions by name.
        likelihood: Family -> the cause reader's probability (None: no reader).
        evidence: Family -> feature -> how much the reader leaned on the feature toward
            the family's causes (its SHAP); picks a cause family's lead feature.
        hidden: Features never shown (families without data at training).
        bands: Feature -> the middle half of healthy accounts (None: the median alone).
    """
    worse: dict[str, list[str]] = {}
    pushing: dict[str, dict[str, float]] = {}
    summed: dict[str, float] = {}
    tenure = clean(values[list(names).index("tenure_days")]) if "tenure_days" in names else None
    for name, raw in zip(names, values, strict=True):
        feature = catalogue.get(name)
        if feature is None or name in hidden or clean(raw) is None:
            continue
        shap = float(contributions.get(name, 0.0))
        summed[feature.family] = summed.get(feature.family, 0.0) + shap
        if unfilled(feature, tenure):
            continue  # a count over more days than the account has had: no reason
        reference = clean(healthy.get(name))
        band = (bands or {}).get(name)
        verdict = None if reference is None else comparison(feature, float(raw), reference, band)
        if verdict == "worse than":
            worse.setdefault(feature.family, []).append(name)
        if shap != 0.0 and reads_as_reason(feature, shap, raw, reference, band):
            pushing.setdefault(feature.family, {})[name] = shap
    own = {f: sum(s for s in shaps.values() if s > 0) for f, shaps in pushing.items()}
    mass = sum(own.values())
    eligible = {f: p for f, p in (likelihood or {}).items() if worse.get(f) and p > 0}
    handed = min(1.0, sum(eligible.values()))
    read = {catalogue[n].family for n in contributions if n in catalogue}
    # a family the model does not read has no SHAP of its own: the reader's share stands in
    seen = {f: own.get(f, 0.0) if f in read else p * mass for f, p in eligible.items()}
    weight = {f: p * (seen[f] + mass * SHARE_FLOOR) for f, p in eligible.items()}
    total = sum(weight.values()) or 1.0
    credit = {
        f: (1 - handed) * own.get(f, 0.0) + handed * mass * weight.get(f, 0.0) / total
        for f in summed
    }
    readings: list[FamilyReading] = []
    for family in sorted((f for f in credit if credit[f] > 0), key=lambda f: -credit[f]):
        mine = {n: s for n, s in pushing.get(family, {}).items() if s > 0}
        if family in eligible:
            leaning = (evidence or {}).get(family, {})
            ranked = sorted(worse[family], key=lambda n: (-leaning.get(n, 0.0), -mine.get(n, 0)))
        else:
            ranked = sorted(mine, key=lambda n: -mine[n])
        readings.append(
            FamilyReading(
                family, "raises", credit[family], summed[family],
                (likelihood or {}).get(family), ranked[0], tuple(ranked),
            )
        )  # fmt: skip
    raising = {r.family for r in readings}
    lowering = {
        f: {n: s for n, s in shaps.items() if s < 0}
        for f, shaps in pushing.items()
        if f not in raising
    }
    for family in sorted(
        (f for f in lowering if lowering[f]), key=lambda f: sum(lowering[f].values())
    ):
        ranked = sorted(lowering[family], key=lambda n: lowering[family][n])
        readings.append(
            FamilyReading(
                family, "lowers", sum(lowering[family].values()), summed[family],
                (likelihood or {}).get(family), ranked[0], tuple(ranked),
            )
        )  # fmt: skip
    return readings


class ReaderLike(Protocol):
    """What reading families needs from `training.diagnosis.CauseReader`."""

    feature_names: list[str]

    def matrix(self, features: np.ndarray, names: Sequence[str]) -> np.ndarray: ...
    def family_probabilities(self, X: np.ndarray) -> dict[str, np.ndarray]: ...
    def family_evidence(self, X: np.ndarray) -> dict[str, np.ndarray]: ...


def read_batch(
    names: Sequence[str],
    values: np.ndarray,
    model_names: Sequence[str],
    contributions: np.ndarray,
    healthy: Mapping[str, Any],
    catalogue: Mapping[str, FeatureLike],
    reader: ReaderLike | None = None,
    hidden: Collection[str] = (),
    bands: Mapping[str, Band] | None = None,
) -> list[list[FamilyReading]]:
    """`read_families` for a block of accounts.

    Args:
        names: The snapshot's feature names; `values` is (n, len(names)).
        values: The accounts' feature values.
        model_names: The churn model's features; `contributions` is (n, >= len(model_names))
            (a base-value column after them is ignored).
        contributions: The churn model's SHAP values.
        healthy: Feature -> typical value among healthy accounts (every family's features).
        catalogue: Feature definitions by name.
        reader: The cause reader (None: families ordered by SHAP alone).
        hidden: Features never shown.
        bands: Feature -> the middle half of healthy accounts (None: the median alone).
    """
    values = np.atleast_2d(np.asarray(values, dtype=float))
    likelihood: dict[str, np.ndarray] = {}
    evidence: dict[str, np.ndarray] = {}
    if reader is not None and len(values):
        X = reader.matrix(values, names)
        likelihood = reader.family_probabilities(X)
        evidence = reader.family_evidence(X)
    readings = []
    for i in range(len(values)):
        shap = dict(zip(model_names, contributions[i, : len(model_names)].tolist(), strict=True))
        leaning = {
            family: dict(zip(reader.feature_names, rows[i].tolist(), strict=True))
            for family, rows in evidence.items()
        } if reader is not None else None  # fmt: skip
        readings.append(
            read_families(
                names,
                values[i],
                shap,
                healthy,
                catalogue,
                {family: float(p[i]) for family, p in likelihood.items()} or None,
                leaning,
                hidden,
                bands,
            )
        )
    return readings


def first_families(readings: Sequence[FamilyReading], top: int = 3) -> list[str]:
    """The first `top` families raising the risk, in the order they are shown."""
    return [r.family for r in readings if r.direction == "raises"][:top]
