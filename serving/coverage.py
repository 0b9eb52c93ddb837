"""What the models in use cannot say, and what serving therefore leaves out.

A company's data may not support every model (`retain train` skips a model below its
history floor and records why on the models it did register) and may lack whole feature
families (no `tickets` table: no support signal). Serving then says so and shows only
what the data supports:

* a missing model's reason appears in `/v1/models` and `/readyz` (`missing_models`);
* without an upsell model, `upsell_probability` is null and expansion-valued actions
  (`EXPANSION_ACTIONS`) are not recommended: whether an account would buy more is what
  that model knows, so recommending an upsell offer without it would be a guess. A
  referral invite or a benchmark programme stays: they are valued on advocacy (a measured
  NPS promoter, KPIs beating target), not on expected expansion revenue;
* a feature of a family with no data at training, or with no value for the account, is
  never a driver and never fires a playbook rule; nor, while a snapshot shows a change in
  how events are logged (`FeatureSnapshot.tracking_change`), is any event count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from training.names import model_name

EXPANSION_ACTIONS: frozenset[str] = frozenset({"upsell_offer"})

_NOT_REGISTERED = {
    "upsell": "no retain-upsell champion is registered; upsell_probability is null and no "
    "upsell offer is recommended",
    "uplift": "no retain-uplift champion is registered; the playbook ranks actions",
}


def missing_models(churn: Any, present: Iterable[str]) -> dict[str, str]:
    """Registered name -> why it is not in use, for the optional models not `present`.

    The reason recorded at training on the churn model (`models_not_trained`) is used
    when there is one: it says what the history lacked.
    """
    recorded: Mapping[str, str] = getattr(churn, "models_not_trained", None) or {}
    names = set(present)
    return {
        model_name(kind): recorded.get(kind, default)
        for kind, default in _NOT_REGISTERED.items()
        if model_name(kind) not in names
    }


def missing_families(churn: Any) -> list[str]:
    """The feature families the churn model saw no data for at training."""
    return list(getattr(churn, "missing_families", None) or [])


def unsupported_features(churn: Any, catalogue: Mapping[str, Any]) -> frozenset[str]:
    """Features of the families with no data at training (never drivers, never in rules)."""
    families = set(missing_families(churn))
    return frozenset(
        name for name, f in catalogue.items() if getattr(f, "family", None) in families
    )


def mask_unsupported(facts: MutableMapping[str, float | None], hidden: Iterable[str]) -> None:
    """Make the features in `hidden` unknown in `facts`, so no playbook rule fires on them."""
    for name in hidden:
        if name in facts:
            facts[name] = None


def known(value: float | None) -> bool:
    """True when `value` is an observed number (not None, not NaN)."""
    return value is not None and not math.isnan(value)
