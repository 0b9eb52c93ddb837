"""Why an account is at risk: each latent cause's part of its churn logit, and the dominant one.

The simulator knows the state behind each account's churn risk (`risk.RiskState`). A
cause's contribution is how much the churn logit would fall if that cause alone were
removed from the state (an intervention: the key user back, the modules adopted, the KPIs
on target, first value reached, no storm and no scar, engagement at least at the logit's
centre), computed with the same logit function that drew the renewals. Because it calls
that function instead of copying its coefficients, the contributions follow whatever
causal structure the world was drawn with: `simulator.world` passes the logit it uses.

The dominant cause is the cause with the largest contribution, or `none` when no cause
moves the logit by at least `MIN_CONTRIBUTION` (a risk no single visible problem explains:
term noise, budget cuts, CS actions). Term noise and action shifts are not causes here: no
data shows them and nothing a CSM reads can name them.

`CAUSES` is the one place that says which signal family (`features.definitions`,
`Feature.family`) reveals each cause; training measures explanations against it.
`_truth/causes.parquet` holds, per account and month start, `dominant_cause` and one
`contribution_<cause>` column per cause (logit units).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from simulator import risk
from simulator.risk import RiskState
from simulator.state import RowBuffer, timestamps

FloatArray = np.ndarray
Logit = Callable[[RiskState], FloatArray]

NONE = "none"
MIN_CONTRIBUTION = 0.5
"""A cause must move the churn logit by at least this (odds x1.65) to be the dominant one."""

FULL_ADOPTION = 8.0  # every module in use (`config.MODULES`)
CENTRE_ENGAGEMENT = 0.75  # the engagement at which the logit's engagement term is zero


def _without_key_user_gone(s: RiskState) -> RiskState:
    return replace(s, key_gone=np.zeros_like(s.key_gone))


def _without_low_usage(s: RiskState) -> RiskState:
    return replace(s, engagement=np.maximum(s.engagement, CENTRE_ENGAGEMENT))


def _without_low_adoption(s: RiskState) -> RiskState:
    return replace(s, modules=np.full_like(s.modules, FULL_ADOPTION))


def _without_kpi_shortfall(s: RiskState) -> RiskState:
    return replace(
        s, kpi_shortfall=np.zeros_like(s.kpi_shortfall), kpi_miss=np.zeros_like(s.kpi_miss)
    )


def _without_no_first_value(s: RiskState) -> RiskState:
    return replace(s, no_first_value=np.zeros_like(s.no_first_value))


def _without_support_storm(s: RiskState) -> RiskState:
    return replace(s, storm=np.zeros_like(s.storm), support_scar=np.zeros_like(s.support_scar))


@dataclass(frozen=True)
class Cause:
    """A latent reason for churn, the feature family that reveals it and how to remove it.

    Attributes:
        name: The code written to `_truth/causes.parquet`.
        family: The signal family (`Feature.family`) whose features show this cause.
        label: The cause in a CSM's words.
        removed: The state with this cause alone taken away.
    """

    name: str
    family: str
    label: str
    removed: Callable[[RiskState], RiskState]


CAUSES: tuple[Cause, ...] = (
    Cause("key_user_gone", "key_users", "key user gone", _without_key_user_gone),
    Cause("low_usage", "usage", "low usage", _without_low_usage),
    # Module breadth is measured by usage features (modules_used_*, module_coverage_90d).
    Cause("low_adoption", "usage", "low adoption", _without_low_adoption),
    Cause("kpi_shortfall", "outcomes", "KPI shortfall", _without_kpi_shortfall),
    Cause("no_first_value", "milestones", "no first value", _without_no_first_value),
    Cause("support_storm", "support", "support storm", _without_support_storm),
)
"""Every cause, in a fixed order (ties go to the earlier one)."""

CAUSE_FAMILY: dict[str, str] = {cause.name: cause.family for cause in CAUSES}
CAUSE_LABEL: dict[str, str] = {cause.name: cause.label for cause in CAUSES}


def contributions(state: RiskState, logit: Logit = risk.observed_logit) -> dict[str, FloatArray]:
    """Each cause's part of the churn logit: the logit minus the logit without that cause.

    Args:
        state: The accounts' churn-relevant state.
        logit: The churn logit the world draws renewals with (its causal structure); the
            default is today's single structure, `risk.observed_logit`.

    Returns:
        Cause name -> contribution per account (logit units, >= 0 when removing a cause
        never raises the risk).
    """
    now = logit(state)
    return {cause.name: now - logit(cause.removed(state)) for cause in CAUSES}


def dominant(parts: dict[str, FloatArray], threshold: float = MIN_CONTRIBUTION) -> np.ndarray:
    """The cause with the largest contribution per account, or `none` below `threshold`."""
    names = list(parts)
    stacked = np.column_stack([parts[name] for name in names])
    best = np.argmax(stacked, axis=1)
    top = stacked[np.arange(len(best)), best]
    return np.where(top >= threshold, np.asarray(names, dtype=object)[best], NONE)


def record(
    buffer: RowBuffer,
    idx: np.ndarray,
    stamp: np.ndarray,
    state: RiskState,
    logit: Logit = risk.observed_logit,
) -> None:
    """Add one month's contributions of accounts `idx` (month start `stamp`) to `buffer`."""
    parts = contributions(state, logit)
    buffer.add(account=idx, as_of=stamp, **parts)


def truth_frame(buffer: RowBuffer | None, account_ids: np.ndarray) -> pd.DataFrame:
    """`_truth/causes.parquet`: account_id, as_of, dominant_cause, contribution_<cause>."""
    rows = buffer if buffer is not None else RowBuffer()
    parts = {cause.name: rows.column(cause.name).astype(float) for cause in CAUSES}
    frame = pd.DataFrame(
        {
            "account_id": account_ids[rows.column("account").astype("int64")],
            "as_of": timestamps(rows.column("as_of")),
            "dominant_cause": dominant(parts) if len(rows) else np.array([], dtype=object),
        }
    )
    for name, values in parts.items():
        frame[f"contribution_{name}"] = values
    return frame
