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

The periods adapt to the history each model has: the configured test and validation
lengths when the labelled months allow, else shorter ones (test and validation shrink
together, test first; preferring at least as many training as test months) down to the
configured floor (`min_test_months`,
`min_validation_months`, `min_train_months`, `min_positives`). Below it the model is
not trained: `NotEnoughHistory` says why in one line. An upsell label is known 180 days
after its snapshot, so upsell needs about six more months of history than churn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from features.words import with_article
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


class NotEnoughHistory(ValueError):
    """A model's labelled history is below the split's floor; the message says why."""


@dataclass(frozen=True)
class TimeSplit:
    """Training, validation and test rows for one target, and the periods they cover."""

    target: str
    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    validation_start: pd.Timestamp
    test_start: pd.Timestamp
    adapted: bool = False  # shorter periods than configured, for want of history

    def months(self) -> dict[str, int]:
        """Snapshot months in each part: `train_months`, `validation_months`, `test_months`."""
        return {
            f"{part}_months": int(pd.to_datetime(getattr(self, part)["as_of"]).nunique())
            for part in ("train", "validation", "test")
        }

    def describe(self) -> str:
        """One line: the months and rows of each part, and whether the periods adapted."""
        m, s = self.months(), self.summary()
        shorter = " (shortened: not enough history for the configured periods)"
        return (
            f"{self.target}: {m['train_months']} training months ({s['train_rows']} snapshots,"
            f" {s['train_positives']} positive), {m['validation_months']} validation months"
            f" from {self.validation_start:%Y-%m-%d} ({s['validation_rows']},"
            f" {s['validation_positives']} positive), {m['test_months']} test months from"
            f" {self.test_start:%Y-%m-%d} ({s['test_rows']}, {s['test_positives']} positive)"
            f"{shorter if self.adapted else ''}"
        )

    def summary(self) -> dict[str, str | int]:
        """Data windows, months and row counts, for logging and progress lines."""
        out: dict[str, str | int] = {}
        for part in ("train", "validation", "test"):
            rows = getattr(self, part)
            dates = pd.to_datetime(rows["as_of"])
            out[f"{part}_rows"] = len(rows)
            out[f"{part}_months"] = int(dates.nunique())
            out[f"{part}_positives"] = int(rows[self.target].sum())
            out[f"{part}_accounts"] = int(rows["account_id"].nunique())
            out[f"{part}_first_snapshot"] = str(dates.min().date()) if len(rows) else ""
            out[f"{part}_last_snapshot"] = str(dates.max().date()) if len(rows) else ""
        out["adapted"] = int(self.adapted)
        return out


def period_lengths(config: SplitConfig) -> list[tuple[int, int]]:
    """(test, validation) month pairs to try, the configured one first, then shorter ones."""
    pairs: list[tuple[int, int]] = []
    for step in range(max(config.test_months, 2 * config.validation_months) + 1):
        test = max(config.min_test_months, config.test_months - step)
        validation = max(config.min_validation_months, config.validation_months - step // 2)
        if (test, validation) not in pairs:
            pairs.append((test, validation))
    return pairs


def _parts(
    rows: pd.DataFrame,
    dates: list[pd.Timestamp],
    target: str,
    test: int,
    validation: int,
    embargo_days: int,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Timestamp, pd.Timestamp]:
    test_start = pd.Timestamp(dates[-test])
    validation_start = pd.Timestamp(dates[-(test + validation)])
    in_test = rows["as_of"] >= test_start
    in_validation = (rows["as_of"] >= validation_start) & ~in_test
    known = label_known_at(rows, target)
    embargo = pd.Timedelta(days=embargo_days)
    in_train = (rows["as_of"] < validation_start - embargo) & (known < validation_start)
    return (
        rows.loc[in_train].reset_index(drop=True),
        rows.loc[in_validation].reset_index(drop=True),
        rows.loc[in_test].reset_index(drop=True),
        validation_start,
        test_start,
    )


def _shortfall(
    train: pd.DataFrame,
    validation: pd.DataFrame,
    test: pd.DataFrame,
    target: str,
    config: SplitConfig,
) -> str | None:
    """Why these parts cannot train and judge a model, or None when they can."""
    outcomes = train[target]
    months = pd.to_datetime(train["as_of"]).nunique()
    if months < config.min_train_months:
        return (
            f"{months} training snapshot months have labels known before validation starts;"
            f" need {config.min_train_months}"
        )
    least = min(int((outcomes == 1).sum()), int((outcomes == 0).sum()))
    if least < config.min_positives:
        return (
            f"the training snapshots hold {int((outcomes == 1).sum())} positive and"
            f" {int((outcomes == 0).sum())} negative labels; need {config.min_positives} of each"
        )
    for name, part in (("validation", validation), ("test", test)):
        if part[target].nunique() < 2:
            return (
                f"the {name} period's {len(part)} snapshots hold one outcome only"
                f" ({int(part[target].sum())} positive)"
            )
    return None


def time_split(frame: pd.DataFrame, target: str, as_of: datetime, config: SplitConfig) -> TimeSplit:
    """Split the snapshots of `frame` for `target` as known at `as_of`.

    Args:
        frame: the training set (`account_id`, `as_of`, features, labels, `renewal_date`).
        target: `churn` or `upsell`.
        as_of: the training date T; labels not known by T are treated as unknown.
        config: period lengths (in snapshot months), their floor and the embargo.

    Returns:
        The three parts; test holds the latest test-period snapshot dates with known
        labels, validation the months before them: the configured lengths when the
        history allows, else the longest of `period_lengths` that leaves a trainable
        training period.

    Raises:
        NotEnoughHistory: even the shortest periods leave no trainable model; the message
            is one line saying why.
    """
    rows = labelled_rows(frame, target, as_of)
    rows["as_of"] = pd.to_datetime(rows["as_of"])
    dates = sorted(rows["as_of"].unique())
    noun = "churned renewals" if target == "churn" else "expansions"
    delay = "at the renewal" if target == "churn" else "180 days after its snapshot"
    if rows[target].nunique() < 2:
        what = (
            f"no snapshot has {with_article(target)} label known at {as_of:%Y-%m-%d} (a label"
            f" is known {delay})"
            if rows.empty
            else f"the {len(rows)} snapshots with labels known at {as_of:%Y-%m-%d} hold one"
            f" outcome only ({int(rows[target].sum())} positive: no {noun} to learn from)"
            if rows[target].max() == 0
            else f"every labelled snapshot at {as_of:%Y-%m-%d} is positive"
        )
        raise NotEnoughHistory(f"{target}: not trained: {what}.")
    reason = ""
    floor = config.min_test_months + config.min_validation_months + config.min_train_months
    best: tuple[tuple[bool, bool, int, int], TimeSplit] | None = None
    for test, validation in period_lengths(config):
        if len(dates) < test + validation + config.min_train_months:
            reason = reason or (
                f"only {len(dates)} snapshot months have {target} labels known at"
                f" {as_of:%Y-%m-%d} (a label is known {delay}); need at least"
                f" {floor}"
                f" ({config.min_train_months} training + {config.min_validation_months}"
                f" validation + {config.min_test_months} test)"
            )
            continue
        train, validation_rows, test_rows, validation_start, test_start = _parts(
            rows, dates, target, test, validation, config.embargo_days
        )
        shortfall = _shortfall(train, validation_rows, test_rows, target, config)
        if shortfall is not None:
            reason = f"with {validation} validation and {test} test months, {shortfall}"
            continue
        split = TimeSplit(
            target=target,
            train=train,
            validation=validation_rows,
            test=test_rows,
            validation_start=validation_start,
            test_start=test_start,
            adapted=(test, validation) != (config.test_months, config.validation_months),
        )
        # the configured periods whenever the history allows them; else prefer training on
        # at least as many months as the test covers, then the longest evaluation periods
        rank = (not split.adapted, split.months()["train_months"] >= test, test + validation, test)
        if best is None or rank > best[0]:
            best = (rank, split)
    if best is not None:
        return best[1]
    raise NotEnoughHistory(f"{target}: not trained: {reason}. Use a later --as-of or more history.")
