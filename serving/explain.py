"""Drivers in words: contributions turned into sentences a CSM understands.

`family_drivers` gives one driver per signal family, in the order
`training.families.read_families` reads them (the cause the account's features point to
first, credited with its proxies' share); `top_drivers` ranks single features by SHAP.
Every sentence is built from the feature's definition (description, unit, healthy
direction in `features.definitions`) and the model's `healthy_reference`; there is no
per-feature code here, so a new feature is explained the day it is defined.
When no family reads as a reason either way, `without_drivers` says so, and what the
score leans on instead, as context.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np

from features.units import format_value, is_yes_no
from serving.fact_words import fact_sentence
from serving.shared_drops import BookDrop
from training.families import (
    Band,
    FamilyReading,
    FeatureLike,
    comparison,
    reads_as_reason,
    unfilled,
)
from training.families import clean as _clean

__all__ = [
    "Driver",
    "FeatureLike",
    "comparison",
    "describe",
    "driver",
    "family_drivers",
    "format_value",
    "reads_as_reason",
    "top_drivers",
    "without_drivers",
]


@dataclass(frozen=True)
class Driver:
    """One reason behind a score: a feature, its family, its contribution and the words for it."""

    feature: str
    family: str
    contribution: float
    value: float | None
    healthy_value: float | None
    sentence: str


@lru_cache(maxsize=1)
def feature_catalogue() -> dict[str, FeatureLike]:
    """The feature definitions by name (imported lazily from `features.definitions`)."""
    from features.definitions import FEATURES

    return {feature.name: feature for feature in FEATURES}


def describe(
    feature: FeatureLike,
    value: float | None,
    healthy_value: float | None,
    band: Band | None = None,
    tenure: float | None = None,
) -> str:
    """One sentence for a feature's value next to the healthy accounts' typical value.

    Example: "Days since a key user was last active: 41 days, worse than healthy
    accounts (3 days)." A feature with no healthy direction gets no verdict: "Days until
    the renewal decision: 12 days (healthy accounts: 180 days)." (it is never a driver of
    risk, `reads_as_reason`, but an action's rule may name it). A value inside the middle
    half of healthy accounts (`band`) is "in line with" them; a yes or no held by some of
    them but not by most is "as for some healthy accounts (most: yes)" (the tenth new-user
    audit read "Has reached the first business result agreed at kickoff: no, in line with
    healthy accounts (yes)"). A count over more days than the account has had (`tenure`,
    its `tenure_days`; `training.families.unfilled`) is never "worse": "Value-producing
    steps completed in the last 90 days: 2 events over the 25 days the account has had
    (healthy accounts: 13 events)." (the eleventh audit read "worse than" for such counts).
    """
    label = feature.description.rstrip(". ")
    shown = format_value(value, feature.unit)
    if value is None or math.isnan(value):
        if healthy_value is None or math.isnan(healthy_value):
            return f"{label}: not known yet."
        healthy_shown = format_value(healthy_value, feature.unit)
        return f"{label}: not known yet (healthy accounts: {healthy_shown})."
    if healthy_value is None or math.isnan(healthy_value):
        return f"{label}: {shown}."
    healthy_shown = format_value(healthy_value, feature.unit)
    if not feature.judged:  # no better or worse: a fact, no verdict
        return f"{label}: {shown} (healthy accounts: {healthy_shown})."
    verdict = comparison(feature, value, healthy_value, band)
    if verdict == "worse than" and unfilled(feature, tenure):  # its window is still filling
        had = format_value(tenure, "days")
        return (
            f"{label}: {shown} over the {had} the account has had"
            f" (healthy accounts: {healthy_shown})."
        )
    if verdict == "in line with" and shown != healthy_shown and is_yes_no(feature.unit):
        # a "no" held by some healthy accounts is no reason, but not "in line with (yes)"
        return f"{label}: {shown}, as for some healthy accounts (most: {healthy_shown})."
    return f"{label}: {shown}, {verdict} healthy accounts ({healthy_shown})."


def driver(
    name: str,
    contribution: float,
    value: Any,
    healthy_reference: Mapping[str, Any],
    catalogue: Mapping[str, FeatureLike] | None = None,
    bands: Mapping[str, Band] | None = None,
    tenure: float | None = None,
) -> Driver:
    """The `Driver` for one feature of one account.

    `bands`: healthy accounts' middle half; `tenure`: the account's `tenure_days`, so a
    window it has not filled is never "worse" (`describe`).
    """
    catalogue = catalogue if catalogue is not None else feature_catalogue()
    account_value = _clean(value)
    healthy_value = _clean(healthy_reference.get(name))
    band = (bands or {}).get(name)
    return Driver(
        feature=name,
        family=catalogue[name].family,
        contribution=float(contribution),
        value=account_value,
        healthy_value=healthy_value,
        sentence=describe(catalogue[name], account_value, healthy_value, band, tenure),
    )


def top_drivers(
    contributions: np.ndarray,
    values: np.ndarray,
    feature_names: Sequence[str],
    healthy_reference: Mapping[str, Any],
    top: int = 5,
    catalogue: Mapping[str, FeatureLike] | None = None,
    hidden: Collection[str] = (),
    bands: Mapping[str, Band] | None = None,
) -> list[Driver]:
    """The `top` features with the largest SHAP contributions (either sign), largest first.

    Only what the data supports is shown: a feature with no value for the account, or in
    `hidden` (its family had no data at training), is never a driver, nor one whose value
    does not differ from healthy accounts in the direction it pushes (`reads_as_reason`).

    Args:
        contributions: One account's contributions, one per feature (base value excluded).
        values: The account's feature values in the same order.
        feature_names: The model's feature order.
        healthy_reference: Feature -> typical value among healthy accounts.
        top: How many drivers to return.
        catalogue: Feature definitions by name (defaults to `features.definitions`).
        hidden: Features never shown (families without data at training).
        bands: Feature -> the middle half of healthy accounts (in line with them inside).
    """
    bands = bands or {}
    order = np.argsort(-np.abs(contributions[: len(feature_names)]), kind="stable")
    catalogue = catalogue if catalogue is not None else feature_catalogue()
    shown = [
        i
        for i in order
        if contributions[i] != 0.0
        and feature_names[i] not in hidden
        and _clean(values[i]) is not None
        and reads_as_reason(
            catalogue[feature_names[i]],
            contributions[i],
            values[i],
            healthy_reference.get(feature_names[i]),
            bands.get(feature_names[i]),
        )
    ]
    return [
        driver(feature_names[i], contributions[i], values[i], healthy_reference, catalogue, bands)
        for i in shown[:top]
    ]


def growth_drivers(
    contributions: np.ndarray,
    values: np.ndarray,
    feature_names: Sequence[str],
    healthy_reference: Mapping[str, Any],
    top: int = 3,
    catalogue: Mapping[str, FeatureLike] | None = None,
    hidden: Collection[str] = (),
    bands: Mapping[str, Band] | None = None,
) -> list[Driver]:
    """Why the account may buy more: the upsell model's SHAP, read as `top_drivers` reads.

    The features raising the upsell score most whose value is better than healthy
    accounts' (outside their middle half, by a material difference), largest first, each
    with its upsell contribution (log-odds) and a sentence: "Active users in the last 30
    days per licensed seat: 111%, better than healthy accounts (60%)." The tenth new-user audit
    found no words at all for the upsell score, whose pitches read "The account looks ready
    to buy more.". Arguments as `top_drivers`, with the upsell model's contributions.
    """
    n = len(feature_names)
    raising = np.where(contributions[:n] > 0, -contributions[:n], 0.0)  # better, not worse
    found = top_drivers(
        raising, values, feature_names, healthy_reference, top, catalogue, hidden, bands
    )
    return [replace(d, contribution=-d.contribution) for d in found]


def family_drivers(
    readings: Sequence[FamilyReading],
    values: Mapping[str, Any],
    healthy_reference: Mapping[str, Any],
    top: int = 5,
    catalogue: Mapping[str, FeatureLike] | None = None,
    facts: Mapping[str, Any] | None = None,
    as_of: datetime | None = None,
    bands: Mapping[str, Band] | None = None,
    shared: Mapping[str, BookDrop] | None = None,
) -> list[Driver]:
    """One driver per family (`training.families.read_families`), in the order read.

    Each is the family's lead feature, the one that says it most plainly, carrying the
    family's credited contribution; risk-raising families come first. A family raising
    the risk says what happened and when where the snapshot's dated facts allow it
    (`serving.fact_words`), else the lead feature's value against healthy accounts.

    Args:
        readings: The account's families, as `read_families` orders them.
        values: Feature -> the account's value.
        healthy_reference: Feature -> typical value among healthy accounts.
        top: How many drivers to return.
        catalogue: Feature definitions by name (defaults to `features.definitions`).
        facts: The account's dated facts (`features.facts`), if known.
        as_of: The snapshot time the facts are as of.
        bands: Feature -> the middle half of healthy accounts.
        shared: Trend -> the median account's value, for trends most accounts fell by in
            the same weeks (`serving.shared_drops`); a lead among them says so.
    """
    catalogue = catalogue if catalogue is not None else feature_catalogue()
    tenure = _clean(values.get("tenure_days"))
    shared = shared or {}
    drivers = []
    for r in readings[:top]:
        found = driver(
            r.lead, r.contribution, values.get(r.lead), healthy_reference, catalogue, bands, tenure
        )
        dated = (
            fact_sentence(r.family, facts, values, healthy_reference, as_of, bands)
            if r.direction == "raises"
            else None
        )
        sentence = found.sentence if dated is None else dated
        if r.direction == "raises" and r.lead in shared:
            median = format_value(shared[r.lead].median, catalogue[r.lead].unit)
            sentence += f" Most accounts fell in the same weeks (the median account: {median})."
        drivers.append(replace(found, sentence=sentence))
    return drivers


def without_drivers(
    contributions: Mapping[str, float],
    values: Mapping[str, Any],
    healthy_reference: Mapping[str, Any],
    low_risk: bool,
    catalogue: Mapping[str, FeatureLike] | None = None,
    hidden: Collection[str] = (),
    bands: Mapping[str, Band] | None = None,
    shown: int = 2,
) -> str:
    """Why an account has no driver, and what its score leans on instead, in words.

    For an account no family of which reads as a reason (`training.families.read_families`
    gave none): every value that raises its score is in line with healthy accounts,
    better than them, or describes the account (ARR, term length: no healthy direction).
    The sentence says whether anything at all is worse than in healthy accounts (a
    feature the churn model gives no weight can be), then names the `shown` largest
    contributions raising the score (lowering it for a low-risk account, `low_risk`) as
    context, each worded by `describe`, so it never calls a typical value a problem.

    Args:
        contributions: The churn model's SHAP per feature it reads (base value excluded).
        values: Feature -> the account's value (a feature without data: None).
        healthy_reference: Feature -> typical value among healthy accounts.
        low_risk: Name what lowers the score rather than what raises it.
        catalogue: Feature definitions by name (defaults to `features.definitions`).
        hidden: Features never shown (families without data at training).
        bands: Feature -> the middle half of healthy accounts.
        shown: How many contributions to name.
    """
    catalogue = catalogue if catalogue is not None else feature_catalogue()
    bands = bands or {}
    known = {
        name: value
        for name, f in catalogue.items()
        if name not in hidden and (value := _clean(values.get(name))) is not None
    }
    tenure = known.get("tenure_days")
    worse = [
        name
        for name, value in known.items()
        if catalogue[name].judged
        and not unfilled(catalogue[name], tenure)
        and (healthy := _clean(healthy_reference.get(name))) is not None
        and comparison(catalogue[name], value, healthy, bands.get(name)) == "worse than"
    ]
    opening = (
        "Nothing that raises this account's score is worse than in healthy accounts."
        if worse
        else "Nothing in this account's data is worse than in healthy accounts."
    )
    moving = {n: float(c) for n, c in contributions.items() if n in known and c != 0.0}
    raising = sorted((n for n in moving if moving[n] > 0), key=lambda n: -moving[n])
    lowering = sorted((n for n in moving if moving[n] < 0), key=lambda n: moving[n])
    if not raising and not lowering:
        return f"{opening} No value moves its score away from the average account's."
    if (low_risk and lowering) or not raising:
        lead, names = "What lowers its score most:", lowering
    else:
        lead, names = "What raises its score most is context, not a problem:", raising
    words = [
        describe(catalogue[n], known[n], _clean(healthy_reference.get(n)), bands.get(n), tenure)
        for n in names[:shown]
    ]
    return " ".join([opening, lead, *words])
