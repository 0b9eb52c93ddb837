"""Monitor plots (matplotlib, Agg backend): feature shifts, score histograms, calibration."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from training.monitor.bins import Bins  # noqa: E402


def feature_shift_plot(features: pd.DataFrame, psi_line: float, top: int = 15) -> Figure:
    """The features that moved most since training, by PSI, with the alarm line."""
    shown = features.head(top).iloc[::-1]
    figure, axes = plt.subplots(figsize=(7, 0.35 * len(shown) + 1.5))
    axes.barh(shown["feature"], shown["psi"], color="tab:blue")
    axes.axvline(psi_line, color="tab:red", linestyle="--", label=f"alarm at PSI {psi_line}")
    axes.set_xlabel("PSI against the training reference")
    axes.set_title("Features that moved most since training")
    axes.legend(loc="lower right")
    figure.tight_layout()
    return figure


def score_shift_plot(bins: Bins, now: np.ndarray) -> Figure:
    """Share of accounts per churn-score bin: at training and now."""
    then_shares = np.asarray(bins.shares[:-1])
    now_shares = bins.shares_of(now)[:-1]
    labels = ["<" + f"{bins.edges[0]:.2f}"] + [f">={edge:.2f}" for edge in bins.edges]
    x = np.arange(len(labels))
    figure, axes = plt.subplots(figsize=(7, 4))
    axes.bar(x - 0.2, then_shares, 0.4, label="at training")
    axes.bar(x + 0.2, now_shares, 0.4, label="now")
    axes.set_xticks(x, labels, rotation=45, fontsize=8)
    axes.set_ylabel("share of accounts")
    axes.set_title("Churn scores: training reference vs latest snapshot")
    axes.legend()
    figure.tight_layout()
    return figure


def calibration_plot(deciles: dict[str, pd.DataFrame]) -> Figure:
    """Predicted vs observed churn per risk decile, one line per model version."""
    figure, axes = plt.subplots(figsize=(5.5, 4.5))
    for version, table in deciles.items():
        axes.plot(table["predicted"], table["observed"], "o-", label=f"v{version}")
    top = max([0.05, *(float(t[["predicted", "observed"]].max().max()) for t in deciles.values())])
    axes.plot([0, top], [0, top], "k:", linewidth=0.8)
    axes.set_xlabel("predicted churn (decile mean)")
    axes.set_ylabel("churned since")
    axes.set_title("Calibration on matured renewals")
    axes.legend()
    return figure
