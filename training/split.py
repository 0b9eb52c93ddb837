"""Honest time-based split of labelled snapshots into training, validation and test.

A snapshot's label becomes known later than the snapshot itself: the churn label
at the account's renewal date, the upsell label 180 days after `as_of`. So:

* only snapshots whose label is known at the training date T are used at all;
* validation and test are the latest snapshot months with known labels
  (test last), so the model is judged on the future it will face;
* a training snapshot must have its label known *before* the validation
  period starts, and must be taken at least `embargo_days` before it. An
  account's neighbouring snapshots share the same renewal (and overlapping
  usage windows); this rule means no renewal outcome seen in training can
  reappear as the answer of a validation or test snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from training.config import SplitConfig
from training.names import ACCOUNT_MODELS as TARGETS

UPSELL_HORIZON = pd.Timedelta(days=180)


def label_known_at(frame: pd.DataFrame, target: str) -> pd.Series:
    """When each snapshot's `target` label becomes known (renewal date, or as_of + 180 days)."""
    if target == "churn":
        return pd.to_datetime(frame["renewal_date"])
    if target == "upsell":
        return pd.to_datetime(frame["as_of"]) + UPSELL_HORIZON
    raise ValueError(f"unknown target {target!r}; expected one of {TARGETS}")


def labelled_rows(frame: pd.DataFrame, target: str, as_of: datetime) -> pd.DataFrame:
    """Snapshots taken before `as_of` whose `target` label is known by `as_of`."""
    known = label_known_at(frame, target)
    keep = frame[target].notna() & (known <= pd.Timestamp(as_of))
    keep &= pd.to_datetime(frame["as_of"]) < pd.Timestamp(as_of)
    return frame.loc[keep].copy()


@dataclass(frozen=True)
class TimeSplit:
    """Training, validation and test rows for one target, and the periods they cover."""

    target: str
    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    validation_start: pd.Timestamp
    test_start: pd.Timestamp

    def summary(self) -> dict[str, str | int]:
        """Data windows and row counts, for logging and progress lines."""
        out: dict[str, str | int] = {}
        for part in ("train", "validation", "test"):
            rows = getattr(self, part)
            dates = pd.to_datetime(rows["as_of"])
            out[f"{part}_rows"] = len(rows)
            out[f"{part}_positives"] = int(rows[self.target].sum())
            out[f"{part}_accounts"] = int(rows["account_id"].nunique())
            out[f"{part}_first_snapshot"] = str(dates.min().date()) if len(rows) else ""
            out[f"{part}_last_snapshot"] = str(dates.max().date()) if len(rows) else ""
        return out


def time_split(frame: pd.DataFrame, target: str, as_of: datetime, config: SplitConfig) -> TimeSplit:
    """Split the snapshots of `frame` for `target` as known at `as_of`.

    Args:
        frame: the training set (`account_id`, `as_of`, features, labels, `renewal_date`).
        target: `churn` or `upsell`.
        as_of: the training date T; labels not known by T are treated as unknown.
        config: period lengths (in snapshot months) and the embargo.

    Returns:
        The three parts; test holds the latest `test_months` snapshot dates with known
        labels, validation the `validation_months` before them.

    Raises:
        ValueError: when there are too few labelled snapshot months for the periods.
    """
    rows = labelled_rows(frame, target, as_of)
    rows["as_of"] = pd.to_datetime(rows["as_of"])
    dates = sorted(rows["as_of"].unique())
    needed = config.test_months + config.validation_months + 1
    if len(dates) < needed:
        raise ValueError(
            f"{target}: only {len(dates)} snapshot months have labels known at {as_of:%Y-%m-%d};"
            f" need at least {needed} (training + {config.validation_months} validation"
            f" + {config.test_months} test). Use a later --as-of or more history."
        )
    test_start = pd.Timestamp(dates[-config.test_months])
    validation_start = pd.Timestamp(dates[-(config.test_months + config.validation_months)])
    in_test = rows["as_of"] >= test_start
    in_validation = (rows["as_of"] >= validation_start) & ~in_test
    known = label_known_at(rows, target)
    embargo = pd.Timedelta(days=config.embargo_days)
    in_train = (rows["as_of"] < validation_start - embargo) & (known < validation_start)
    train = rows.loc[in_train].reset_index(drop=True)
    if train.empty or train[target].nunique() < 2:
        raise ValueError(
            f"{target}: no usable training snapshots before {validation_start:%Y-%m-%d} "
            "(need both outcomes). Use a later --as-of or more history."
        )
    return TimeSplit(
        target=target,
        train=train,
        validation=rows.loc[in_validation].reset_index(drop=True),
        test=rows.loc[in_test].reset_index(drop=True),
        validation_start=validation_start,
        test_start=test_start,
    )
