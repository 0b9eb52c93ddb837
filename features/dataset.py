"""Training sets: point-in-time features of snapshot grids joined with their labels."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from features.compute import compute_features
from features.labels import UPSELL_WINDOW_DAYS, compute_labels
from features.snapshots import snapshot_dates

LABELS = ("churn", "upsell")


def build_dataset(
    con: duckdb.DuckDBPyConnection,
    start: datetime | str,
    end: datetime | str,
    every: str = "1M",
    upsell_min_rise: float = 0.0,
) -> pd.DataFrame:
    """Snapshots from `start` to `end` every `every`, with features and labels.

    `upsell_min_rise`: the share a renewal's ARR must rise by to be an upsell
    (`features.labels.compute_labels`).

    Rows whose churn and upsell labels are both still unknown are left out; a
    row with one known label keeps NaN for the other, so each model trains on
    the rows where its own label is known.

    Returns:
        account_id, as_of, the features, then churn, upsell, arr and renewal_date.
    """
    grid = snapshot_dates(start, end, every)
    if not grid:
        raise ValueError(f"no snapshot dates from {start} to {end} every {every}")
    features = compute_features(con, grid)
    labels = compute_labels(con, grid, upsell_min_rise=upsell_min_rise)
    dataset = features.merge(labels, on=["account_id", "as_of"], how="inner", validate="1:1")
    known = dataset[list(LABELS)].notna().any(axis=1)
    return dataset.loc[known].reset_index(drop=True)


def upsell_known_early(frame: pd.DataFrame, horizon: datetime) -> int:
    """Upsell positives among snapshots whose 180 days have not passed by `horizon`.

    The contract knows a positive as soon as the expansion starts, a negative only once the
    window has passed, so the last months' known labels are mostly positives (the twelfth
    audit read an upsell rate of 1.0 for the last five months of `retain dataset`'s file).
    """
    open_window = pd.to_datetime(frame["as_of"]) + pd.Timedelta(days=UPSELL_WINDOW_DAYS)
    return int((frame["upsell"].eq(1.0) & (open_window > pd.Timestamp(horizon))).sum())


def write_frame(frame: pd.DataFrame, output: str | Path) -> Path:
    """Write `frame` as Parquet or CSV, chosen by the file's suffix.

    Raises:
        ValueError: when the suffix is neither `.parquet` nor `.csv`.
    """
    path = Path(output)
    if path.suffix.lower() not in (".parquet", ".csv"):
        raise ValueError(f"{path}: the output must end in .parquet or .csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S")
    return path
