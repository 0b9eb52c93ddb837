"""The causal structure of a simulated world, drawn from a structure seed apart from the data.

A `Structure` says which causes drive churn and how strongly (`ChurnCauses`), what each CS
action does (`ActionMechanism`: which causes it removes from the account's state, how it
shifts the term's churn log-odds, per cause and for healthy or unhealthy accounts, and how
that shift scales with account size), how the CS team picks whom to contact and what to do
(`CsBias`), and the account mix (`AccountMix`: shares of small, mid-market and enterprise
accounts and their seat ranges, so the ARR distribution).

`structure_for(None)` is `TODAY`, the one structure the simulator always had (the demo
world): every number below is today's, so the data and truth do not move. `structure_for(k)`
draws a world of the same family from seed `k` alone (`draw_structure`): in some the shipped
playbook's mapping of symptom to action is right, in others a cause has another remedy or
none, an action does nothing, or an upsell pitch hurts unhappy accounts more.

Causes (`CAUSES`) are named for the state they read (`cause_level`):

* `key_gone` (no key user), `no_first_value` (first value overdue), `storm` (ticket storm),
  `adoption_gap` (fewer than four modules adopted), `kpi_shortfall` and `kpi_miss` (the
  customer's KPI below target), `support_scar` (the lasting mark of past storms), and
  `disengaged` (engagement below the 0.75 reference; negative above it).

Readers (issue 18, explanations by signal family) can take `Structure.contributions(state)`
(each cause's share of the churn log-odds) and `Structure.remedies()` (cause -> actions that
remove or offset it) as the world's truth about causes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from features.contract import ACTION_CODES

if TYPE_CHECKING:
    from simulator.risk import RiskState

CAUSES: tuple[str, ...] = (
    "key_gone",
    "adoption_gap",
    "kpi_shortfall",
    "kpi_miss",
    "no_first_value",
    "storm",
    "support_scar",
    "disengaged",
)
STATE_FIXES: tuple[str, ...] = ("no_first_value", "adoption_gap", "key_gone", "storm")
SIZES: tuple[str, ...] = ("small", "mid_market", "enterprise")
STRUCTURE_STREAM = 9_101  # second word of the structure generator's seed


def cause_level(state: RiskState, cause: str) -> np.ndarray:
    """How much of `cause` the accounts of `state` show (0 = none; 1 = fully, for flags)."""
    if cause == "adoption_gap":
        return np.maximum(0.0, 4.0 - state.modules) / 3.0
    if cause == "disengaged":
        return -(state.engagement - 0.75)
    if cause not in CAUSES:
        raise ValueError(f"unknown cause {cause!r}")
    return np.asarray(getattr(state, cause), dtype=float)


@dataclass(frozen=True)
class ChurnCauses:
    """Weights of the churn log-odds: `base + sum(weight[c] * cause_level(c))`."""

    base: float = -2.9
    key_gone: float = 1.8
    adoption_gap: float = 1.3
    kpi_shortfall: float = 3.0
    kpi_miss: float = 0.7
    no_first_value: float = 1.5
    storm: float = 1.0
    support_scar: float = 1.0
    disengaged: float = 1.5

    def weight(self, cause: str) -> float:
        return float(getattr(self, cause))


@dataclass(frozen=True)
class ActionMechanism:
    """What one CS action does to an account.

    Attributes:
        fixes: causes the action removes from the state (`STATE_FIXES`): first value
            reached, modules adopted, a key user named, a storm ended.
        modules_added: modules adopted when it fixes `adoption_gap`, (focused, distracted by
            a missing key user or a storm).
        scar_kept: share of the support scar left when it ends a storm.
        shift_healthy: change of the term's churn log-odds for a healthy account.
        shift_unhealthy: the same for an account with something visibly wrong.
        shift_per_cause: (cause, change of log-odds per unit of `cause_level`) pairs.
        size_factor: the shifts are multiplied by this, per account size (small, mid, ent).
    """

    fixes: tuple[str, ...] = ()
    modules_added: tuple[float, float] = (2.0, 1.0)
    scar_kept: float = 0.5
    shift_healthy: float = 0.0
    shift_unhealthy: float = 0.0
    shift_per_cause: tuple[tuple[str, float], ...] = ()
    size_factor: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @property
    def shifts(self) -> bool:
        """Whether the action moves the log-odds at all (beyond its state fixes)."""
        return bool(self.shift_healthy or self.shift_unhealthy or self.shift_per_cause)


@dataclass(frozen=True)
class CsBias:
    """How the CS team chooses (`simulator.cs_team.choose_actions`).

    Attributes:
        attention: weights of what CSMs see, (key user gone, KPI missed, storm, first value
            overdue, quiet usage, detractor NPS), in their perceived risk.
        noise: spread of the perceived risk's noise.
        base, slope: a touchpoint happens with chance sigmoid(base + slope x perceived +
            CSM activity + size_bias[size]).
        size_bias: preference for contacting small, mid-market, enterprise accounts.
        fit: how strongly the action follows the visible problem (1 = today's team; 0 =
            generic calls regardless of the problem).
        generic: weight of the routine health check.
        upsell_push: weight of an upsell pitch regardless of health.
    """

    attention: tuple[float, float, float, float, float, float] = (0.8, 0.8, 1.0, 0.7, 1.0, 0.5)
    noise: float = 0.7
    base: float = -2.4
    slope: float = 1.1
    size_bias: tuple[float, float, float] = (0.0, 0.0, 0.0)
    fit: float = 1.0
    generic: float = 3.0
    upsell_push: float = 0.6


@dataclass(frozen=True)
class AccountMix:
    """Shares of small, mid-market and enterprise accounts and their seat ranges [lo, hi)."""

    size_shares: tuple[float, float, float] = (0.6, 0.3, 0.1)
    seat_lo: tuple[int, int, int] = (5, 15, 50)
    seat_hi: tuple[int, int, int] = (16, 60, 151)


def _today_actions() -> tuple[tuple[str, ActionMechanism], ...]:
    """The mechanisms of the demo world (what `risk.apply_action` always did)."""
    m = ActionMechanism
    return (
        ("onboarding_push", m(fixes=("no_first_value",))),
        ("training", m(fixes=("adoption_gap",))),
        ("key_user_replacement", m(fixes=("key_gone",))),
        ("business_review", m(shift_healthy=-0.1, shift_unhealthy=-0.1,
                              shift_per_cause=(("kpi_miss", -0.9),))),
        ("exec_sponsor_call", m(shift_healthy=-0.35, shift_unhealthy=-0.35)),
        ("support_escalation", m(fixes=("storm",))),
        ("health_check", m(shift_healthy=-0.1, shift_unhealthy=-0.1)),
        ("upsell_offer", m(shift_healthy=-0.03, shift_unhealthy=0.7)),
        ("referral_invite", m(shift_unhealthy=0.15)),
        ("benchmark_program", m(shift_unhealthy=0.15)),
    )  # fmt: skip


@dataclass(frozen=True)
class Structure:
    """One world's causal structure (see the module docstring); `Structure()` is `TODAY`."""

    seed: int | None = None
    churn: ChurnCauses = field(default_factory=ChurnCauses)
    actions: tuple[tuple[str, ActionMechanism], ...] = field(default_factory=_today_actions)
    cs: CsBias = field(default_factory=CsBias)
    mix: AccountMix = field(default_factory=AccountMix)
    upsell_offer_boost: float = 1.5

    def action(self, code: str) -> ActionMechanism:
        """The mechanism of action `code`."""
        for name, mechanism in self.actions:
            if name == code:
                return mechanism
        raise ValueError(f"unknown action {code!r}")

    def contributions(self, state: RiskState) -> dict[str, np.ndarray]:
        """Each cause's term of the churn log-odds for the accounts of `state`."""
        return {c: self.churn.weight(c) * cause_level(state, c) for c in CAUSES}

    def remedies(self) -> dict[str, tuple[str, ...]]:
        """Cause -> the actions that remove it or offset it (a per-cause shift below zero)."""
        out: dict[str, list[str]] = {c: [] for c in CAUSES}
        for code, mechanism in self.actions:
            for cause in mechanism.fixes:
                out[cause].append(code)
            for cause, amount in mechanism.shift_per_cause:
                if amount < 0 and code not in out[cause]:
                    out[cause].append(code)
        return {c: tuple(codes) for c, codes in out.items()}

    def table(self) -> dict[str, dict[str, object]]:
        """A plain description (for logs and the protocol's report)."""
        return {
            "churn": {f.name: getattr(self.churn, f.name) for f in fields(self.churn)},
            "actions": {code: vars_of(m) for code, m in self.actions},
            "cs": vars_of(self.cs),
            "mix": vars_of(self.mix),
            "remedies": dict(self.remedies()),
        }


def vars_of(obj: object) -> dict[str, object]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}  # type: ignore[arg-type]


TODAY = Structure()
NATURAL_FIX = {
    "no_first_value": "onboarding_push",
    "adoption_gap": "training",
    "key_gone": "key_user_replacement",
    "storm": "support_escalation",
}
SERVICE_ACTIONS = (
    "onboarding_push",
    "training",
    "key_user_replacement",
    "business_review",
    "exec_sponsor_call",
    "support_escalation",
    "health_check",
)


def draw_structure(seed: int) -> Structure:
    """A world of the simulator's family, drawn from `seed` alone (see the module docstring)."""
    rng = np.random.default_rng([seed, STRUCTURE_STREAM])

    def scale(sd: float) -> float:
        return float(np.exp(rng.normal(0.0, sd)))

    today = TODAY.churn
    weights = {
        f.name: getattr(today, f.name) * scale(0.45) * (0.15 if rng.random() < 0.2 else 1.0)
        for f in fields(today)
        if f.name != "base"
    }
    churn = ChurnCauses(base=today.base + float(rng.normal(0.0, 0.3)), **weights)

    fixes: dict[str, list[str]] = {code: [] for code in ACTION_CODES}
    for cause, natural in NATURAL_FIX.items():
        u = rng.random()
        if u < 0.6:
            fixes[natural].append(cause)
        elif u < 0.85:
            others = [a for a in SERVICE_ACTIONS if a != natural]
            fixes[str(rng.choice(others))].append(cause)
    per_cause: dict[str, list[tuple[str, float]]] = {code: [] for code in ACTION_CODES}
    first = "business_review" if rng.random() < 0.6 else str(rng.choice(SERVICE_ACTIONS))
    per_cause[first].append(("kpi_miss", -float(rng.uniform(0.3, 1.5))))
    for cause in ("key_gone", "storm", "no_first_value", "adoption_gap", "disengaged"):
        if rng.random() < 0.35:
            helper = str(rng.choice(SERVICE_ACTIONS))
            per_cause[helper].append((cause, -float(rng.uniform(0.2, 1.0))))

    actions = []
    for code in ACTION_CODES:
        healthy = unhealthy = 0.0
        if code in ("business_review", "exec_sponsor_call", "health_check"):
            base = 0.0 if rng.random() < 0.4 else -float(rng.uniform(0.02, 0.4))
            healthy = unhealthy = base
        elif code == "upsell_offer":
            healthy = -float(rng.uniform(0.0, 0.1))
            unhealthy = float(rng.uniform(0.3, 1.2))
        elif code in ("referral_invite", "benchmark_program"):
            unhealthy = float(rng.uniform(0.0, 0.3))
        slope = float(rng.normal(0.0, 0.4))
        focused = float(rng.integers(1, 4))
        actions.append(
            (
                code,
                ActionMechanism(
                    fixes=tuple(fixes[code]),
                    modules_added=(focused, float(rng.integers(0, int(focused) + 1))),
                    scar_kept=float(rng.uniform(0.2, 1.0)),
                    shift_healthy=healthy,
                    shift_unhealthy=unhealthy,
                    shift_per_cause=tuple(per_cause[code]),
                    size_factor=(float(np.exp(-slope)), 1.0, float(np.exp(slope))),
                ),
            )
        )

    attention = tuple(a * scale(0.5) for a in TODAY.cs.attention)
    cs = CsBias(
        attention=attention,  # type: ignore[arg-type]
        noise=float(rng.uniform(0.4, 1.1)),
        base=TODAY.cs.base + float(rng.normal(0.0, 0.3)),
        slope=TODAY.cs.slope * scale(0.3),
        size_bias=(
            float(rng.normal(-0.2, 0.3)),
            float(rng.normal(0.0, 0.3)),
            float(rng.uniform(0.0, 0.8)),
        ),
        fit=float(rng.uniform(0.2, 2.0)),
        generic=float(rng.uniform(1.0, 5.0)),
        upsell_push=float(rng.uniform(0.2, 1.5)),
    )
    small = float(rng.uniform(0.45, 0.8))
    enterprise = float(rng.uniform(0.05, 0.15))
    small_lo = int(rng.integers(2, 6))
    mix = AccountMix(
        size_shares=(small, 1.0 - small - enterprise, enterprise),
        seat_lo=(small_lo, 15, 50),
        seat_hi=(small_lo + int(rng.integers(5, 12)), 60, 151),
    )
    return Structure(
        seed=seed,
        churn=churn,
        actions=tuple(actions),
        cs=cs,
        mix=mix,
        upsell_offer_boost=float(rng.uniform(0.5, 2.0)),
    )


def structure_for(seed: int | None) -> Structure:
    """`TODAY` for None, else the structure drawn from `seed`."""
    return TODAY if seed is None else draw_structure(seed)


STRUCTURE_FILE = "structure.json"  # in a written world's `_truth/`: which structure made it


def write_structure(truth_dir: Path, seed: int | None) -> None:
    """Record in `truth_dir` the structure seed the world was drawn from (null: `TODAY`)."""
    (truth_dir / STRUCTURE_FILE).write_text(json.dumps({"structure_seed": seed}) + "\n")


def read_structure(truth_dir: Path) -> Structure | None:
    """The structure a written world was drawn from; None when `truth_dir` does not say.

    Worlds written before the structure was recorded were all drawn from `TODAY`.
    """
    path = truth_dir / STRUCTURE_FILE
    if not path.is_file():
        return TODAY if truth_dir.is_dir() else None
    return structure_for(json.loads(path.read_text())["structure_seed"])
