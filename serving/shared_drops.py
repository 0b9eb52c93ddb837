"""A drop in use that most accounts share in the same weeks: a season, not a reason.

A school's summer, a tax year's end or the holidays take every account's users away at
once. A month-on-month trend (`features.definitions.usage`, -1 stopped to +1 started)
then reads "down 67%, worse than healthy accounts (flat)" at the median account, and the
cause reader, which learned that a drop is what leaving accounts show, names usage as the
reason for risk at accounts that did only what the whole book did (the sixteenth new-user
audit: active users' trend among the first three reasons at 80 of 364 accounts in August,
10 on the same world without the season). The churn model itself ranks such weeks well:
it learned the summers in its history, where every account fell and the ones that left did
not fall more.

So, per snapshot: a trend whose median account is down by `DROP` or more (the recent
window at two thirds of the one before, or less) is a shared drop, and each account's
value is read against the book's middle half in the same weeks, as a value is read against
healthy accounts' middle half (`training.families`): inside it, flat; below it, by how far
below (a trend minus the book's lower quartile); above it, by how far above. Read against
the median alone, 45 of the 80 accounts stayed, most of them small accounts whose few users
were all away ("stopped"), as a quarter of the book was. The values shown, the model's
scores and the playbook's rules keep the account's own numbers; a driver still reading as
a reason says the book's drop beside its own. Read on the snapshot of every active
account, so the API's single account is judged against the same book as the batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

CHANGE_UNIT = "change, -1 to +1"  # features.definitions.usage.CHANGE
DROP = -0.2  # a trend of -0.2: the last window holds 2/3 of the one before
MIN_ACCOUNTS = 20  # fewer accounts are no book to speak of


class BookDrop(NamedTuple):
    """A trend's quartiles over today's accounts: the book's middle half and its median."""

    low: float
    median: float
    high: float


def shared_drops(
    names: Sequence[str],
    matrix: np.ndarray,
    units: Mapping[str, str],
) -> dict[str, BookDrop]:
    """Trend features whose median account is down by `DROP` or more, with their quartiles.

    Args:
        names: The snapshot's feature names, one per column of `matrix`.
        matrix: Every active account's features (accounts, features), NaN where unknown.
        units: Feature -> its unit; only trends (`CHANGE_UNIT`) are read.
    """
    if matrix.shape[0] < MIN_ACCOUNTS:
        return {}
    drops = {}
    for j, name in enumerate(names):
        if units.get(name) != CHANGE_UNIT:
            continue
        column = matrix[:, j]
        known = column[~np.isnan(column)]
        if len(known) < MIN_ACCOUNTS:
            continue
        low, median, high = (float(q) for q in np.quantile(known, [0.25, 0.5, 0.75]))
        if median <= DROP:
            drops[name] = BookDrop(low, median, high)
    return drops


def against_book(
    values: np.ndarray, names: Sequence[str], drops: Mapping[str, BookDrop]
) -> np.ndarray:
    """`values` (accounts, features) with each shared drop read against the book's middle half.

    Inside the middle half a trend reads flat (0); outside, as far from flat as it lies
    past the nearer quartile. Unknown values stay unknown.
    """
    if not drops:
        return values
    read = np.array(values, dtype=float, copy=True)
    column = {name: j for j, name in enumerate(names)}
    for name, drop in drops.items():
        j = column[name]
        v = read[:, j]
        past = np.where(v < drop.low, v - drop.low, np.where(v > drop.high, v - drop.high, 0.0))
        read[:, j] = np.where(np.isnan(v), np.nan, np.clip(past, -1.0, 1.0))
    return read
