"""Compare the models with the simulator's ground truth, when `_truth/` sits beside the data.

The simulator knows each account's true churn and upsell probability at every
snapshot. Scoring those true probabilities on the same test rows gives the best
ROC-AUC any model could expect; the trained model should come close to it.

It also knows each account's dominant cause (`_truth/causes.parquet`): the drivers the
service shows for at-risk accounts are checked against it, by signal family
(`explanations_against_causes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from training.evaluate import expected_calibration_error


def truth_file(data: str | Path) -> Path | None:
    """`<data>/_truth/churn.parquet` when `data` is a directory that has one."""
    path = Path(str(data)) / "_truth" / "churn.parquet"
    return path if path.is_file() else None


def compare_with_truth(
    truth: pd.DataFrame, test: pd.DataFrame, probability: np.ndarray, target: str
) -> dict[str, float]:
    """ROC-AUC of the model and of the true probabilities on the same test rows.

    Args:
        truth: `account_id`, `as_of`, `<target>_probability` from the simulator.
        test: test rows (`account_id`, `as_of`, label `target`).
        probability: the model's probabilities for `test`, in the same order.
        target: `churn` or `upsell`.

    Returns:
        rows compared, model_roc_auc, truth_roc_auc, gap (truth minus model), and the
        model's calibration error and mean true probability on those rows.
    """
    column = f"{target}_probability"
    rows = test[["account_id", "as_of", target]].copy()
    rows["as_of"] = pd.to_datetime(rows["as_of"])
    rows["model"] = np.asarray(probability, dtype=float)
    reference = truth[["account_id", "as_of", column]].copy()
    reference["account_id"] = reference["account_id"].astype(str)
    reference["as_of"] = pd.to_datetime(reference["as_of"])
    joined = rows.merge(reference, on=["account_id", "as_of"], how="inner")
    if joined.empty or joined[target].nunique() < 2:
        return {"rows": float(len(joined))}
    model_auc = float(roc_auc_score(joined[target], joined["model"]))
    truth_auc = float(roc_auc_score(joined[target], joined[column]))
    return {
        "rows": float(len(joined)),
        "model_roc_auc": model_auc,
        "truth_roc_auc": truth_auc,
        "gap": truth_auc - model_auc,
        "model_ece": expected_calibration_error(joined[target], joined["model"]),
        "truth_ece": expected_calibration_error(joined[target], joined[column]),
    }


def describe(target: str, comparison: dict[str, float]) -> str:
    """One line a reader understands."""
    if "truth_roc_auc" not in comparison:
        return f"{target}: no test rows matched the simulator's ground truth"
    causes = "".join("\n  " + line for line in describe_causes(comparison))
    return (
        f"{target}: model ROC-AUC {comparison['model_roc_auc']:.3f} vs the true probabilities'"
        f" {comparison['truth_roc_auc']:.3f} on the same {int(comparison['rows'])} test rows"
        f" (gap {comparison['gap']:+.3f}); calibration error {comparison['model_ece']:.3f}"
    ) + causes


def causes_file(data: str | Path) -> Path | None:
    """`<data>/_truth/causes.parquet` when `data` is a simulated world that has one."""
    path = Path(str(data)) / "_truth" / "causes.parquet"
    return path if path.is_file() else None


def cause_agreement(
    causes: pd.DataFrame, rows: pd.DataFrame, shown: Sequence[Sequence[str]]
) -> dict[str, float]:
    """How often the drivers shown name the family of the account's true dominant cause.

    Args:
        causes: `_truth/causes.parquet` (`account_id`, `as_of`, `dominant_cause`).
        rows: The at-risk snapshots explained (`account_id`, `as_of`).
        shown: Per row of `rows`, the families of its risk-raising drivers, first first.

    Returns:
        cause_rows (at-risk snapshots with a known cause), cause_first_driver (share whose
        first driver is in the cause's family), cause_first_three (any of the first
        three), and the same per cause (`cause_first_driver_<cause>`, ...).
    """
    from simulator.causes import CAUSE_FAMILY, NONE

    explained = rows[["account_id", "as_of"]].copy()
    explained["account_id"] = explained["account_id"].astype(str)
    explained["as_of"] = pd.to_datetime(explained["as_of"])
    explained["shown"] = [list(families) for families in shown]
    truth = causes[["account_id", "as_of", "dominant_cause"]].copy()
    truth["account_id"] = truth["account_id"].astype(str)
    truth["as_of"] = pd.to_datetime(truth["as_of"])
    joined = explained.merge(truth, on=["account_id", "as_of"], how="inner")
    joined = joined[joined["dominant_cause"] != NONE]
    family = joined["dominant_cause"].map(CAUSE_FAMILY)
    first = np.array([f in s[:1] for f, s in zip(family, joined["shown"], strict=True)], bool)
    three = np.array([f in s[:3] for f, s in zip(family, joined["shown"], strict=True)], bool)
    result = {"cause_rows": float(len(joined))}
    if len(joined):
        result.update(cause_first_driver=float(first.mean()), cause_first_three=float(three.mean()))
    for cause in sorted(set(joined["dominant_cause"])):
        mine = (joined["dominant_cause"] == cause).to_numpy()
        result[f"cause_rows_{cause}"] = float(mine.sum())
        result[f"cause_first_driver_{cause}"] = float(first[mine].mean())
        result[f"cause_first_three_{cause}"] = float(three[mine].mean())
    return result


def explanations_against_causes(
    data: str | Path, model: Any, test: pd.DataFrame, probability: np.ndarray
) -> dict[str, float]:
    """`cause_agreement` of the drivers the service shows, on the test period's at-risk rows.

    At risk is the model's high and medium tiers; the drivers are read exactly as serving
    reads them (`training.families.read_batch` with the model's cause reader). Empty when
    `data` has no `_truth/causes.parquet`.
    """
    path = causes_file(data)
    if path is None:
        return {}
    from features.definitions import FEATURES
    from training.families import first_families, read_batch

    catalogue = {f.name: f for f in FEATURES}
    names = [f.name for f in FEATURES if f.name in test.columns]
    at_risk = np.isin(model.tier(np.asarray(probability, dtype=float)), ("high", "medium"))
    rows = test.loc[at_risk]
    if rows.empty:
        return {"cause_rows": 0.0}
    missing = set(getattr(model, "missing_families", []))
    readings = read_batch(
        names,
        rows[names].to_numpy(dtype=float),
        model.feature_names,
        model.contributions(rows),
        model.family_reference or model.healthy_reference,
        catalogue,
        model.cause_reader,
        hidden={name for name in names if catalogue[name].family in missing},
        bands=model.healthy_band,
    )
    found = cause_agreement(pd.read_parquet(path), rows, [first_families(r) for r in readings])
    checks = getattr(model.cause_reader, "checks", None) or {}
    for key in ("worlds", "first_driver_mean", "first_driver_worst", "first_three_mean"):
        if key in checks:  # what the shipped reader reached on untouched structure seeds
            found[f"cause_reader_untouched_{key}"] = float(checks[key])
    return found


def describe_causes(comparison: dict[str, float]) -> list[str]:
    """Lines saying how often the first driver names the true cause's family."""
    if not comparison.get("cause_rows"):
        return []
    from simulator.causes import CAUSE_LABEL

    lines = [
        f"drivers vs the true cause on {int(comparison['cause_rows'])} at-risk test snapshots:"
        f" first driver in the cause's family {comparison['cause_first_driver']:.0%},"
        f" any of the first three {comparison['cause_first_three']:.0%}"
    ]
    if "cause_reader_untouched_first_driver_mean" in comparison:
        lines.append(
            f"  (the cause reader, on {int(comparison['cause_reader_untouched_worlds'])}"
            " untouched structure seeds when last checked: first driver"
            f" {comparison['cause_reader_untouched_first_driver_mean']:.0%}, worst world"
            f" {comparison['cause_reader_untouched_first_driver_worst']:.0%}; first three"
            f" {comparison['cause_reader_untouched_first_three_mean']:.0%})"
        )
    for cause, label in CAUSE_LABEL.items():
        if f"cause_rows_{cause}" in comparison:
            lines.append(
                f"  {label}: {int(comparison[f'cause_rows_{cause}'])} snapshots,"
                f" first {comparison[f'cause_first_driver_{cause}']:.0%},"
                f" first three {comparison[f'cause_first_three_{cause}']:.0%}"
            )
    return lines
