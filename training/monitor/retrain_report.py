"""The one-page report of `make retrain`, for a CS-ops reader: Markdown with its plots.

What changed in the accounts since the champion was trained, whether the new model was
promoted and why, how past scores held up against the renewals since, and what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from training.monitor.report import MonitorReport

TOP_FEATURES = 8


def decision_lines(decisions: Mapping[str, Any], skipped: Mapping[str, str]) -> list[str]:
    """One sentence per model: promoted or kept, with both scores."""
    lines = []
    for target, decision in decisions.items():
        if decision is None:
            lines.append(f"- **{target}**: trained but not registered.")
            continue
        if decision.champion_version is None:
            lines.append(
                f"- **{target}**: v{decision.version} is the first {target} model: now in use."
            )
        elif decision.promoted:
            lines.append(
                f"- **{target}**: **new model v{decision.version} promoted**: it beat"
                f" v{decision.champion_version} on the latest months' renewals"
                f" ({decision.metric} {decision.challenger_score:.3f} vs"
                f" {decision.champion_score:.3f}, same accounts)."
            )
        else:
            lines.append(
                f"- **{target}**: **kept v{decision.champion_version}**: the new candidate"
                f" v{decision.version} did not beat it ({decision.metric}"
                f" {decision.challenger_score:.3f} vs {decision.champion_score:.3f}, same"
                " accounts), so nothing changes for the CS team."
            )
    lines += [f"- **{target}**: not trained: {reason}" for target, reason in skipped.items()]
    return lines


def _feature_table(report: MonitorReport) -> list[str]:
    from features.definitions import FEATURE_NAMES, feature

    flagged = {a.subject for a in report.alarms if a.kind in ("feature", "missing")}
    rows = [
        "| signal | shift (PSI) | usual swing | unknown then -> now | alarm |",
        "|---|---|---|---|---|",
    ]
    for row in report.features.head(TOP_FEATURES).to_dict("records"):
        name = str(row["feature"])
        what = feature(name).description if name in FEATURE_NAMES else name
        rows.append(
            f"| {what} (`{name}`) | {row['psi']:.2f} | {row['natural_psi']:.2f} |"
            f" {row['missing_then']:.0%} -> {row['missing_now']:.0%} |"
            f" {'**yes**' if name in flagged else ''} |"
        )
    return rows


def write_retrain_report(
    path: Path,
    report: MonitorReport,
    decisions: Mapping[str, Any],
    skipped: Mapping[str, str],
    figures: Mapping[str, Any],
    replaced_by: MonitorReport | None = None,
    learned_until: datetime | None = None,
) -> Path:
    """Write the Markdown page to `path` and its plots beside it; returns `path`.

    `report` judges the churn model that served this month; when the retrain replaced it,
    `replaced_by` is the new champion's monitor run (what remains after retraining) and
    `learned_until` the latest account snapshot the new churn model learned from.
    """
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    images = []
    for name, figure in figures.items():
        image = path.with_name(f"{path.stem}-{name}")
        figure.savefig(image, dpi=90, bbox_inches="tight")
        plt.close(figure)
        images.append(image.name)
    verdict = (
        f"**{len(report.alarms)} alarm(s)** on the churn model in use (v{report.champion}):"
        " see below."
        if report.alarms
        else "**No alarm**: the accounts and the scores look like what the model learned from."
    )
    if replaced_by is not None:
        left = len(replaced_by.alarms)
        verdict += (
            f" The retrain replaced it with v{replaced_by.champion}, trained on today's"
            f" accounts: {left} alarm(s) remain"
            + (": " + "; ".join(a.message for a in replaced_by.alarms) if left else "")
            + "."
            + _after_tracking_change(report, replaced_by, learned_until)
        )
    lines = [
        f"# Monthly model check, as of {report.as_of:%Y-%m-%d}",
        "",
        verdict,
        *[line for warning in report.warnings for line in ("", warning)],
        "",
        "## Was a new model put in use?",
        *decision_lines(decisions, skipped),
        "",
        f"The churn model now in use is"
        f" v{(replaced_by or report).champion}; it scores {report.accounts} active accounts.",
        "",
        "## Alarms",
        *([f"- {a.message}" for a in report.alarms] or ["- None."]),
        *[line for sentence in report.diagnosis for line in ("", f"**Diagnosis**: {sentence}")],
        *([""] + [f"Note: {note}" for note in report.notes] if report.notes else []),
        "",
        f"## What changed in the accounts since v{report.champion} was trained",
    ]
    if report.features.empty:
        lines.append("Not measured: " + "; ".join(report.notes))
    else:
        lines += [
            "PSI compares today's accounts with those at training: below 0.1 stable, above"
            " 0.25 shifted; the usual swing is how much the signal moved month to month then.",
            "",
            *_feature_table(report),
        ]
    if report.score:
        lines += [
            "",
            f"Average churn risk: {report.score['mean_then']:.1%} at training,"
            f" {report.score['mean_now']:.1%} now.",
        ]
    if report.tier_mix:
        lines.append(
            "Risk tiers (share of accounts, training -> now): "
            + ", ".join(f"{t} {a:.0%} -> {b:.0%}" for t, (a, b) in report.tier_mix.items())
            + "."
        )
    lines += ["", "## How past scores held up against the renewals since"]
    if report.outcomes.empty:
        lines.append(
            "Nothing to judge yet: no logged score made at the data's end has reached its renewal."
        )
    else:
        lines += [
            "| model | scores judged | churned | predicted | ROC-AUC | deciles off |"
            " churned ARR in riskiest 10% |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in report.outcomes.to_dict("records"):
            lines.append(
                f"| v{row['version']} | {row['matured']} | {row['churn_rate']:.1%} |"
                f" {row['predicted_rate']:.1%} | {row['roc_auc']:.3f} |"
                f" {row['miscalibrated_deciles']} | {row['arr_caught_top10']:.0%} |"
            )
    lines += ["", *[f"![{name}]({name})" for name in images], "", "## What to do"]
    lines += _next_steps(report)
    path.write_text("\n".join(lines) + "\n")
    return path


def _after_tracking_change(
    report: MonitorReport, replaced_by: MonitorReport, learned_until: datetime | None
) -> str:
    """What the alarms left after a retrain mean when events are logged differently since.

    The new champion's reference is taken at today's date, so today's counts are its
    normal: its alarms go quiet whatever the model learned from.
    """
    change = report.tracking
    if change is None:
        return ""
    said = (
        f" Fewer alarms do not mean the signals read as before: v{replaced_by.champion} is"
        " compared with the months up to today, new counts included, and the diagnosis below"
        " still stands."
    )
    if learned_until is None:
        return said
    months = (
        "all of them before the change"
        if learned_until <= change.since
        else f"of which only those after {change.since:%Y-%m-%d} carry the new counts"
    )
    return (
        f"{said} v{replaced_by.champion} learned from account snapshots up to"
        f" {learned_until:%Y-%m-%d} (the latest whose renewals are known), {months}."
    )


def _next_steps(report: MonitorReport) -> list[str]:
    kinds = {a.kind for a in report.alarms}
    steps = []
    if report.tracking is not None:
        steps.append(
            "- Events look logged differently since"
            f" {report.tracking.since:%Y-%m-%d} (see the diagnosis): ask who owns the"
            " product's tracking before reading usage-based risk and reasons, and before"
            " trusting a retrain."
        )
    if "missing" in kinds:
        steps.append("- A signal went missing: check that every export (tables) still arrives.")
    if "feature" in kinds:
        steps.append(
            "- A signal shifted: if a product release, a price change or a new kind of customer"
            " explains it, the next retrain learns it; if not, check the export of that signal."
        )
    if "outcome" in kinds:
        steps.append(
            "- Past scores missed what happened: treat today's risk scores with care and ask"
            " the data team to look at the model before the next retrain."
        )
    if kinds & {"score", "tier"}:
        steps.append("- The risk mix moved: expect more (or fewer) accounts on the CSMs' lists.")
    return steps or ["- Nothing: the next check runs next month."]
