"""The customer-success team's (biased) policy: who gets a touchpoint and which action.

CSMs act on accounts that *look* at risk from what they can see (key user gone, KPIs
missed, ticket storms, missed first value, quiet usage, a bad NPS answer), with noise and a
personal activity level. The action they pick leans toward the right one for the visible
problem but often is a generic call, and some push upsell offers regardless of health.
"""

from __future__ import annotations

import numpy as np

from features.contract import ACTION_CODES
from simulator.risk import RiskState, sigmoid, unhealthy
from simulator.structure import TODAY, CsBias

ACTION_INDEX = {code: i for i, code in enumerate(ACTION_CODES)}


def choose_actions(
    risk: RiskState,
    saturation: np.ndarray,
    last_nps: np.ndarray,
    new_account: np.ndarray,
    csm_activity: np.ndarray,
    rng: np.random.Generator,
    bias: CsBias = TODAY.cs,
    size: np.ndarray | None = None,
) -> np.ndarray:
    """Pick this month's action per account: an index into ACTION_CODES, or -1 for none.

    `bias` is the world's CS team (`simulator.structure.CsBias`; default today's), `size`
    the accounts' sizes for its size preference (None: no preference).
    """
    n = len(risk.modules)
    quiet = (risk.engagement < 0.5).astype(float)
    key, kpi, storm, first_value, silent, detractor = bias.attention
    perceived = (
        key * risk.key_gone
        + kpi * risk.kpi_miss
        + storm * risk.storm
        + first_value * risk.no_first_value
        + silent * quiet
        + detractor * (last_nps <= 6)
        + rng.normal(0.0, bias.noise, n)
    )
    lean = bias.base + bias.slope * perceived + csm_activity
    if size is not None:
        lean = lean + np.asarray(bias.size_bias)[size]
    touched = rng.random(n) < sigmoid(lean)
    healthy = ~unhealthy(risk)
    f = bias.fit
    weights = np.zeros((n, len(ACTION_CODES)))

    def w(code: str, value: np.ndarray | float) -> None:
        weights[:, ACTION_INDEX[code]] = value

    w("onboarding_push", 0.2 + 2.0 * f * risk.no_first_value + 1.0 * new_account)
    w("training", 0.8 + 1.2 * f * (risk.modules <= 3))
    w("key_user_replacement", 0.2 + 1.5 * f * risk.key_gone)
    w("business_review", 0.8 + 1.5 * f * risk.kpi_miss)
    w("exec_sponsor_call", 0.5 + 1.0 * f * (perceived > 1.5))
    w("support_escalation", 0.3 + 2.0 * f * risk.storm)
    w("health_check", bias.generic)
    w("upsell_offer", bias.upsell_push + 1.5 * (healthy & (saturation > 1.0)))
    w("referral_invite", 0.3 + 0.8 * healthy)
    w("benchmark_program", 0.2 + 0.6 * healthy)
    cumulative = np.cumsum(weights, axis=1)
    u = rng.random(n) * cumulative[:, -1]
    action = (cumulative < u[:, None]).sum(axis=1)
    return np.where(touched, action, -1)
