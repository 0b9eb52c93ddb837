"""When `retain monitor` raises an alarm: `training/monitor/monitor.yaml`, checked by pydantic.

Unknown keys are errors (`extra="forbid"`), so a typo is not a silently ignored threshold.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_THRESHOLDS = Path(__file__).with_name("monitor.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DriftThresholds(_Strict):
    """When a feature (or the churn score) has moved away from the training reference.

    A measure is flagged when its PSI against the reference is at least `psi` and at
    least `natural_factor` times its usual month-to-month PSI in the reference, and either
    it moved by at least `psi_since_last_month` since the snapshot a month earlier (a
    change, not the slow ageing of the customer base) or its PSI reaches `psi_always`
    (however slowly it came).
    """

    psi: float = Field(default=0.25, gt=0)
    natural_factor: float = Field(default=3.0, ge=1)
    psi_since_last_month: float = Field(default=0.1, ge=0)
    psi_always: float = Field(default=1.0, gt=0)
    missing_increase: float = Field(
        default=0.25, gt=0, le=1, description="Rise in the share of accounts with no value."
    )
    tier_share_change: float = Field(
        default=0.15, gt=0, le=1, description="Change in the share of any risk tier."
    )


class OutcomeThresholds(_Strict):
    """How the scores held up against the renewals that happened since (matured labels)."""

    min_matured: int = Field(
        default=100, ge=10, description="Fewest matured scores of a model version to judge it."
    )
    min_roc_auc: float = Field(default=0.65, ge=0.5, le=1)
    calibration_alpha: float = Field(
        default=0.01, gt=0, lt=1, description="Binomial test level, split over the deciles."
    )
    calibration_gap: float = Field(
        default=0.05, gt=0, le=1, description="Observed minus predicted churn rate in a decile."
    )
    min_arr_caught_top10: float = Field(
        default=0.15, ge=0, le=1, description="Share of churned ARR in the riskiest 10%."
    )
    backdated_days: float = Field(
        default=7,
        ge=0,
        description="A score whose as_of is more days than this before the data's end when it"
        " was made (a backfill) is not judged: its outcome was partly known.",
    )


class TrackingThresholds(_Strict):
    """When drift reads as a change in how events are logged, not in how customers work.

    Compared per account, between an earlier snapshot and today (accounts with active
    users both times): events per active user moved past `fell_below` (or `rose_above`)
    for at least `share_of_accounts` of the accounts, in the same direction, while the
    median account's active users in 30 days moved by less than `users_held`.

    Why these numbers: an account's events per active user swing month to month with
    holidays, projects and one heavy user's leave, yet from one month to the next at most
    9% of the accounts fell below 0.7 and at most 11% rose above 1.4 (a simulated world
    over 18 months; the twelfth audit's export over the 5 months before its change), and
    over a whole year at most 14% and 31%. 0.7 and 1.4 are as far from 1 on a log scale
    (-0.36, +0.34); 60% is twice the worst year. Independent customers do not change
    their habits in the same month; a tracking release, a de-duplication or a renamed
    event reaches every account on one day (that export after its events were halved: 89%
    of the accounts below 0.7, median account 0.53). Active users check that the people
    are the same: logging half the events keeps nearly everyone who used the product
    (median account 13 users against 13, ratio 1.00), while real disengagement or churn
    of many accounts loses users too. The median account's ratio was 1.00 month to month
    and up to 1.12 over six months of growth; over a year it reached 1.29, so against an
    old reference the rule stays silent, and the monitor also asks it of the snapshot a
    month earlier. `min_accounts` keeps a handful of accounts from making a diagnosis.
    """

    fell_below: float = Field(default=0.7, gt=0, lt=1)
    rose_above: float = Field(default=1.4, gt=1)
    share_of_accounts: float = Field(default=0.6, gt=0.5, le=1)
    users_held: float = Field(default=0.15, gt=0, lt=1)
    min_accounts: int = Field(default=30, ge=1)


class MonitorThresholds(_Strict):
    """Every threshold of `retain monitor`."""

    drift: DriftThresholds = DriftThresholds()
    outcomes: OutcomeThresholds = OutcomeThresholds()
    tracking: TrackingThresholds = TrackingThresholds()


class ThresholdsError(ValueError):
    """The thresholds file is missing, not YAML, or has a wrong or unknown key."""


def load_thresholds(path: Path | str | None = None) -> MonitorThresholds:
    """Read and check a thresholds YAML (default: the shipped `monitor.yaml`).

    Raises:
        ThresholdsError: naming the file and the key at fault.
    """
    path = Path(path or DEFAULT_THRESHOLDS)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
        return MonitorThresholds.model_validate(raw)
    except (OSError, yaml.YAMLError) as error:
        raise ThresholdsError(f"{path}: cannot read the monitor thresholds: {error}") from error
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise ThresholdsError(f"{path}: {problems}") from error
