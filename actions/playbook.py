"""The playbook: CS-ops-editable rules that map an account's drivers to actions.

The rules live in YAML (`actions/playbook.yaml`, or the file `RETAIN_PLAYBOOK` names) and
are checked at load: an unknown feature, action code, tier or operator is an error naming
the file, the rule and the field. Actions are ordered in `actions.ranking`.
"""

from __future__ import annotations

import functools
import math
import operator
import string
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from actions.tiers import RISK_TIERS, RiskTier
from features.contract import ACTION_CODES

DEFAULT_PLAYBOOK = Path(__file__).with_name("playbook.yaml")
SCORES: tuple[str, ...] = ("churn_probability", "upsell_probability", "arr_at_risk")
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


class PlaybookError(ValueError):
    """The playbook file cannot be used; the message names file, rule and field."""


class Condition(BaseModel):
    """`feature` (or `score`) `op` `value`; a missing feature value never matches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feature: str | None = None
    score: str | None = None
    op: Literal["<", "<=", ">", ">=", "==", "!="]
    value: float

    @field_validator("feature")
    @classmethod
    def _known_feature(cls, name: str | None, info: ValidationInfo) -> str | None:
        known = (info.context or {}).get("feature_names")
        if name is not None and known is not None and name not in known:
            raise ValueError(f"unknown feature {name!r}; see features/definitions/")
        return name

    @field_validator("score")
    @classmethod
    def _known_score(cls, name: str | None) -> str | None:
        if name is not None and name not in SCORES:
            raise ValueError(f"unknown score {name!r}; one of {', '.join(SCORES)}")
        return name

    @model_validator(mode="after")
    def _one_subject(self) -> Condition:
        if (self.feature is None) == (self.score is None):
            raise ValueError("give exactly one of `feature` or `score`")
        return self

    @property
    def subject(self) -> str:
        return self.feature or self.score or ""

    def holds(self, value: float | None) -> bool:
        """Whether the condition is true for this value (False when the value is unknown)."""
        if value is None or math.isnan(value):
            return False
        return OPERATORS[self.op](value, self.value)


class Tier(BaseModel):
    """An account tier (e.g. reference, growth, standard): the first whose conditions all hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    description: str = ""
    when: tuple[Condition, ...] = ()


class Rule(BaseModel):
    """When all conditions hold (and risk/tier match), recommend `action` for `reason`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    action: str
    reason: str = Field(min_length=1)
    priority: int = Field(default=50, ge=0, le=100)
    risk: tuple[RiskTier, ...] = RISK_TIERS
    tiers: tuple[str, ...] = ()
    when: tuple[Condition, ...] = Field(min_length=1)

    @field_validator("action")
    @classmethod
    def _known_action(cls, code: str) -> str:
        if code not in ACTION_CODES:
            raise ValueError(f"unknown action code {code!r}; one of {', '.join(ACTION_CODES)}")
        return code

    @field_validator("reason")
    @classmethod
    def _known_placeholders(cls, text: str, info: ValidationInfo) -> str:
        try:
            named = placeholders(text)
        except ValueError as error:
            raise ValueError(f"{error}; write a feature's value as {{feature_name}}") from None
        known = (info.context or {}).get("feature_names")
        unknown = [n for n in named if known is not None and n not in known]
        if unknown:
            raise ValueError(f"unknown feature {unknown[0]!r} in braces; see features/definitions/")
        return text

    def words(self, values: Mapping[str, float | None] | None = None) -> str:
        """The reason, each `{feature}` replaced by the account's value in its unit."""
        named = placeholders(self.reason)
        if not named:
            return self.reason
        from features.units import format_value

        units = _units()
        shown = {n: format_value((values or {}).get(n), units.get(n, "")) for n in named}
        return self.reason.format(**shown)


@functools.cache
def _units() -> dict[str, str]:
    """Feature -> its unit (`features.definitions`), read once."""
    from features.definitions import FEATURES

    return {f.name: f.unit for f in FEATURES}


def placeholders(text: str) -> list[str]:
    """The feature names a reason writes in braces (`{days_since_touchpoint}`).

    Raises:
        ValueError: An unmatched brace, or braces around something that is no name.
    """
    names = []
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"{{{name}}} is not a feature name in braces")
        names.append(name)
    return names


class Playbook(BaseModel):
    """Account tiers and the rules that turn drivers into recommended actions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tiers: tuple[Tier, ...] = Field(min_length=1)
    rules: tuple[Rule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _tiers_exist(self) -> Playbook:
        names = {tier.name for tier in self.tiers}
        for i, rule in enumerate(self.rules):
            unknown = [t for t in rule.tiers if t not in names]
            if unknown:
                raise ValueError(
                    f"rule {i} ({rule.name!r}) field tiers: unknown tier(s) {unknown}; "
                    f"defined: {sorted(names)}"
                )
        return self

    def tier(self, values: Mapping[str, float | None]) -> str:
        """The account's tier: the first whose conditions all hold, else the last one."""
        for tier in self.tiers:
            if all(c.holds(values.get(c.subject)) for c in tier.when):
                return tier.name
        return self.tiers[-1].name

    def matches(
        self, values: Mapping[str, float | None], risk_tier: str, account_tier: str
    ) -> list[Rule]:
        """The rules that fire for an account's feature values and scores."""
        return [
            rule
            for rule in self.rules
            if risk_tier in rule.risk
            and (not rule.tiers or account_tier in rule.tiers)
            and all(c.holds(values.get(c.subject)) for c in rule.when)
        ]


def _where(loc: Sequence[Any], data: Any) -> str:
    """'rule 3 ('quiet key users'), field when[0].op' from a pydantic error location."""
    parts = list(loc)
    head = ""
    if len(parts) >= 2 and parts[0] in ("rules", "tiers") and isinstance(parts[1], int):
        section, index = parts[0], parts[1]
        try:
            name = data[section][index].get("name", "?")
        except (KeyError, IndexError, TypeError, AttributeError):
            name = "?"
        head = f"{section[:-1]} {index} ({name!r}), "
        parts = parts[2:]
    field = ""
    for part in parts:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    return f"{head}field {field or '(top level)'}"


def load_playbook(path: Path | str, feature_names: Collection[str] | None = None) -> Playbook:
    """Read and check a playbook file.

    Args:
        path: The YAML file.
        feature_names: Known feature names (defaults to `features.definitions.FEATURE_NAMES`).

    Raises:
        PlaybookError: Listing every problem with the file, rule and field named.
    """
    path = Path(path)
    if feature_names is None:
        from features.definitions import FEATURE_NAMES

        feature_names = FEATURE_NAMES
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise PlaybookError(f"{path}: cannot read the playbook: {exc}") from exc
    try:
        return Playbook.model_validate(data, context={"feature_names": set(feature_names)})
    except ValidationError as exc:
        lines = [
            f"  - {_where(err['loc'], data)}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        ]
        raise PlaybookError(
            f"{path}: {len(lines)} problem(s) in the playbook:\n" + "\n".join(lines)
        ) from None
