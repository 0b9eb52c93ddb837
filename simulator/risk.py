"""The causal core: how an account's state drives churn and upsell, and what CS actions change.

Both the simulation (which draws renewal outcomes and expansions) and the ground truth
(`_truth/churn.parquet`, `_truth/action_effects.parquet`) call these functions, so the
truth is exactly the mechanism that produced the data.

Churn. An account's state at a moment is a `RiskState`. Its churn logit is

    L = -2.9 + 1.8 key_gone + 1.3 adoption_gap + 3.0 kpi_shortfall + 0.7 kpi_miss
        + 1.5 no_first_value + 1.0 storm + support_scar - 1.5 (engagement - 0.75)
        + term_noise + term_shift

where `adoption_gap = max(0, 4 - modules) / 3`, `kpi_shortfall` is the mean over the last
three months of `max(0, 1 - actual / target)`, `kpi_miss` is that mean ratio below 0.9,
`support_scar` is the lasting mark support storms leave on the relationship (each month lived
in a storm adds 0.5, it fades by 15% a month and is capped at 1.5: `scar_after_month`), so real
support pain still weighs on the renewal months after the tickets are closed (it is not reset
at renewal), `term_noise` is an unobserved N(0, 0.35) draw per contract term and `term_shift`
the sum of direct effects of CS actions taken during the term. With `e` the chance of churn
for causes no data shows (budget cuts, acquisitions; `SimConfig.external_churn`),

    p_annual = 1 - (1 - sigmoid(L)) * (1 - e)

and the probability of not renewing at the next renewal is `p_annual` for 12-month terms and
`1 - (1 - p_annual) ** (1 / 12)` for 1-month terms. The renewal decision of a term is drawn
with this probability from the state in the month the term ends, after that month's actions.
`_truth/churn.parquet` at month start T gives it for the state at T (everything that happened
before T), so it is exact for terms ending in T's month and an approximation further out.

Actions. `apply_action` returns the state right after an action: training adds adopted modules
(fewer when a key user is gone or a support storm rages), key_user_replacement names a new key
user, onboarding_push reaches first value, support_escalation ends a storm and halves its scar
(the customer feels heard, but does not forget); business_review,
exec_sponsor_call, health_check, upsell_offer, referral_invite and benchmark_program shift the
term's logit directly (upsell and programme invitations irritate unhealthy accounts). The
one-step effect at T is `p(apply_action(state_T)) - p(state_T)` (`effect_if_unchanged` in
`_truth/action_effects.parquet`); the true `effect` looks ahead to the renewal with and
without the action (`world._record_truth`), so it counts what the action sets in motion.

Upsell. Each month an active account adds an expansion with probability
`sigmoid(-4.4 + 1.3 saturation - 0.8 (L_obs + 2.9) + upsell_boost)` where `saturation` in
[0, 2] measures seat utilisation and module adoption and `L_obs` is L without term effects.
A renewal brings a price or seat uplift with probability
`sigmoid(-2.2 + 1.5 saturation - 0.6 (L_obs + 2.9))` (a twelfth of it for 1-month terms).
`_truth/churn.parquet` gives `upsell_probability = 1 - (1 - q) ** 6 * (1 - r (1 - p) u)` with
q the monthly expansion probability, u the uplift probability and p the churn probability at
T, and r = 1 when the current term ends within 180 days of T: the chance of an upsell label
if the state at T held for the next six months.

Every number above is the demo world's structure (`simulator.structure.TODAY`). A world drawn
from a structure seed (`simulate(..., structure_seed=k)`) has its own cause weights, action
mechanisms (which causes an action removes, its log-odds shifts, scaled by account size) and
upsell-offer boost: the functions take the `Structure` and default to `TODAY`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from simulator.structure import CAUSES, TODAY, Structure, cause_level

BASE_LOGIT = -2.9  # TODAY's; a drawn world's is `Structure.churn.base`
EXPANSION_BASE = -4.4
UPLIFT_BASE = -2.2
UPSELL_OFFER_BOOST = 1.5
SCAR_PER_STORM_MONTH = 0.5
SCAR_FADE = 0.15
SCAR_CAP = 1.5
ESCALATION_SCAR_KEPT = 0.5
FloatArray = np.ndarray


def sigmoid(x: FloatArray) -> FloatArray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class RiskState:
    """The churn-relevant state of a set of accounts (all fields float arrays, same length)."""

    key_gone: FloatArray
    modules: FloatArray
    kpi_shortfall: FloatArray
    kpi_miss: FloatArray
    no_first_value: FloatArray
    storm: FloatArray
    support_scar: FloatArray
    engagement: FloatArray
    term_noise: FloatArray
    term_shift: FloatArray

    def take(self, idx: np.ndarray) -> RiskState:
        """The state of the accounts at positions `idx`."""
        return RiskState(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})


def observed_logit(s: RiskState, structure: Structure = TODAY) -> FloatArray:
    """Churn logit from behaviour alone (no term noise, no action shifts).

    The weights are the world's (`structure.churn`); `TODAY`'s are the module docstring's.
    """
    w = structure.churn
    logit = np.full(len(s.modules), w.base)
    for cause in CAUSES:
        logit = logit + w.weight(cause) * cause_level(s, cause)
    return logit


def scar_after_month(scar: FloatArray, storm: FloatArray) -> FloatArray:
    """The support scar after a month lived with `storm` (1 in a storm, else 0)."""
    return np.minimum(SCAR_CAP, scar * (1.0 - SCAR_FADE) + SCAR_PER_STORM_MONTH * storm)


def churn_logit(s: RiskState, structure: Structure = TODAY) -> FloatArray:
    """The full churn logit of the current term."""
    return observed_logit(s, structure) + s.term_noise + s.term_shift


def churn_probability(
    s: RiskState, monthly_term: np.ndarray, external: float, structure: Structure = TODAY
) -> FloatArray:
    """Probability of not renewing at the next renewal date (see module docstring)."""
    annual = 1.0 - (1.0 - sigmoid(churn_logit(s, structure))) * (1.0 - external)
    monthly = 1.0 - (1.0 - annual) ** (1.0 / 12.0)
    return np.where(monthly_term, monthly, annual)


def unhealthy(s: RiskState) -> np.ndarray:
    """Accounts with something visibly wrong (used by action effects and the CS policy)."""
    return (
        (s.key_gone > 0)
        | (s.kpi_miss > 0)
        | (s.storm > 0)
        | (s.no_first_value > 0)
        | (s.modules <= 2)
    )


def apply_action(
    s: RiskState,
    action: str,
    structure: Structure = TODAY,
    size: np.ndarray | None = None,
) -> RiskState:
    """The state right after the CS team does `action` on every account of `s`.

    What the action does is the world's (`structure.action(action)`): the causes it removes
    from the state, then its shift of the term's churn log-odds (for healthy or unhealthy
    accounts, per unit of each cause), scaled by the account `size` (0 small, 1 mid-market,
    2 enterprise; None: unscaled). `TODAY` is the mechanism the module docstring describes.
    """
    mechanism = structure.action(action)
    shift = s.term_shift.copy()
    changes: dict[str, FloatArray] = {}
    if "no_first_value" in mechanism.fixes:
        changes["no_first_value"] = np.zeros_like(s.no_first_value)
    if "adoption_gap" in mechanism.fixes:
        distracted = (s.key_gone > 0) | (s.storm > 0)
        focused, scattered = mechanism.modules_added
        changes["modules"] = np.minimum(8.0, s.modules + np.where(distracted, scattered, focused))
    if "key_gone" in mechanism.fixes:
        changes["key_gone"] = np.zeros_like(s.key_gone)
    if "storm" in mechanism.fixes:
        changes["storm"] = np.zeros_like(s.storm)
        changes["support_scar"] = s.support_scar * mechanism.scar_kept
    if mechanism.shifts:
        push = np.where(unhealthy(s), mechanism.shift_unhealthy, mechanism.shift_healthy)
        for cause, amount in mechanism.shift_per_cause:
            push = push + amount * cause_level(s, cause)
        if size is not None:
            push = push * np.asarray(mechanism.size_factor)[size]
        shift += push
    return replace(s, term_shift=shift, **changes)


def saturation(seat_utilisation: FloatArray, modules: FloatArray) -> FloatArray:
    """How full the account's licence is: seats used and modules adopted, in [0, 2]."""
    seats = np.clip((seat_utilisation - 0.6) / 0.35, 0.0, 1.0)
    adoption = np.clip((modules - 4.0) / 4.0, 0.0, 1.0)
    return seats + adoption


def _trouble(s: RiskState, structure: Structure) -> FloatArray:
    return observed_logit(s, structure) - structure.churn.base


def expansion_probability(
    s: RiskState, sat: FloatArray, boost: FloatArray, structure: Structure = TODAY
) -> FloatArray:
    """Monthly probability that an active account buys an expansion."""
    return sigmoid(EXPANSION_BASE + 1.3 * sat - 0.8 * _trouble(s, structure) + boost)


def uplift_probability(
    s: RiskState, sat: FloatArray, monthly_term: np.ndarray, structure: Structure = TODAY
) -> FloatArray:
    """Probability that a renewal comes with a price or seat uplift (1/12 of it monthly)."""
    annual = sigmoid(UPLIFT_BASE + 1.5 * sat - 0.6 * _trouble(s, structure))
    return np.where(monthly_term, annual / 12.0, annual)
