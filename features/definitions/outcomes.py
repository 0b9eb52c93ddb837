"""Outcomes: the customer's business KPIs against the targets they set."""

from __future__ import annotations

from features.definitions.base import Feature, distinct_if, in_last, mean_if

FAMILY = "outcomes"

_LATEST = mean_if("attainment", "recency_rank = 1")
_PREVIOUS = mean_if("attainment", "recency_rank = 2")

FEATURES: tuple[Feature, ...] = (
    Feature(
        name="kpi_attainment_latest",
        family=FAMILY,
        description="Latest business KPI result as a share of its target",
        unit="share of target",
        healthy="higher",
        sql=_LATEST,
        source="outcomes",
    ),
    Feature(
        name="kpi_attainment_change",
        family=FAMILY,
        description="Change in KPI attainment since the period before",
        unit="share of target",
        healthy="higher",
        sql=f"{_LATEST} - {_PREVIOUS}",
        source="outcomes",
    ),
    Feature(
        name="kpi_attainment_mean_180d",
        family=FAMILY,
        description="Average KPI attainment over the last 180 days",
        unit="share of target",
        healthy="higher",
        sql=mean_if("attainment", in_last(180)),
        source="outcomes",
    ),
    Feature(
        name="kpi_periods_below_target_180d",
        family=FAMILY,
        description="Reporting periods with a KPI below target, last 180 days",
        unit="periods",
        healthy="lower",
        sql=distinct_if("period_end", in_last(180, "below_target = 1")),
        source="outcomes",
    ),
    Feature(
        name="kpi_share_below_target_latest",
        family=FAMILY,
        description="Share of KPIs below target in their latest period",
        unit="share",
        healthy="lower",
        sql=mean_if("below_target", "recency_rank = 1"),
        source="outcomes",
    ),
    Feature(
        name="days_since_kpi_report",
        family=FAMILY,
        description="Days since the last business KPI result",
        unit="days",
        healthy="lower",
        sql="MIN(age_days)",
        source="outcomes",
    ),
)
"""Every outcomes feature."""
