"""Fixed vocabulary and tunable knobs of the simulated SaaS world."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MODULES: tuple[str, ...] = (
    "reports",
    "dashboards",
    "campaigns",
    "automation",
    "integrations",
    "forecasting",
    "collaboration",
    "admin_console",
)
FEATURES: tuple[tuple[str, ...], ...] = (
    ("report_builder", "scheduled_reports", "export_pdf", "templates"),
    ("dashboard_view", "widgets", "sharing", "filters"),
    ("campaign_editor", "audiences", "ab_tests", "send_campaign"),
    ("workflow_builder", "triggers", "rules", "run_history"),
    ("crm_sync", "api_keys", "webhooks", "data_import"),
    ("pipeline_forecast", "scenarios", "quota_planning", "accuracy"),
    ("comments", "tasks", "mentions", "shared_spaces"),
    ("user_management", "permissions", "audit_log", "sso"),
)
EVENT_TYPES: tuple[str, ...] = ("view", "action", "value")
INDUSTRIES: tuple[str, ...] = (
    "software",
    "retail",
    "manufacturing",
    "financial_services",
    "healthcare",
    "media",
    "logistics",
    "education",
)
REGIONS: tuple[str, ...] = (
    "NAMER",
    "EMEA",
    "APAC",
    "LATAM",
)  # not "NA": CSV readers take it as null
REGION_WEIGHTS: tuple[float, ...] = (0.45, 0.35, 0.15, 0.05)
CSMS: tuple[str, ...] = (
    "Avery Cole",
    "Blake Moreno",
    "Casey Nguyen",
    "Dana Kim",
    "Eli Novak",
    "Frankie Osei",
    "Gray Patel",
    "Harper Lind",
)
VALUE_DRIVERS: tuple[str, ...] = ("revenue", "efficiency", "cost")
KPI_OF_DRIVER: dict[str, str] = {
    "revenue": "revenue_uplift_pct",
    "efficiency": "hours_saved",
    "cost": "cost_saved",
}
PLANS: tuple[str, ...] = ("starter", "professional", "enterprise")
PRICE_PER_SEAT: tuple[float, ...] = (420.0, 780.0, 1250.0)
KEY_ROLES: tuple[str, ...] = ("admin", "executive", "champion")
OTHER_ROLES: tuple[str, ...] = ("analyst", "member")
TICKET_CATEGORIES: tuple[str, ...] = ("bug", "how_to", "feature_request", "billing")
PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")

TOUCHPOINT_NOTES: dict[str, str] = {
    "onboarding_push": "Worked through the first-value plan with the project lead",
    "training": "Ran a training session on modules not yet in use",
    "key_user_replacement": "Asked the customer to name and onboard a new key user",
    "business_review": "Reviewed business KPIs against target with management",
    "exec_sponsor_call": "Executive sponsor call",
    "support_escalation": "Escalated open support issues to engineering",
    "health_check": "Routine check-in",
    "upsell_offer": "Presented an offer for more seats and modules",
    "referral_invite": "Invited to the referral programme",
    "benchmark_program": "Proposed a joint case study",
}
NPS_COMMENTS: tuple[str, ...] = (
    "Great team, helpful support",
    "Reporting could be faster",
    "We get value but onboarding was slow",
    "Too many bugs lately",
    "Hard to see the ROI",
    "Love the automation features",
)


@dataclass(frozen=True)
class SimConfig:
    """Knobs of the simulation; the defaults make the documented demo world.

    Attributes:
        events_per_user_month: mean product events per fully engaged active user per month;
            raise it to make bigger event tables for benchmarks.
        external_churn: chance per annual renewal that the customer leaves for a reason
            no data shows (budget cut, acquisition).
        monthly_term_share: share of accounts on 1-month terms.
        pre_window_share: share of accounts that were already customers when the window
            starts (created up to three years earlier).
        truth_draws: look-ahead paths per account and month behind the ground-truth
            churn and upsell probabilities (`simulator/outlook.py`).
        effect_draws: look-ahead paths per account, month and action behind the true
            action effects (the same paths with and without the action).
        expansions: how growth is billed: `rows` (mid-term `expansion` rows, and uplifts
            at renewal), `renewal` (no expansion rows: the seats bought mid-term arrive
            with the next renewal, as on monthly billing) or `none` (no growth at all).
        tables: the optional contract tables exported (`simulator.shapes`); the others
            are left out, as a company without a help desk or survey tool would.
        id_style: account and user ids: `plain`, `spaces`, `unicode` or `leading_zeros`.
        timestamps: `seconds`, `subsecond` or `zoned` (written with a UTC offset).
    """

    events_per_user_month: float = 8.0
    external_churn: float = 0.04
    monthly_term_share: float = 0.10
    pre_window_share: float = 0.6
    truth_draws: int = 24
    effect_draws: int = 12
    expansions: Literal["rows", "renewal", "none"] = "rows"
    tables: tuple[str, ...] = ("tickets", "surveys", "outcomes", "milestones", "touchpoints")
    id_style: Literal["plain", "spaces", "unicode", "leading_zeros"] = "plain"
    timestamps: Literal["seconds", "subsecond", "zoned"] = "seconds"
