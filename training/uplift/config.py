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


def load_uplift_config(path: str | Path | None = None) -> UpliftConfig:
    """Read and validate the uplift settings (default: training/uplift/uplift.yaml)."""
    with open(path or DEFAULT_CONFIG) as handle:
        config = UpliftConfig.model_validate(yaml.safe_load(handle) or {})
    unknown = set(config.costs) - set(ACTION_CODES)
    if unknown:
        raise ValueError(f"costs name unknown action codes: {sorted(unknown)}")
    return config
