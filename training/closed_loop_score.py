"""The closed loop's figures: what each arm's months were worth and how well effects were learned.

`score_month` judges one month against the simulator's truth: the true saved ARR of the
actions done (each done action's true effect on the account's churn probability at the
month's start x the account's ARR; net of the action's cost) and the learned effects'
error for every running account (mean absolute error over all (account, action) pairs,
an effect the service does not know counted as 0; over learned pairs only; the share
learned; the mean per-action Spearman rank correlation; the error of the effects as history
alone shows them, before `selection_bias`; and the error of knowing nothing, every effect 0,
the mean absolute true effect). `LoopReport` holds every arm's
months (`training.closed_loop.run_closed_loop`) and writes them (`write_report`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from features.contract import ACTION_CODES

if TYPE_CHECKING:
    from training.closed_loop import LoopSettings

MIN_FOR_CORRELATION = 20  # learned accounts an action needs for its rank correlation


@dataclass(frozen=True)
class MonthResult:
    """One arm's month: what was planned and done, its true value, the learned effects' error."""

    arm: str
    month: datetime
    running: int
    lines: dict[str, int]
    done: int
    saved_arr: float
    saved_arr_net: float
    mae_pts: float
    mae_learned_pts: float
    learned_share: float
    rank_correlation: float
    average_error_pts: float = float("nan")
    mae_by_action: dict[str, float] = field(default_factory=dict)
    training_rows: int = 0
    # the same mean absolute error for the effects as stated (history alone shows them,
    # before `selection_bias`, a fixed prior, not learned, is taken out, pooled by diagnosed
    # cause: `training.uplift.stated`); NaN without `selection_bias`
    mae_history_pts: float = float("nan")
    # the error of knowing nothing (every effect 0): the mean absolute true effect
    zero_error_pts: float = float("nan")
    # what the learner saw each action fix by the next snapshot (`UpliftModel.fixes_`),
    # "action:cause rate" joined by "; "
    fixes: str = ""
    # the plan lines done this month (`line_claims`), net of cost: the saved ARR they were
    # chosen at, the one stated for them (history alone), and the truth's
    claimed_arr_net: float = float("nan")
    stated_arr_net: float = float("nan")
    lines_true_arr_net: float = float("nan")

    def row(self) -> dict[str, Any]:
        flat = {k: v for k, v in self.__dict__.items() if k not in ("lines", "mae_by_action")}
        flat.update(
            {f"lines_{arm}": self.lines.get(arm, 0) for arm in ("planned", "control", "random")}
        )
        flat.update({f"mae_pts_{a}": v for a, v in self.mae_by_action.items()})
        return flat


@dataclass
class ArmResult:
    """An arm's months, the ARR under contract when the loop ends, its store's counts."""

    arm: str
    months: list[MonthResult]
    final_arr: float = 0.0
    stored_touchpoints: int = 0
    stored_plans: int = 0

    @property
    def saved_arr(self) -> float:
        return float(sum(m.saved_arr for m in self.months))

    @property
    def saved_arr_net(self) -> float:
        return float(sum(m.saved_arr_net for m in self.months))

    def total(self, name: str) -> float:
        """A `MonthResult` figure summed over the months (NaN months left out)."""
        return float(np.nansum([getattr(m, name) for m in self.months]))


@dataclass
class LoopReport:
    """Every arm's result on the same world and seeds."""

    settings: LoopSettings
    arms: dict[str, ArmResult]
    seconds: float = 0.0

    def frame(self) -> pd.DataFrame:
        """One row per arm and month."""
        return pd.DataFrame([m.row() for a in self.arms.values() for m in a.months])

    def describe(self) -> str:
        s = self.settings
        world = "demo" if s.structure_seed is None else f"structure seed {s.structure_seed}"
        lines = [
            f"Closed loop: {s.accounts} accounts ({world}, data seed {s.seed}), {s.burn_in}"
            f" months of history, then {s.months} months; the team does a line with"
            f" probability {s.follow:.0%}{_deviations(s)}; {self.seconds / 60:.1f} min",
            "",
            "month by month (true saved ARR net of cost | effect error, mean abs pts over all"
            " (account, action) pairs, unknown = 0 | rank correlation):",
        ]
        frame = self.frame()
        if not frame.empty:
            wide = frame.pivot_table(
                index="month",
                columns="arm",
                values=["saved_arr_net", "mae_pts", "rank_correlation"],
            )
            lines.append(wide.round(3).to_string())
        lines.append("")
        lines.append("arm: true saved ARR (net of cost) | ARR under contract at the end | lines")
        base = self.arms.get("playbook")
        for name, arm in self.arms.items():
            counts = pd.DataFrame([m.lines for m in arm.months]).sum().to_dict()
            versus = ""
            if base is not None and name != "playbook" and base.saved_arr_net:
                versus = f" ({arm.saved_arr_net / base.saved_arr_net:.2f}x the playbook's)"
            lines.append(
                f"  {name}: {arm.saved_arr:,.0f} ({arm.saved_arr_net:,.0f}){versus} |"
                f" {arm.final_arr:,.0f} | {', '.join(f'{k} {int(v)}' for k, v in counts.items())}"
            )
        lines.append("")
        lines.append(
            "the plan lines done, net of cost: chosen at | stated at (history alone) | true"
        )
        for name, arm in self.arms.items():
            lines.append(
                f"  {name}: {arm.total('claimed_arr_net'):,.0f} |"
                f" {arm.total('stated_arr_net'):,.0f} | {arm.total('lines_true_arr_net'):,.0f}"
            )
        lines.append("")
        lines.append(
            "effect error, first 3 months -> last 3 months (mean abs pts; rank corr;"
            " error of each learned action's average effect, pts; mean abs pts of the"
            " effects as history alone shows them, before selection_bias; the error of"
            " knowing nothing, every effect 0):"
        )
        for name, arm in self.arms.items():
            first, last = arm.months[:3], arm.months[-3:]
            if first:
                lines.append(
                    f"  {name}: "
                    + "; ".join(
                        f"{_mean(first, f):{form}} -> {_mean(last, f):{form}}"
                        for f, form in (
                            ("mae_pts", ".2f"),
                            ("rank_correlation", "+.2f"),
                            ("average_error_pts", ".2f"),
                            ("mae_history_pts", ".2f"),
                            ("zero_error_pts", ".2f"),
                        )
                    )
                )
        return "\n".join(lines)


def _mean(months: Sequence[MonthResult], name: str) -> float:
    values = [getattr(m, name) for m in months]
    return float(np.nanmean(values)) if any(np.isfinite(values)) else float("nan")


def score_month(
    arm: str,
    month: datetime,
    scored: pd.DataFrame,
    effects: dict[str, Any],
    true_effects: pd.DataFrame,
    done: pd.DataFrame,
    costs: dict[str, float],
    history_effects: dict[str, Any] | None = None,
) -> MonthResult:
    """True value of what was done and the learned effects' error against the truth.

    `history_effects`: the same effects without `selection_bias` (`mae_history_pts`).
    """
    truth = true_effects.pivot_table(index="account_id", columns="action", values="effect")
    truth = truth.reindex(columns=list(ACTION_CODES))
    arr = scored.set_index(scored["account_id"].astype(str))["arr"].astype(float)
    saved = net = 0.0
    for account, action in zip(
        done["account_id"].astype(str), done["type"].astype(str), strict=True
    ):
        known = account in truth.index and account in arr.index
        effect = float(truth.at[account, action]) if known else np.nan  # type: ignore[arg-type]
        value = float(arr[account]) if known else np.nan
        if np.isfinite(effect) and np.isfinite(value):
            saved += -effect * value
            net += -effect * value - costs.get(action, 0.0)
    rows = truth.reindex(scored["account_id"].astype(str)).to_numpy(dtype=float)
    has_truth = np.isfinite(rows)
    learned = _learned(effects, len(scored))
    is_learned = np.isfinite(learned) & has_truth
    error = np.abs(np.where(is_learned, learned, 0.0) - rows)
    history = float("nan")
    if history_effects is not None and has_truth.any():
        alone = _learned(history_effects, len(scored))
        history = float(np.abs(np.where(np.isfinite(alone), alone, 0.0) - rows)[has_truth].mean())
    by_action = {
        a: float(np.nanmean(np.where(has_truth[:, j], error[:, j], np.nan))) * 100
        for j, a in enumerate(ACTION_CODES)
        if has_truth[:, j].any()
    }
    correlations, averages = [], []
    for j in range(len(ACTION_CODES)):
        ok = is_learned[:, j]
        if ok.sum() >= MIN_FOR_CORRELATION:  # the action's average effect where it is learned
            averages.append(abs(float(learned[ok, j].mean() - rows[ok, j].mean())) * 100)
        if (
            ok.sum() >= MIN_FOR_CORRELATION
            and np.std(learned[ok, j]) > 0
            and np.std(rows[ok, j]) > 0
        ):
            correlations.append(float(spearmanr(learned[ok, j], rows[ok, j]).statistic))
    return MonthResult(
        arm=arm,
        month=month,
        running=len(truth),
        lines={},
        done=len(done),
        saved_arr=saved,
        saved_arr_net=net,
        mae_pts=float(error[has_truth].mean() * 100) if has_truth.any() else float("nan"),
        mae_learned_pts=float(error[is_learned].mean() * 100) if is_learned.any() else float("nan"),
        learned_share=float(is_learned.sum() / max(has_truth.sum(), 1)),
        rank_correlation=float(np.mean(correlations)) if correlations else float("nan"),
        average_error_pts=float(np.mean(averages)) if averages else float("nan"),
        mae_by_action=by_action,
        mae_history_pts=history * 100,
        zero_error_pts=float(np.abs(rows[has_truth]).mean() * 100) if has_truth.any() else np.nan,
    )


def line_claims(
    lines: pd.DataFrame,
    done: pd.DataFrame,
    true_effects: pd.DataFrame,
    arr: pd.Series,
    costs: dict[str, float],
) -> tuple[float, float, float]:
    """(chosen at, stated at, true) saved ARR net of cost of the plan lines that were done.

    `lines`: the month's plan (`saved_arr`, `expected_saved_arr`, `arm`); `done`: the
    touchpoints lived (`account_id`, `type`); `true_effects`: the simulator's (`account_id`,
    `action`, `effect`); `arr` by account id. Controls are never done, so never counted.
    """
    doing = lines[lines["arm"] != "control"].assign(
        account_id=lambda f: f["account_id"].astype(str)
    )
    pairs = done[["account_id", "type"]].astype(str).drop_duplicates()
    pairs = pairs.rename(columns={"type": "action"})
    hit = doing.merge(pairs, on=["account_id", "action"])
    truth = true_effects.assign(account_id=true_effects["account_id"].astype(str))
    hit = hit.merge(
        truth[["account_id", "action", "effect"]], on=["account_id", "action"], how="left"
    )
    value = hit["account_id"].map(arr).astype(float)
    cost = hit["action"].map(lambda a: costs.get(a, 0.0)).astype(float)
    true = float((-hit["effect"].astype(float) * value - cost).sum())
    return float(hit["saved_arr"].sum()), float(hit["expected_saved_arr"].sum()), true


def _learned(effects: dict[str, Any], n: int) -> np.ndarray:
    """(accounts, actions) learned effect per pair, NaN where the service did not learn it."""
    return np.column_stack(
        [
            np.where(
                np.asarray(effects[a].basis) == "learned",
                np.asarray(effects[a].effect, dtype=float),
                np.nan,
            )
            if a in effects
            else np.full(n, np.nan)
            for a in ACTION_CODES
        ]
    )


def write_report(report: LoopReport, folder: Path) -> list[Path]:
    """`months.csv` (one row per arm and month) and `report.txt` (the summary) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    months, text = folder / "months.csv", folder / "report.txt"
    report.frame().to_csv(months, index=False)
    text.write_text(report.describe() + "\n")
    return [months, text]


def _deviations(s: LoopSettings) -> str:
    """How the simulated team strays from the plan for reasons the data does not show."""
    words = []
    if s.sense:
        words.append(f", more often where it senses risk the data does not show (x{s.sense:g})")
    if s.own_team:
        words.append(f"; the world's own team also acts where the plan does not ({s.own_team:.0%})")
    return "".join(words)
