"""Settings of the next-best-action learner and of the ranking (`uplift.yaml` beside this)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from actions.ranking import GROWTH_ASKS
from features.contract import ACTION_CODES

DEFAULT_CONFIG = Path(__file__).with_name("uplift.yaml")


class NuisanceParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    n_estimators: int = Field(default=150, gt=0)
    learning_rate: float = Field(default=0.05, gt=0)
    num_leaves: int = Field(default=15, gt=1)
    min_child_samples: int = Field(default=40, gt=0)


class UpliftConfig(BaseModel):
    """Settings of the uplift models and of the ranking (training/uplift/uplift.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    window_days: int = Field(default=60, gt=0)
    min_treated: int = Field(default=40, ge=1)
    min_untreated: int = Field(default=40, ge=1)
    min_propensity: float = Field(default=0.005, ge=0, lt=0.5)
    learner: Literal["pooled_logit", "dr_lightgbm", "econml_forest_dr"] = "pooled_logit"
    interactions: int = Field(default=20, ge=0)
    interaction_l2: float = Field(default=300.0, ge=0)
    centre_treatments: bool = True
    symptoms: bool = True
    symptom_l2: float = Field(default=1.0, ge=0)
    causes: bool = False
    cause_l2: float = Field(default=10.0, ge=0)
    cv: int = Field(default=2, ge=2)
    bags: int = Field(default=8, ge=2)
    final_min_child_samples: int = Field(default=200, gt=0)
    nuisance: NuisanceParams = NuisanceParams()
    risk_baseline: Literal["pooled", "logistic", "chosen", "guarded", "unless_blind"] = "pooled"
    abstain_auc: float | None = Field(default=None, gt=0.5, lt=1.0)
    selection_bias: float = Field(default=0.0, ge=0)
    growth_selection_bias: float = Field(default=0.0, ge=0)
    surrogate_fixes: bool = False
    fix_min_z: float = Field(default=3.0, gt=0)
    stated_shrink: float = Field(default=1.0, ge=0, le=1)
    confidence: float = Field(default=0.5, ge=0.5, lt=1.0)
    playbook_confidence: float | None = Field(default=None, ge=0.5, lt=1.0)
    expansion_actions: tuple[str, ...] = ("upsell_offer", "referral_invite")
    expansion_value_share: float = Field(default=0.2, ge=0)
    default_cost: float = Field(default=0.0, ge=0)
    costs: dict[str, float] = Field(default_factory=dict)

    def z(self) -> float:
        """Standard errors between an effect and its bound at `confidence` (0 at 0.5)."""
        from scipy.stats import norm

        return float(norm.ppf(self.confidence))

    def z_suggested(self) -> float:
        """`z` for an action the playbook suggests for the account (`playbook_confidence`)."""
        from scipy.stats import norm

        level = getattr(self, "playbook_confidence", None)  # None in older pickles too
        return float(norm.ppf(self.confidence if level is None else level))

    def hidden_risk(self, action: str | None = None) -> float:
        """Log-odds of churn risk CSMs saw and the features do not show, for `action`.

        `growth_selection_bias` for the growth asks (`actions.ranking.GROWTH_ASKS`: CSMs
        make them where they sense a happy account, not a troubled one), `selection_bias`
        for every other action; without an action, the larger of the two.
        """
        usual = float(getattr(self, "selection_bias", 0.0))  # absent in older pickles
        growth = float(getattr(self, "growth_selection_bias", usual))  # older: one for all
        if action is None:
            return max(usual, growth)
        return growth if action in GROWTH_ASKS else usual

    def cost(self, action: str) -> float:
        """What doing `action` once costs, in ARR currency."""
        return float(self.costs.get(action, self.default_cost))


# The costs read as negligible when even the dearest is below this share of the median ARR
# (every action with any effect pays), and as overwhelming when even the cheapest is above
# this share: an action rarely takes more than 20 points off the chance of churn.
NEGLIGIBLE_COST_SHARE = 0.001
OVERWHELMING_COST_SHARE = 0.2


def cost_scale_note(median_arr: float | None, config: UpliftConfig) -> str | None:
    """A note when the configured action costs do not look like the ARR's money.

    The contract's `arr` has no currency or unit, and `costs` are absolute money in the
    same units (the twentieth audit: ARR in cents or yen made every action pay; ARR in
    thousands made none pay). Said when even the dearest action costs under
    `NEGLIGIBLE_COST_SHARE` of the median ARR, or even the cheapest over
    `OVERWHELMING_COST_SHARE` of it; None without costs or ARR.
    """
    priced = {action: cost for action, cost in config.costs.items() if cost > 0}
    if not median_arr or median_arr <= 0 or not priced:
        return None
    cheapest = min(priced, key=lambda action: priced[action])
    dearest = max(priced, key=lambda action: priced[action])
    where = (
        " Action costs are in the same money as `arr`: set `costs` (and `default_cost`) in"
        " training/uplift/uplift.yaml; the CSM hours each action takes are in"
        " actions/plan.yaml."
    )
    if priced[dearest] < NEGLIGIBLE_COST_SHARE * median_arr:
        return (
            f"Note: the median term's ARR is {median_arr:,.0f}, and even the dearest action's"
            f" configured cost ({dearest} {priced[dearest]:,.0f}) is"
            f" {priced[dearest] / median_arr:.2%} of it, so next-best-action will count every"
            " action whose effect is above zero at the configured confidence as paying. If"
            " `arr` is in cents or a currency of small units, the costs need the same units."
            + where
        )
    if priced[cheapest] > OVERWHELMING_COST_SHARE * median_arr:
        return (
            f"Note: the median term's ARR is {median_arr:,.6g}, and even the cheapest action's"
            f" configured cost ({cheapest} {priced[cheapest]:,.0f}) is"
            f" {priced[cheapest] / median_arr:.0%} of it, so next-best-action will find"
            " almost no action paying. If `arr` is in thousands, the costs need the same"
            " units." + where
        )
    return None


def load_uplift_config(path: str | Path | None = None) -> UpliftConfig:
    """Read and validate the uplift settings (default: training/uplift/uplift.yaml)."""
    with open(path or DEFAULT_CONFIG) as handle:
        config = UpliftConfig.model_validate(yaml.safe_load(handle) or {})
    unknown = set(config.costs) - set(ACTION_CODES)
    if unknown:
        raise ValueError(f"costs name unknown action codes: {sorted(unknown)}")
    return config
