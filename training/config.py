"""Training parameters: `training/defaults.yaml` checked by a pydantic model.

Every model forbids unknown keys, so a typo in the YAML is an error rather
than a silently ignored setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULTS_PATH = Path(__file__).with_name("defaults.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SplitConfig(_Strict):
    """How snapshots are divided in time into training, validation and test periods.

    `test_months` and `validation_months` are what each model gets when its history
    allows; with fewer labelled months the periods shrink (`training.split`) down to the
    `min_*` floor, below which that model is not trained and says why.
    """

    test_months: int = Field(default=6, ge=1)
    validation_months: int = Field(default=3, ge=1)
    embargo_days: int = Field(default=30, ge=0)
    min_test_months: int = Field(default=1, ge=1)
    min_validation_months: int = Field(default=1, ge=1)
    min_train_months: int = Field(default=2, ge=1)
    min_positives: int = Field(
        default=10, ge=1, description="Fewest positive (and negative) training snapshots."
    )

    @model_validator(mode="after")
    def _floor_below_preference(self) -> SplitConfig:
        if self.min_test_months > self.test_months:
            raise ValueError("min_test_months must not exceed test_months")
        if self.min_validation_months > self.validation_months:
            raise ValueError("min_validation_months must not exceed validation_months")
        return self


class LightGBMParams(_Strict):
    """One candidate of the hyper-parameter search."""

    num_leaves: int = Field(default=31, ge=2, le=255)
    learning_rate: float = Field(default=0.05, gt=0, le=1)
    min_child_samples: int = Field(default=20, ge=1)
    feature_fraction: float = Field(default=0.8, gt=0, le=1)
    lambda_l2: float = Field(default=1.0, ge=0)


class SearchConfig(_Strict):
    """Bounded hyper-parameter search with early stopping on the validation period."""

    max_rounds: int = Field(default=600, ge=1)
    early_stopping_rounds: int = Field(default=40, ge=1)
    imbalance: Literal["none", "sqrt", "balanced"] = "sqrt"
    configs: list[LightGBMParams] = Field(min_length=1, max_length=12)
    monotone_churn: bool = Field(
        default=True,
        description="Constrain churn risk to move against each feature's healthy direction.",
    )
    challengers: tuple[Literal["unconstrained", "simple"], ...] = Field(
        default=("unconstrained", "simple"),
        description="Also try the best configuration without monotone constraints and a plain "
        "LightGBM on the small usage-and-contract set (`baselines.SIMPLE_FEATURES`); the "
        "simplest within one standard error of the best on validation wins.",
    )
    selection: Literal["one_standard_error", "best"] = Field(
        default="one_standard_error",
        description="Pick the simplest candidate within one standard error of the best "
        "validation ROC-AUC, or simply the best.",
    )


class TierConfig(_Strict):
    """Shares of accounts put in the high and medium risk tiers."""

    high_share: float = Field(default=0.10, gt=0, lt=1)
    medium_share: float = Field(default=0.20, gt=0, lt=1)

    @model_validator(mode="after")
    def _shares_fit(self) -> TierConfig:
        if self.high_share + self.medium_share >= 1:
            raise ValueError("high_share + medium_share must be below 1")
        return self


class PromotionConfig(_Strict):
    """The gate a challenger must pass to become champion."""

    metric: Literal["roc_auc", "pr_auc"] = "roc_auc"
    min_improvement: float = 0.0


class TrainingConfig(_Strict):
    """All parameters of one `retain train` run."""

    seed: int = 7
    every: str = "1M"
    warmup_days: int = Field(default=90, ge=0)
    # Start the training set at the first term, not `warmup_days` after the first event:
    # usage (and support) features read as unknown before their table begins
    # (`features.tracking_start`). For billing history years older than the analytics.
    learn_before_tracking: bool = False
    # The share a renewal's ARR must rise by to count as an upsell (0: any rise, the
    # contract's rule; 0.05 leaves out a price indexation of up to 5%).
    upsell_min_rise: float = Field(default=0.0, ge=0.0, lt=1.0)
    split: SplitConfig = SplitConfig()
    search: SearchConfig
    calibration: Literal["isotonic", "platt"] = "isotonic"
    tiers: TierConfig = TierConfig()
    promotion: PromotionConfig = PromotionConfig()


def load_config(path: str | Path | None = None) -> TrainingConfig:
    """Read and validate a training YAML file (the packaged defaults when `path` is None)."""
    text = Path(path or DEFAULTS_PATH).read_text(encoding="utf-8")
    return TrainingConfig.model_validate(yaml.safe_load(text) or {})
