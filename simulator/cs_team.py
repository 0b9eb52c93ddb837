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

ACTION_INDEX = {code: i for i, code in enumerate(ACTION_CODES)}


def choose_actions(
    risk: RiskState,
    saturation: np.ndarray,
    last_nps: np.ndarray,
    new_account: np.ndarray,
    csm_activity: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Pick this month's action per account: an index into ACTION_CODES, or -1 for none."""
    n = len(risk.modules)
    quiet = (risk.engagement < 0.5).astype(float)
    perceived = (
        0.8 * risk.key_gone
        + 0.8 * risk.kpi_miss
        + 1.0 * risk.storm
        + 0.7 * risk.no_first_value
        + 1.0 * quiet
        + 0.5 * (last_nps <= 6)
        + rng.normal(0.0, 0.7, n)
    )
    touched = rng.random(n) < sigmoid(-2.4 + 1.1 * perceived + csm_activity)
    healthy = ~unhealthy(risk)
    weights = np.zeros((n, len(ACTION_CODES)))

    def w(code: str, value: np.ndarray | float) -> None:
        weights[:, ACTION_INDEX[code]] = value

    w("onboarding_push", 0.2 + 2.0 * risk.no_first_value + 1.0 * new_account)
    w("training", 0.8 + 1.2 * (risk.modules <= 3))
    w("key_user_replacement", 0.2 + 1.5 * risk.key_gone)
    w("business_review", 0.8 + 1.5 * risk.kpi_miss)
    w("exec_sponsor_call", 0.5 + 1.0 * (perceived > 1.5))
    w("support_escalation", 0.3 + 2.0 * risk.storm)
    w("health_check", 3.0)
    w("upsell_offer", 0.6 + 1.5 * (healthy & (saturation > 1.0)))
    w("referral_invite", 0.3 + 0.8 * healthy)
    w("benchmark_program", 0.2 + 0.6 * healthy)
    cumulative = np.cumsum(weights, axis=1)
    u = rng.random(n) * cumulative[:, -1]
    action = (cumulative < u[:, None]).sum(axis=1)
    return np.where(touched, action, -1)
