"""The CS team's week as CS ops configure it: `actions/plan.yaml`, checked at load.

Hours per action type, hours per CSM (a default and per owner), organisation-wide caps per
action, the contact-frequency limit, the tiers that get no upsell pitch, and the shares of
the plan that are randomized (held back as a control, or assigned at random). An unknown
key, an unknown action code or negative hours is a `PlanConfigError` naming the file and
the field (e.g. `hours.business_reviw`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from actions.ranking import GROWTH_ASKS
from actions.tiers import RiskTier
from features.contract import ACTION_CODES

DEFAULT_PLAN = Path(__file__).with_name("plan.yaml")
UPSELL_ACTION = "upsell_offer"


def _action_code(code: str) -> str:
    if code not in ACTION_CODES:
        raise ValueError(f"unknown action code {code!r}; known: {', '.join(ACTION_CODES)}")
    return code


ActionCode = Annotated[str, AfterValidator(_action_code)]
Hours = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=0.5)]


class PlanConfigError(ValueError):
    """The plan file cannot be used; the message names the file and every bad field."""


class CsmHours(BaseModel):
    """Hours each CSM has for planned actions in a week."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    default: Hours
    owners: dict[str, Hours] = Field(default_factory=dict)

    def of(self, csm: str) -> float:
        """The hours `csm` has for the week."""
        return float(self.owners.get(csm, self.default))


class Experiments(BaseModel):
    """The randomized share of the plan: controls held back and lines assigned at random."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    seed: int = 12
    control_share: Share = 0.05
    control_share_by_action: dict[ActionCode, Share] = Field(default_factory=dict)
    random_share: Share = 0.02

    def control(self, action: str) -> float:
        """The share of `action`'s planned lines held back as a control."""
        return float(self.control_share_by_action.get(action, self.control_share))


class PlanConfig(BaseModel):
    """Everything the weekly plan is subject to (see `actions/plan.yaml`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    hours: dict[ActionCode, Hours]
    csm_hours: CsmHours
    caps: dict[ActionCode, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    contact_gap_days: int = Field(default=14, ge=0)
    no_upsell_tiers: tuple[RiskTier, ...] = ("high",)
    assumed_effect: float = Field(default=0.02, ge=0, le=1)
    upsell_value_share: float = Field(default=0.1, ge=0)
    choose_at: Literal["stated", "ranking"] = "stated"
    experiments: Experiments = Experiments()

    def assumed_for(self, churn_probability: float | None, action: str | None = None) -> float:
        """`assumed_effect` for an account: never more churn than the account has.

        A growth ask (an upsell pitch, a referral invitation, a reference programme) is not
        assumed to cut churn: what it is for is growth, and the eighth new-user audit's week
        was 73 of 87 referral invitations at an assumed 2 points. An upsell offer earns its
        expected expansion instead (`upsell_value_share`); the others wait until history can
        judge them.
        """
        if action in GROWTH_ASKS:
            return 0.0
        if churn_probability is None or math.isnan(churn_probability):
            return self.assumed_effect
        return min(self.assumed_effect, max(float(churn_probability), 0.0))


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if part != "[key]")


def plan_config(data: Mapping[str, Any], source: str = "plan file") -> PlanConfig:
    """Check plan settings given as a mapping (the parsed YAML).

    Raises:
        PlanConfigError: listing every problem, each with its field.
    """
    try:
        return PlanConfig.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"  - {_field(err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        ]
        raise PlanConfigError(
            f"{source}: {len(lines)} problem(s) in the plan settings:\n" + "\n".join(lines)
        ) from None


def load_plan_config(path: Path | str | None = None) -> PlanConfig:
    """Read and check a plan file (default: the shipped `actions/plan.yaml`)."""
    path = Path(path or DEFAULT_PLAN)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise PlanConfigError(f"{path}: cannot read the plan settings: {exc}") from exc
    if not isinstance(data, Mapping):
        raise PlanConfigError(f"{path}: the plan settings must be a mapping of fields")
    return plan_config(data, str(path))
