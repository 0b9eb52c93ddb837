"""The one ranking of actions for an account, used by serving, training and evaluation.

Two inputs meet here: what the playbook suggests (`suggest`: the fired rules merged into
one suggestion per action, in the playbook's order) and, when an uplift model exists, each
action's expected effect on churn learned from the CS team's history (`ExpectedEffect`).

`rank` orders them: actions whose effect was learned come first, by expected saved ARR
(-effect x ARR - the action's cost), and only when they pay with the configured confidence:
the pessimistic effect (`ExpectedEffect.pessimistic`, the effect at the confidence's bound,
`training/uplift/uplift.yaml`'s `confidence`) must still save more than the action costs.
Where the playbook suggests the action for the account, its rule counts as evidence too and
the bound is taken at `playbook_confidence` instead (`ExpectedEffect.suggested_pessimistic`).
The effect that ranks has the hidden risk of the accounts CSMs chose taken out
(`selection_bias`), which picks better actions but overstates what they do; a learned
action is stated as history alone shows it, for accounts of the same diagnosed cause
(`RankedAction.expected_effect` and `expected_saved_arr`, `ExpectedEffect.stated`; pooled
in `training.uplift.stated`) beside what it was ranked at (`ranking_effect`,
`ranking_saved_arr`).
Then come the playbook's suggestions that history cannot judge for this account, in
playbook order. A playbook suggestion whose learned effect does not pay is left out. Without
learned effects the playbook decides alone. The diagnosis has the last word among learned
actions that are not surely different: when the top learned action does not answer the first
driver the CSM reads (`Suggestion.answers_first_driver`) and an action that does is expected
to save at least what the top is sure to save (its value at the confidence bound), that action
goes first, so what is read and what is recommended never contradict (`contradicts`); where
the first action still does not answer the first driver, `first_driver_note` says which listed
action does and why it is not first. The
next-best-action is the top of the ranking, or `none`; `why_none` says in words why nothing
was recommended. An account at high or medium churn risk is never asked for growth (an
upsell pitch, a referral invitation, a reference programme: `GROWTH_ASKS` at
`NO_PITCH_TIERS`), as the playbook asks only at low risk, nor is an account with a pain to mend
first at any risk (`in_pain`: a key user gone and not replaced, urgent tickets open, first value
overdue); the weekly plan plans from this ranking, so it has the same rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from actions.playbook import Rule
from features.definitions import FEATURE_NAMES, feature
from features.units import money

NO_ACTION = "none"
# Asks for growth, which the playbook makes only at low risk. Learned from history alone they
# look protective where CSMs ask healthy accounts (tuning structure seed 2: referral_invite
# picked for 164 of 1,082 at-risk snapshots, true effect on churn 0 or harmful). Withholding
# them at high and medium risk: tuning seeds 1-6, net share of the best choice, mean 50.1%
# against 48.6% at high risk only and 48.2% for upsell pitches at high risk only; on the
# untouched seeds 11-18, 58.8% against 58.7%, worst world 29.1% both (docs/results.md).
GROWTH_ASKS = ("upsell_offer", "referral_invite", "benchmark_program")
NO_PITCH_TIERS = ("high", "medium")  # churn risk tiers that are never asked for growth
# Facts of a pain to mend before any growth ask, at any risk tier: the playbook's rules "key
# user left and not replaced", "urgent support issues open" and "first value overdue". The
# eighth new-user audit's CSM read "the admin left and nobody has taken their place" beside a
# referral invitation. On the protocol's worlds (notebooks/experiments/growth_asks_at_pain.py,
# rule written first) it changed at most 7 of 800-1,400 recommendations per fit: net mean 66.5%
# both on tuning seeds 1-6, 55.0% against 55.1% on fresh 47-50 and 73-76, no world lower.
# Since the seventh session of 29 November 2026 also use that has halved and a detractor's
# latest NPS answer (the tenth audit's growth asks went to both; growth_asks_at_falling_use.py).
PAIN_FACTS: dict[str, tuple[Literal[">=", "<="], float]] = {
    "key_users_lost_unreplaced_90d": (">=", 1.0),
    "open_tickets_urgent": (">=", 1.0),
    "first_value_overdue": (">=", 1.0),
    # events in the last 30 days at most half of the 30 before (symmetric change -1/3)
    "events_change_30d": ("<=", -1.0 / 3.0),
    "nps_latest": ("<=", 6.0),  # the latest survey answer a detractor's
}
Basis = Literal["learned", "playbook"]


def in_pain(values: Mapping[str, Any] | None) -> bool:
    """Whether an account's features hold a pain to mend before a growth ask (`PAIN_FACTS`).

    `pain_flags` is the same rule for a frame; this one is on the scoring path, where
    building a one-row frame per account cost 0.44 ms (0.44 s per 1,000 accounts).
    """
    if not values:
        return False
    return any(
        _known(values.get(name))
        and (float(values[name]) >= bound if op == ">=" else float(values[name]) <= bound)
        for name, (op, bound) in PAIN_FACTS.items()
    )


def pain_flags(frame: Any) -> list[bool]:
    """`in_pain` for each row of a frame of features (a fact it lacks or holds unknown: absent)."""
    hit = np.zeros(len(frame), dtype=bool)
    for name, (op, bound) in PAIN_FACTS.items():
        if name in frame.columns:
            column = np.asarray(frame[name], dtype=float)
            if op == ">=":
                hit |= np.nan_to_num(column, nan=-np.inf) >= bound
            else:
                hit |= np.nan_to_num(column, nan=np.inf) <= bound
    return hit.tolist()


def _no_growth(risk_tier: str | None, pain: bool) -> bool:
    return risk_tier in NO_PITCH_TIERS or pain


@dataclass(frozen=True)
class ExpectedEffect:
    """One action's expected change in churn probability for one account (negative helps)."""

    effect: float | None
    std: float | None
    basis: Basis
    basis_reason: str
    cost: float = 0.0
    pessimistic: float | None = None  # the effect at the confidence bound (None: `effect`)
    expansion: float | None = None  # expansion ARR the action adds, as a share of ARR
    # the bound where the playbook suggests the action (`playbook_confidence`; None: the same)
    suggested_pessimistic: float | None = None
    # the effect as history alone shows it (None: `effect`), what the CSM is told; `effect`
    # has the hidden selection CSMs are assumed to make taken out and ranks the actions
    history: float | None = None

    def saved(self, arr: float, suggested: bool = False) -> tuple[float, float]:
        """(expected, pessimistic) ARR saved net of cost on an account worth `arr`.

        Saved ARR is the churn reduction's plus the expansion the action adds (upsell and
        referral invitations, valued by the upsell learner). `suggested`: the playbook
        suggests this action for the account, so its bound is `suggested_pessimistic`.
        """
        effect = self.effect if self.effect is not None and _known(self.effect) else 0.0
        bound = self.pessimistic if self.pessimistic is not None else effect
        if suggested and self.suggested_pessimistic is not None:
            bound = self.suggested_pessimistic
        bound = bound if _known(bound) else effect
        gain = self.expansion if self.expansion is not None and _known(self.expansion) else 0.0
        return (gain - effect) * arr - self.cost, (gain - bound) * arr - self.cost

    def stated(self, arr: float) -> tuple[float | None, float]:
        """(effect, ARR saved net of cost) as history alone shows them: what the CSM reads.

        The ranking's effect has the hidden risk of the accounts CSMs chose taken out
        (`selection_bias`); that picks better actions but overstates what they do. At the
        actions it recommended on simulated worlds the ranking's effects were about twice the
        truth, history's about right (docs/results.md, "What an action is stated to do").
        """
        effect = self.history if self.history is not None and _known(self.history) else None
        if effect is None:
            effect = self.effect if self.effect is not None and _known(self.effect) else None
        gain = self.expansion if self.expansion is not None and _known(self.expansion) else 0.0
        return effect, (gain - (effect or 0.0)) * arr - self.cost


@dataclass(frozen=True)
class Suggestion:
    """The playbook's suggestion of one action, merged from the rules that fired for it."""

    action: str
    rules: tuple[str, ...]
    reason: str
    features: tuple[str, ...]
    priority: int
    answers_first_driver: bool = False  # a triggering feature is in the first driver's family


@dataclass(frozen=True)
class RankedAction:
    """One recommended action for an account, with why and what it is expected to do."""

    action: str
    reason: str
    rules: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    expected_effect: float | None = None  # as history alone shows it (`ExpectedEffect.stated`)
    effect_std: float | None = None
    expected_saved_arr: float | None = None  # net of cost, from `expected_effect`
    basis: Basis = "playbook"
    basis_reason: str = ""
    ranking_effect: float | None = None  # the effect that ranks, hidden selection taken out
    ranking_saved_arr: float | None = None  # what the ranking and the weekly plan value it at
    expected_expansion_arr: float | None = None  # the expansion ARR in both saved values


def suggest(
    fired: Sequence[Rule],
    contributions: Mapping[str, float] | None = None,
    diagnosis: Sequence[str] = (),
    values: Mapping[str, float | None] | None = None,
) -> list[Suggestion]:
    """Merge fired rules into one suggestion per action, in the playbook's order.

    With a `diagnosis` (the signal families raising the account's risk, first first, as
    its drivers show them: `training.families`), an action whose triggering features
    belong to an earlier family comes first, so the playbook answers the cause the CSM
    reads first. Then actions are ordered by the highest priority among their rules, then
    by how much churn risk their triggering features add (their SHAP contributions, when
    given). A suggestion triggered by a feature of the first family answers the first
    driver (`Suggestion.answers_first_driver`), which `rank` uses among learned actions.
    `values`: the account's features, written into the reasons' `{feature}` placeholders.
    """
    contributions = contributions or {}
    merged: dict[str, list[Rule]] = {}
    for rule in fired:
        merged.setdefault(rule.action, []).append(rule)
    suggestions = []
    for action, rules in merged.items():
        rules.sort(key=lambda r: -r.priority)
        suggestions.append(
            Suggestion(
                action=action,
                rules=tuple(r.name for r in rules),
                reason=" ".join(dict.fromkeys(r.words(values).strip() for r in rules)),
                features=tuple(
                    dict.fromkeys(c.feature for r in rules for c in r.when if c.feature)
                ),
                priority=rules[0].priority,
                answers_first_driver=bool(diagnosis)
                and any(_family(c.feature or "") == diagnosis[0] for r in rules for c in r.when),
            )
        )

    def risk_added(suggestion: Suggestion) -> float:
        return sum(max(contributions.get(f, 0.0), 0.0) for f in suggestion.features)

    place = {family: i for i, family in enumerate(diagnosis)}

    def diagnosed(suggestion: Suggestion) -> int:
        families = (_family(f) for f in suggestion.features)
        return min((place.get(f, len(place)) for f in families), default=len(place))

    return sorted(suggestions, key=lambda s: (diagnosed(s), -s.priority, -risk_added(s)))


def _family(name: str) -> str:
    return feature(name).family if name in FEATURE_NAMES else ""


def _words(action: str) -> str:
    """'key user replacement' for `key_user_replacement`."""
    return action.replace("_", " ")


def effect_sentence(action: str) -> str:
    """A CSM's sentence for a learned action with no playbook reason behind it.

    It leaves the figure out: the plan line, the account page and the API
    (`expected_effect`) each give the effect beside the reason, so a reason that gave it
    too stated it twice (fifth new-user audit). Nor does it say accounts did better after
    the action: with `selection_bias` taken out, history alone may not show that.
    """
    return (
        "No playbook rule asks for it here: it is chosen on how accounts like this did after "
        f"the CS team's {_words(action)}."
    )


def within_risk(
    effects: Mapping[str, ExpectedEffect] | None, churn_probability: float
) -> dict[str, ExpectedEffect] | None:
    """The effects bounded by the account's churn probability p (the churn model's score).

    An action can take away no more churn than there is (-p) and add no more than is left
    (1 - p). The uplift learner states effects against its own baseline, which is not the churn
    model's score; on an account the churn model scores at 19% a learned -27 points would
    value more ARR than the account can lose.
    """
    if effects is None or not _known(churn_probability):
        return None if effects is None else dict(effects)
    low, high = -float(churn_probability), 1.0 - float(churn_probability)
    return {action: _clamped(found, low, high) for action, found in effects.items()}


def _clamped(found: ExpectedEffect, low: float, high: float) -> ExpectedEffect:
    """`found` with its effect, its bounds and its stated effect kept within [low, high]."""

    def clamp(value: float | None) -> float | None:
        return value if value is None or not _known(value) else min(max(value, low), high)

    return replace(
        found,
        effect=clamp(found.effect),
        pessimistic=clamp(found.pessimistic),
        suggested_pessimistic=clamp(found.suggested_pessimistic),
        history=clamp(found.history),
    )


def _known(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def no_churn_credit(
    effects: Mapping[str, ExpectedEffect] | None,
) -> dict[str, ExpectedEffect] | None:
    """The effects with no churn cut claimed for a growth ask (`GROWTH_ASKS`); harm is kept.

    A growth ask's learned churn effect comes from a history where CS teams ask healthy
    accounts, so it looks protective (tenth new-user audit: 152 of 219 plan lines referral
    invitations at "churn -2.5 pts"). Its effect, bounds and stated effect are clipped at 0;
    its expansion gain is kept.
    """
    if effects is None:
        return None
    return {
        action: _clamped(found, 0.0, math.inf) if action in GROWTH_ASKS else found
        for action, found in effects.items()
    }


def rank(
    suggestions: Sequence[Suggestion],
    effects: Mapping[str, ExpectedEffect] | None,
    arr: float | None,
    risk_tier: str | None = None,
    pain: bool = False,
) -> list[RankedAction]:
    """The account's actions, best first (see the module docstring for the rule).

    Args:
        suggestions: the playbook's suggestions for the account (`suggest`), in order.
        effects: action code -> expected effect for the account, or None without a model.
        arr: the account's ARR; when unknown, learned effects cannot be valued and the
            playbook decides.
        risk_tier: the account's churn risk tier; at `NO_PITCH_TIERS` no growth ask.
        pain: the account has a pain to mend first (`in_pain`): no growth ask either.
    """
    effects = no_churn_credit(effects)
    if _no_growth(risk_tier, pain):
        suggestions = [s for s in suggestions if s.action not in GROWTH_ASKS]
        effects = (
            None if effects is None else {a: e for a, e in effects.items() if a not in GROWTH_ASKS}
        )
    if effects is None or not _known(arr):
        reason = "no uplift model" if effects is None else "the account's ARR is unknown"
        return [
            RankedAction(s.action, s.reason, s.rules, s.features, basis_reason=reason)
            for s in suggestions
        ]
    value = float(arr)  # type: ignore[arg-type]
    by_action = {s.action: s for s in suggestions}
    learned: list[tuple[float, float, RankedAction]] = []
    for action, found in effects.items():
        if found.basis != "learned" or not _known(found.effect):
            continue
        effect = float(found.effect)  # type: ignore[arg-type]
        s = by_action.get(action)
        saved, sure = found.saved(value, suggested=s is not None)
        if saved <= 0 or sure <= 0:
            continue
        stated, stated_saved = found.stated(value)
        gain = found.expansion if found.expansion is not None and _known(found.expansion) else 0.0
        learned.append(
            (
                saved,
                sure,
                RankedAction(
                    action=action,
                    reason=s.reason if s else effect_sentence(action),
                    rules=s.rules if s else (),
                    features=s.features if s else (),
                    expected_effect=stated,
                    effect_std=found.std,
                    expected_saved_arr=stated_saved,
                    basis="learned",
                    basis_reason=found.basis_reason,
                    ranking_effect=effect,
                    ranking_saved_arr=saved,
                    expected_expansion_arr=gain * value if gain else None,
                ),
            )
        )
    learned.sort(key=lambda item: -item[0])
    learned = _follow_diagnosis(learned, by_action)
    ranked = [action for _, _, action in learned]
    for s in suggestions:
        known = effects.get(s.action)
        if known is None or known.basis != "learned" or not _known(known.effect):
            reason = known.basis_reason if known is not None else "no learned effect for it"
            ranked.append(
                RankedAction(s.action, s.reason, s.rules, s.features, basis_reason=reason)
            )
    return ranked


def _answers(action: str, by_action: Mapping[str, Suggestion]) -> bool:
    found = by_action.get(action)
    return found is not None and found.answers_first_driver


def _follow_diagnosis(
    learned: list[tuple[float, float, RankedAction]], by_action: Mapping[str, Suggestion]
) -> list[tuple[float, float, RankedAction]]:
    """Learned actions (saved, sure, action), best first, the first driver's remedy on top.

    The remedy (the best-valued learned action answering the first driver) goes first when
    it saves at least what the best is sure to save (see the module docstring).
    """
    if not learned or _answers(learned[0][2].action, by_action):
        return learned
    best_sure = learned[0][1]
    for i, (saved, _, action) in enumerate(learned):
        if _answers(action.action, by_action) and saved >= best_sure:
            return [learned[i], *learned[:i], *learned[i + 1 :]]
    return learned


def contradicts(
    ranked: Sequence[RankedAction],
    suggestions: Sequence[Suggestion],
    effects: Mapping[str, ExpectedEffect] | None,
    arr: float | None,
    risk_tier: str | None = None,
    pain: bool = False,
) -> bool:
    """Whether the recommendation disagrees with the drivers shown.

    It does when the top action is learned and does not answer the first driver, while an
    action that answers it (a playbook rule on the first driver's family fired for it) has a
    learned value that pays (expected and pessimistic saved ARR net of cost above zero) and
    is within the top action's uncertainty: expected to save at least what the top is sure
    to save at the configured confidence (no growth ask at `NO_PITCH_TIERS`, as in `rank`).
    """
    if not ranked or ranked[0].basis != "learned" or effects is None or not _known(arr):
        return False
    effects = no_churn_credit(effects) or {}
    by_action = {s.action: s for s in suggestions}
    if _answers(ranked[0].action, by_action):
        return False
    top = effects.get(ranked[0].action)
    if top is None:
        return False
    best_sure = top.saved(float(arr), ranked[0].action in by_action)[1]  # type: ignore[arg-type]
    for action, found in effects.items():
        if not _answers(action, by_action) or found.basis != "learned" or not _known(found.effect):
            continue
        if action in GROWTH_ASKS and _no_growth(risk_tier, pain):
            continue
        saved, sure = found.saved(float(arr), suggested=True)  # type: ignore[arg-type]
        if saved > 0 and sure > 0 and saved >= best_sure:
            return True
    return False


def first_driver_note(
    ranked: Sequence[RankedAction], suggestions: Sequence[Suggestion]
) -> str | None:
    """Why the first action does not answer the first driver while a later one does, or None.

    `rank` puts an action whose learned value pays ahead of a playbook suggestion history
    cannot judge, and the first driver's remedy ahead of the top learned action only when it
    is expected to save what the top is sure to. Either way the CSM reads "a key user left"
    above "health check", so the account says which listed action answers that and why it
    is not first (eighth new-user audit: the remedy listed second, nothing said).
    """
    answering = {s.action for s in suggestions if s.answers_first_driver}
    if not ranked or not answering or ranked[0].action in answering:
        return None
    for place, found in enumerate(ranked[1:], start=2):
        if found.action not in answering:
            continue
        remedy, top = _words(found.action), _words(ranked[0].action)
        said = f"The first driver calls for {remedy} (listed {place})"
        if found.basis == "learned":
            return (
                f"{said}; {top} comes first because its learned value, even at the confidence"
                f" bound, is above what {remedy} is expected to save."
            )
        judged = f": {found.basis_reason}" if found.basis_reason else ""
        because = (
            "its effect, learned from the team's history, pays at the configured confidence"
            if ranked[0].basis == "learned"
            else "the playbook ranks it first"
        )
        return (
            f"{said}, which history cannot judge for this account yet{judged};"
            f" {top} comes first because {because}."
        )
    return None


def why_none(
    effects: Mapping[str, ExpectedEffect] | None,
    arr: float | None,
    suggestions: Sequence[Suggestion] = (),
    risk_tier: str | None = None,
    pain: bool = False,
) -> str:
    """Why `rank` recommends nothing for an account, in a CSM's words.

    Judged as `rank` judges: an action the playbook suggests for the account (`suggestions`)
    at its own bound (`playbook_confidence`), no growth ask at `NO_PITCH_TIERS` or in pain.
    """
    if effects is None:
        return "no uplift model is registered, and no playbook rule fired"
    if not _known(arr):
        return "the account's ARR is unknown, so no action can be valued"
    value = float(arr)  # type: ignore[arg-type]
    effects = no_churn_credit(effects) or {}
    suggested = {s.action for s in suggestions}
    judged = {a: e for a, e in effects.items() if e.basis == "learned" and _known(e.effect)}
    if not judged:
        cases = "history has too few comparable cases to judge any action for this account"
        if not suggestions:  # the playbook's silence is half the reason (eighth audit)
            return f"no playbook rule fits what this account shows, and {cases}"
        return cases
    valued = {
        action: found.saved(value, suggested=action in suggested)
        for action, found in judged.items()
        if not (action in GROWTH_ASKS and _no_growth(risk_tier, pain))
    }
    if not valued:
        why = (
            "the churn risk is too high to ask"
            if risk_tier in NO_PITCH_TIERS
            else "the account has a pain to mend first (a key user gone, urgent tickets open"
            " or first value overdue)"
        )
        return (
            "the only actions history can judge ask for growth (an upsell offer, a referral"
            f" or a reference programme), and {why}"
        )
    action = max(valued, key=lambda name: valued[name][0])
    saved, sure = valued[action]
    cost = effects[action].cost
    words = _words(action)
    stated = effects[action].stated(value)[1]
    if abs(stated - saved) >= 1:  # the ranking's figures, not history's: say so
        words += " (judged allowing for CSMs acting on accounts at more risk than the data shows)"
    if saved <= 0:
        return (
            f"no action is expected to pay: the best, {words}, would save"
            f" {money(saved + cost)} of ARR for a cost of {money(cost)}"
        )
    level = (
        "at the confidence asked of an action the playbook suggests"
        if action in suggested
        else "at the configured confidence"
    )
    worst = f"save only {money(sure)}" if sure >= 0 else f"lose {money(-sure)}"
    return (
        f"no action pays with enough confidence: {words} is expected to save {money(saved)}"
        f" net of its cost, but could {worst} {level}"
    )


def _number(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def per_account(
    effects: Mapping[str, Sequence[Any]], costs: Mapping[str, float] | None = None
) -> list[dict[str, ExpectedEffect]]:
    """Per-action arrays (effect, std, basis, reason) -> one {action: ExpectedEffect} per account.

    Args:
        effects: e.g. `UpliftModel.effects(X)`: action -> (effect, std, basis, reason
            [, pessimistic[, expansion[, pessimistic where suggested[, history]]]]) arrays.
        costs: action -> cost in ARR currency (missing = 0).
    """
    costs = costs or {}
    accounts: list[dict[str, ExpectedEffect]] = []
    for action, (effect, std, basis, reason, *rest) in effects.items():
        cost = float(costs.get(action, 0.0))
        bound = rest[0] if rest and rest[0] is not None else None
        gain = rest[1] if len(rest) > 1 and rest[1] is not None else None
        relaxed = rest[2] if len(rest) > 2 and rest[2] is not None else None
        history = rest[3] if len(rest) > 3 and rest[3] is not None else None
        if not accounts:
            accounts = [{} for _ in range(len(effect))]
        for i in range(len(effect)):
            accounts[i][action] = ExpectedEffect(
                _number(effect[i]),
                _number(std[i]),
                "learned" if str(basis[i]) == "learned" else "playbook",
                str(reason[i]),
                cost,
                None if bound is None else _number(bound[i]),
                None if gain is None else _number(gain[i]),
                None if relaxed is None else _number(relaxed[i]),
                None if history is None else _number(history[i]),
            )
    return accounts


def next_best_actions(
    effects: Mapping[str, Sequence[Any]],
    arr: Sequence[float] | np.ndarray,
    costs: Mapping[str, float],
    suggestions: Sequence[Sequence[Suggestion]] | None = None,
    risk_tiers: Sequence[str] | None = None,
    pains: Sequence[bool] | None = None,
) -> list[list[RankedAction]]:
    """`rank` for a batch of accounts: the ranked actions of each (empty means `none`).

    Args:
        effects: action -> (effect, std, basis, reason) arrays, aligned with `arr`.
        arr: each account's ARR.
        costs: action -> cost in ARR currency (missing = 0).
        suggestions: per account, the playbook's suggestions in its order.
        risk_tiers: per account, its churn risk tier (no growth ask at `NO_PITCH_TIERS`).
        pains: per account, whether it has a pain to mend first (`pain_flags`; no growth ask).
    """
    values = np.asarray(arr, dtype=float)
    found = per_account(effects, costs) or [{} for _ in range(len(values))]
    playbook = list(suggestions) if suggestions is not None else [[] for _ in range(len(values))]
    tiers = list(risk_tiers) if risk_tiers is not None else [None] * len(values)
    hurt = list(pains) if pains is not None else [False] * len(values)
    return [
        rank(playbook[i], found[i], float(values[i]), tiers[i], hurt[i]) for i in range(len(values))
    ]


def best_action(ranked: Sequence[RankedAction]) -> str:
    """The next-best-action: the top of a ranking, or `none`."""
    return ranked[0].action if ranked else NO_ACTION
