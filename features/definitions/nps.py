"""NPS: what the account's users answer to the net promoter survey, and how many answer."""

from __future__ import annotations

from features.definitions.base import Feature, count_if, distinct_if, in_last, ratio

FAMILY = "nps"

_RECENT = in_last(180)
_PROMOTERS = count_if(in_last(180, "score >= 9"))
_DETRACTORS = count_if(in_last(180, "score <= 6"))
_RESPONSES = count_if(_RECENT)

SURVEYS: tuple[Feature, ...] = (
    Feature(
        name="nps_latest",
        family=FAMILY,
        description="Latest NPS answer (0-10)",
        unit="score 0-10",
        healthy="higher",
        sql="MAX(CASE WHEN recency_rank = 1 THEN score END)",
        source="surveys",
    ),
    Feature(
        name="nps_mean_180d",
        family=FAMILY,
        description="Average NPS answer over the last 180 days",
        unit="score 0-10",
        healthy="higher",
        sql=f"AVG(CASE WHEN {_RECENT} THEN score END)",
        source="surveys",
    ),
    Feature(
        name="nps_180d",
        family=FAMILY,
        description="Net promoter score over the last 180 days (-100 to 100)",
        unit="score",
        healthy="higher",
        sql=f"100.0 * ({_PROMOTERS} - {_DETRACTORS}) / NULLIF({_RESPONSES}, 0)",
        source="surveys",
    ),
    Feature(
        name="nps_detractor_share_180d",
        family=FAMILY,
        description="Share of NPS answers of 6 or less, last 180 days",
        unit="share",
        healthy="lower",
        sql=ratio(_DETRACTORS, _RESPONSES),
        source="surveys",
    ),
    Feature(
        name="nps_promoter_share_180d",
        family=FAMILY,
        description="Share of NPS answers of 9 or 10, last 180 days",
        unit="share",
        healthy="higher",
        sql=ratio(_PROMOTERS, _RESPONSES),
        source="surveys",
    ),
    Feature(
        name="nps_respondents_180d",
        family=FAMILY,
        description="People who answered the NPS survey in the last 180 days",
        unit="users",
        healthy="higher",
        sql=distinct_if("respondent", _RECENT),
        source="surveys",
        empty=0.0,
    ),
    Feature(
        name="days_since_nps",
        family=FAMILY,
        description="Days since the last NPS answer",
        unit="days",
        healthy="neutral",
        sql="MIN(age_days)",
        source="surveys",
    ),
)
"""Survey answers: scores, shares of promoters and detractors, respondents, recency."""

RATIOS: tuple[Feature, ...] = (
    Feature(
        name="nps_response_rate_180d",
        family=FAMILY,
        description="People who answered the NPS survey in the last 180 days per login held today",
        unit="share",
        healthy="higher",
        sql=ratio("nps_respondents_180d", "licensed_users"),
        source="features",
    ),
)
"""How many of the account's users answer, computed from other features."""

FEATURES: tuple[Feature, ...] = SURVEYS + RATIOS
"""Every NPS feature."""
