"""The one catalogue of account features, built from one module per signal family.

Each family module (`usage`, `users`, `key_users`, `milestones`, `outcomes`,
`support`, `nps`, `touchpoints`, `contract`) declares its `FAMILY` and defines
only features of that family, in `FEATURES`; `base` holds the `Feature`
dataclass and the SQL helpers they are written with. This registry imports
every family module and puts their features into `FEATURES`, the one list the
code that computes, explains and acts on features reads.
"""

from __future__ import annotations

from types import ModuleType

from features.definitions import (
    contract,
    key_users,
    milestones,
    nps,
    outcomes,
    support,
    touchpoints,
    usage,
    users,
)
from features.definitions.base import Feature, Healthy

__all__ = [
    "FAMILIES",
    "FAMILY_MODULES",
    "FEATURES",
    "FEATURE_NAMES",
    "Feature",
    "Healthy",
    "feature",
]

FAMILY_MODULES: tuple[ModuleType, ...] = (
    usage,
    users,
    key_users,
    milestones,
    outcomes,
    support,
    nps,
    touchpoints,
    contract,
)
"""Every family module; each one's `FEATURES` appears in the catalogue exactly once."""

# The order is the column order of feature frames and of the models trained on them
# (LightGBM samples columns by position, `feature_fraction` < 1), and the order of the
# generated SQL. It is the order the catalogue had as one file, kept so that the same
# data trains the same models; that is why some families come in more than one block.
FEATURES: tuple[Feature, ...] = (
    *usage.WINDOWED,
    *users.LOGINS,
    *key_users.LOGINS,
    *usage.RECENCY,
    *key_users.ACTIVITY,
    *milestones.FEATURES,
    *outcomes.FEATURES,
    *support.FEATURES,
    *nps.SURVEYS,
    *touchpoints.FEATURES,
    *contract.TERMS,
    # Ratios of features: computed from the values above.
    *users.RATIOS,
    *key_users.RATIOS,
    *nps.RATIOS,
    *contract.RATIOS,
)
"""Every account feature, in model column order."""

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(f.family for f in FEATURES))
_BY_NAME = {f.name: f for f in FEATURES}


def feature(name: str) -> Feature:
    """The definition of the feature called `name`.

    Args:
        name: A feature name from `FEATURE_NAMES`.

    Returns:
        Its `Feature`.

    Raises:
        KeyError: If no feature has that name.
    """
    return _BY_NAME[name]
