"""Contract: the commercial relationship: revenue, seats, term, renewals and add-ons."""

from __future__ import annotations

from features.definitions.base import Feature, count_if, ratio, sum_if

FAMILY = "contract"

_CURRENT = "is_active = 1 AND (is_term = 1 OR kind = 'expansion')"
_FIRST_ARR = "MAX(CASE WHEN is_first_term = 1 THEN arr END)"

TERMS: tuple[Feature, ...] = (
    Feature(
        name="contract_arr",
        family=FAMILY,
        description="Annual recurring revenue of the current term with its add-ons",
        unit="currency",
        healthy="neutral",
        sql=sum_if("arr", _CURRENT),
        source="contract",
    ),
    Feature(
        name="contract_seats",
        family=FAMILY,
        description="Licensed seats in the current term with its add-ons",
        unit="seats",
        healthy="neutral",
        sql=f"SUM(CASE WHEN {_CURRENT} THEN seats END)",
        source="contract",
    ),
    Feature(
        name="arr_growth_since_first_term",
        family=FAMILY,
        description="Current ARR relative to the first contract",
        unit="ratio",
        healthy="higher",
        sql=ratio(sum_if("arr", _CURRENT), _FIRST_ARR),
        source="contract",
    ),
    Feature(
        name="tenure_days",
        family=FAMILY,
        description="Days since the account became a customer",
        unit="days",
        healthy="neutral",
        sql="MAX(tenure_days)",
        source="contract",
    ),
    Feature(
        name="returns_after_leaving",
        family=FAMILY,
        description="Times the account came back with a new contract after an earlier one ended",
        unit="returns",
        healthy="neutral",  # win-backs may churn more or less: the company's history says
        sql=count_if("is_return = 1"),
        source="contract",
        empty=0.0,
    ),
    Feature(
        name="days_since_return",
        family=FAMILY,
        description="Days since the account came back after leaving",
        unit="days",
        healthy="neutral",  # tenure counts the time away; this counts from the return
        sql="MIN(CASE WHEN is_return = 1 THEN started_age END)",
        source="contract",
    ),
    Feature(
        name="days_to_renewal",
        family=FAMILY,
        description="Days until the renewal decision",
        unit="days",
        healthy="neutral",
        sql="MAX(days_to_renewal)",
        source="contract",
    ),
    Feature(
        name="term_length_days",
        family=FAMILY,
        description="Length of the current contract term",
        unit="days",
        healthy="neutral",
        sql="MAX(term_length_days)",
        source="contract",
    ),
    Feature(
        name="renewals_so_far",
        family=FAMILY,
        description="Times the account has renewed",
        unit="renewals",
        healthy="higher",  # the churn model's monotone constraint
        # a count of terms, not of years: twelve monthly renewals are one annual one, so a
        # book with both terms read "1 renewal, worse than healthy accounts (9)" as a reason
        # (eighth new-user audit); like tenure it describes the account, never a reason
        verdict=False,
        sql=count_if("kind = 'renewal'"),
        source="contract",
        empty=0.0,
    ),
    Feature(
        name="expansions_so_far",
        family=FAMILY,
        description="Add-ons bought since becoming a customer",
        unit="expansions",
        healthy="higher",
        sql=count_if("kind = 'expansion'"),
        source="contract",
        empty=0.0,
    ),
    Feature(
        name="expansions_this_term",
        family=FAMILY,
        description="Add-ons bought in the current term",
        unit="expansions",
        healthy="higher",
        sql=count_if("is_active = 1 AND kind = 'expansion'"),
        source="contract",
        empty=0.0,
    ),
    Feature(
        name="employees",
        family=FAMILY,
        description="Company size in employees",
        unit="employees",
        healthy="neutral",
        sql="MAX(employees)",
        source="contract",
    ),
)
"""The contract terms, their revenue and seats, renewals, add-ons and company size."""

RATIOS: tuple[Feature, ...] = (
    Feature(
        name="arr_per_seat",
        family=FAMILY,
        description="Annual recurring revenue per licensed seat",
        unit="currency/seat",
        healthy="neutral",
        sql=ratio("contract_arr", "contract_seats"),
        source="features",
    ),
)
"""Revenue per seat, computed from other features."""

FEATURES: tuple[Feature, ...] = TERMS + RATIOS
"""Every contract feature."""
