"""Compare the models with the simulator's ground truth, when `_truth/` sits beside the data.

The simulator knows each account's true churn and upsell probability at every
snapshot. Scoring those true probabilities on the same test rows gives the best
ROC-AUC any model could expect; the trained model should come close to it.
"""

from __future__ import annotations

from pathlib import Path

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
    return (
        f"{target}: model ROC-AUC {comparison['model_roc_auc']:.3f} vs the true probabilities'"
        f" {comparison['truth_roc_auc']:.3f} on the same {int(comparison['rows'])} test rows"
        f" (gap {comparison['gap']:+.3f}); calibration error {comparison['model_ece']:.3f}"
    )
