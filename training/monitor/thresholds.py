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


class MonitorThresholds(_Strict):
    """Every threshold of `retain monitor`."""

    drift: DriftThresholds = DriftThresholds()
    outcomes: OutcomeThresholds = OutcomeThresholds()


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
