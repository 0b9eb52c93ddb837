"""Evaluation plots for the MLflow run (matplotlib, Agg backend, nothing shown)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.calibration import calibration_curve  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402


def _figure(title: str, xlabel: str, ylabel: str) -> tuple[Figure, plt.Axes]:
    figure, axes = plt.subplots(figsize=(5.5, 4.5))
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    return figure, axes


def roc_plot(outcome: np.ndarray, scores: dict[str, np.ndarray], target: str) -> Figure:
    """ROC curves of the model and baselines on the test period."""
    figure, axes = _figure(
        f"{target}: ROC (test period)", "false positive rate", "true positive rate"
    )
    for name, probability in scores.items():
        fpr, tpr, _ = roc_curve(outcome, probability)
        axes.plot(fpr, tpr, label=name)
    axes.plot([0, 1], [0, 1], "k:", linewidth=0.8)
    axes.legend(loc="lower right")
    return figure


def precision_recall_plot(
    outcome: np.ndarray, scores: dict[str, np.ndarray], target: str
) -> Figure:
    """Precision-recall curves; the dotted line is the base rate."""
    figure, axes = _figure(f"{target}: precision-recall (test period)", "recall", "precision")
    for name, probability in scores.items():
        precision, recall, _ = precision_recall_curve(outcome, probability)
        axes.plot(recall, precision, label=name)
    axes.axhline(float(np.mean(outcome)), color="k", linestyle=":", linewidth=0.8)
    axes.legend(loc="upper right")
    return figure


def calibration_plot(outcome: np.ndarray, scores: dict[str, np.ndarray], target: str) -> Figure:
    """Observed rate against predicted probability, in quantile bins."""
    figure, axes = _figure(f"{target}: calibration (test period)", "predicted", "observed")
    for name, probability in scores.items():
        observed, predicted = calibration_curve(
            outcome, probability, n_bins=10, strategy="quantile"
        )
        axes.plot(predicted, observed, marker="o", label=name)
    axes.plot([0, 1], [0, 1], "k:", linewidth=0.8)
    axes.legend(loc="upper left")
    return figure


def cumulative_gain_plot(outcome: np.ndarray, scores: dict[str, np.ndarray], target: str) -> Figure:
    """Share of positives found when working down the list from the riskiest account."""
    figure, axes = _figure(
        f"{target}: cumulative gain (test period)",
        "share of accounts contacted",
        "share of positives",
    )
    y = np.asarray(outcome, dtype=float)
    for name, probability in scores.items():
        order = np.argsort(-np.asarray(probability), kind="stable")
        gain = np.concatenate([[0.0], np.cumsum(y[order]) / max(y.sum(), 1.0)])
        axes.plot(np.linspace(0, 1, len(gain)), gain, label=name)
    axes.plot([0, 1], [0, 1], "k:", linewidth=0.8)
    axes.legend(loc="lower right")
    return figure


def shap_summary_plot(contributions: np.ndarray, features: pd.DataFrame, target: str) -> Figure:
    """SHAP beeswarm of the model's drivers (contributions without the base column)."""
    import shap  # slow import (about 3 s): only when plotting

    plt.figure(figsize=(7, 6))
    shap.summary_plot(contributions[:, :-1], features, show=False, max_display=15)
    figure = plt.gcf()
    figure.suptitle(f"{target}: drivers (SHAP, test period)")
    figure.tight_layout()
    return figure


def evaluation_plots(
    outcome: np.ndarray,
    scores: dict[str, np.ndarray],
    contributions: np.ndarray,
    features: pd.DataFrame,
    target: str,
) -> dict[str, Figure]:
    """All plots of one target, keyed by file name."""
    return {
        f"{target}_roc.png": roc_plot(outcome, scores, target),
        f"{target}_precision_recall.png": precision_recall_plot(outcome, scores, target),
        f"{target}_calibration.png": calibration_plot(outcome, scores, target),
        f"{target}_cumulative_gain.png": cumulative_gain_plot(outcome, scores, target),
        f"{target}_shap_summary.png": shap_summary_plot(contributions, features, target),
    }
