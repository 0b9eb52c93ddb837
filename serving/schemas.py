"""Request and response models of the scoring API (also the rows `retain score` writes).

Times go out in ISO 8601 with `Z` (`2027-05-12T00:00:00Z`, `features.times.utc_iso`): the
service keeps naive UTC (the contract's time), and a time without an offset is read as local
time by JavaScript.
Dates (a renewal date, a plan's week) go out as `2027-05-12`.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from features.times import utc_iso
from serving.as_of import parse_as_of

MAX_ACCOUNTS_PER_REQUEST = 1000

MAX_ACCOUNT_ID = 200


def id_text(value: object) -> object:
    """A JSON integer id as its decimal string (the contract's rule for ids in files).

    Other values are left to the field's own check: a float or a boolean is refused.
    """
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


AccountId = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_ACCOUNT_ID), BeforeValidator(id_text)
]  # constraints first: they stay the string's own ("at most 200 characters", not "items")
AsOf = Annotated[
    datetime,
    BeforeValidator(parse_as_of),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "format": f} for f in ("date", "date-time")]},
        mode="validation",
    ),
]  # ISO-8601 only, naive UTC


UtcTime = Annotated[
    datetime,
    PlainSerializer(utc_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]  # a time in a response: `2027-05-12T00:00:00Z`


class ScoreRequest(BaseModel):
    """Which accounts to score, and optionally as of when (default: the latest data)."""

    model_config = ConfigDict(extra="forbid")

    account_ids: list[AccountId] = Field(
        min_length=1,
        max_length=MAX_ACCOUNTS_PER_REQUEST,
        description=f"1 to {MAX_ACCOUNTS_PER_REQUEST} account ids, each sent once (a JSON "
        "integer is read as its decimal string).",
    )
    as_of: AsOf | None = Field(
        default=None,
        description="Score as of this ISO-8601 date or time (UTC); default: the latest data.",
    )

    @field_validator("account_ids")
    @classmethod
    def _each_once(cls, account_ids: list[str]) -> list[str]:
        repeated = [a for a, n in Counter(account_ids).items() if n > 1]
        if repeated:
            shown = ", ".join(repr(a) for a in repeated[:5])
            more = f" and {len(repeated) - 5} more" if len(repeated) > 5 else ""
            raise ValueError(f"send each id once; sent more than once: {shown}{more}")
        return account_ids


class DriverOut(BaseModel):
    """A reason behind the churn score."""

    feature: str
    family: str = Field(description="The feature's signal family (key_users, usage, support...).")
    contribution: float = Field(
        description="The family's part of the churn raw score (log-odds): the SHAP of its "
        "features, with the share of proxies handed to the cause the account's features "
        "point to (drivers); the feature's SHAP (an action's drivers)."
    )
    value: float | None = Field(description="The account's value (null when not known).")
    healthy_value: float | None = Field(description="Typical value among healthy accounts.")
    sentence: str


class FamilyOut(BaseModel):
    """A signal family's part in the churn score, in the order the drivers show them."""

    family: str
    direction: Literal["raises", "lowers"]
    contribution: float = Field(description="Credited part of the churn raw score (log-odds).")
    shap: float = Field(description="The churn model's SHAP summed over the family's features.")
    likelihood: float | None = Field(
        description="How likely the account's main cause is one this family reveals (the "
        "cause reader's probability); null for families that reveal no cause."
    )
    lead: str = Field(description="The feature that says it most plainly.")
    features: list[str] = Field(description="The family's features that read as reasons.")


class ActionOut(BaseModel):
    """A recommended action, best first."""

    action: str = Field(description="An action code of the data contract.")
    reason: str
    rules: list[str] = Field(description="Playbook rules that recommended it.")
    drivers: list[DriverOut] = Field(description="The drivers that triggered it.")
    expected_effect: float | None = Field(
        default=None,
        description=(
            "Expected change in churn probability (negative helps), if known: a learned"
            " effect as the CS team's history alone shows it (with what history saw the"
            " action fix). On simulated worlds it was nearer the truth at the recommended"
            " actions than ranking_effect (mean absolute error 9 against 17 pts)."
        ),
    )
    effect_std: float | None = Field(
        default=None, description="Standard error of expected_effect (null when not learned)."
    )
    expected_saved_arr: float | None = Field(
        default=None,
        description="-expected_effect x ARR (+ expected expansion) - the action's cost (null if"
        " unknown). It can be 0 or less for a recommended action: see ranking_saved_arr.",
    )
    ranking_effect: float | None = Field(
        default=None,
        description=(
            "The learned effect the actions are ranked and gated by: expected_effect with"
            " uplift.yaml's selection_bias (the hidden risk of the accounts CSMs chose to act"
            " on; growth_selection_bias for a growth ask) taken out. It picks better actions"
            " and overstates what they do (about twice the truth on simulated worlds)."
        ),
    )
    ranking_saved_arr: float | None = Field(
        default=None,
        description="-ranking_effect x ARR (+ expansion) - cost: what the ranking values the"
        " action at (the weekly plan too under the plan file's `choose_at: ranking`; by"
        " default it is chosen at expected_saved_arr).",
    )
    expected_expansion_arr: float | None = Field(
        default=None,
        description="The expansion ARR a learned growth ask is expected to add, included in"
        " expected_saved_arr and ranking_saved_arr (null: none, or not learned).",
    )
    basis: Literal["learned", "playbook"] = Field(
        default="playbook",
        description="`learned` from the CS team's history, or `playbook` where history has "
        "too few comparable cases.",
    )
    basis_reason: str = Field(default="", description="Why this basis was used.")


class AccountScore(BaseModel):
    """Everything the CRM and the CSM need about one account."""

    account_id: str
    as_of: UtcTime = Field(description="The time T the score is as of (UTC).")
    churn_probability: float = Field(ge=0, le=1)
    upsell_probability: float | None = Field(
        ge=0, le=1, description="Null when no upsell model is in use (see /v1/models)."
    )
    next_best_action: str = Field(description="The top action code, or `none`.")
    none_reason: str | None = Field(
        default=None,
        description="Why `next_best_action` is `none`, in words; null when one is recommended.",
    )
    model_version: str
    risk_tier: Literal["high", "medium", "low"]
    account_tier: str = Field(description="Playbook tier, e.g. reference, growth, standard.")
    arr: float | None
    arr_at_risk: float | None = Field(description="churn_probability x ARR.")
    renewal_date: date | None = Field(
        description="The next renewal: the end_date of the term in force at as_of."
    )
    days_to_renewal: int | None
    drivers: list[DriverOut]
    no_driver_reason: str | None = Field(
        default=None,
        description="Why `drivers` is empty, in words: nothing raising (or, at low risk, "
        "lowering) the score differs from healthy accounts the way it pushes, and what the "
        "score leans on most instead, as context, not as a reason; null when there are drivers.",
    )
    upsell_drivers: list[DriverOut] = Field(
        default_factory=list,
        description="Why the account may buy more, where an upsell offer is among its"
        " actions: the features raising `upsell_probability` most whose value is better than"
        " in healthy accounts (the upsell model's SHAP contribution, log-odds), with a"
        " sentence; empty for other accounts and without an upsell model.",
    )
    families: list[FamilyOut] = Field(
        default_factory=list, description="The drivers' families: raising the risk first."
    )
    actions: list[ActionOut]
    action_note: str | None = Field(
        default=None,
        description="When the first action does not answer the first driver and a later one "
        "does: which, and why it is not first, in words; null otherwise.",
    )


class UnknownAccount(BaseModel):
    """An id that could not be scored, and why."""

    account_id: str
    error: str


class ScoreResponse(BaseModel):
    """Scores for the known ids; the others listed with the reason."""

    as_of: UtcTime
    model_version: str
    scores: list[AccountScore]
    unknown: list[UnknownAccount]


class ModelOut(BaseModel):
    """One registered model in use."""

    name: str
    version: str


class ModelsResponse(BaseModel):
    """The models in use and where they were loaded from."""

    model_version: str
    origin: Literal["registry", "cache", "memory"]
    loaded_at: UtcTime
    models: list[ModelOut]
    tier_thresholds: dict[str, float]
    missing_models: dict[str, str] = Field(
        default_factory=dict, description="Optional models not in use, and why."
    )
    missing_families: list[str] = Field(
        default_factory=list,
        description="Feature families with no data at training: never drivers or rule inputs.",
    )


class Readiness(BaseModel):
    """Whether the service can score, and from what."""

    ready: bool
    status: str
    model_version: str | None = None
    models_from: str | None = None
    registry_error: str | None = None
    uplift_error: str | None = Field(
        default=None, description="Why no learned effects rank actions (the playbook does)."
    )
    store_error: str | None = Field(
        default=None, description="Why touchpoints cannot be recorded (the store is down)."
    )
    champion_error: str | None = Field(
        default=None, description="Why a newly promoted champion is not serving."
    )
    data_error: str | None = Field(
        default=None, description="Why features for other as_of dates cannot be computed."
    )
    missing_models: dict[str, str] = Field(
        default_factory=dict, description="Optional models not in use, and why."
    )
    as_of: UtcTime | None = None
    accounts: int = 0
