"""When the product analytics and the help desk began, and what a snapshot before that knows.

The fifteenth audit's company had billed for years before it installed product analytics:
terms from January 2021, the first event on 15 August 2026, four and a half months before
the end of the data. Training starts `warmup_days` after the first event, so it held one
snapshot month and `retain train` trained nothing, telling the user to bring "more history".
`validate` and `train` now say so (`late_tracking_note`), and with `learn_before_tracking:
true` in the training config the training set starts at the first term instead, a feature
read from a table (events, tickets) being unknown (NaN) at a snapshot before that table's
first row plus the feature's window: zero events then means "not tracked yet", not "not
used". It is not the default: the simulator's short worlds (and the test suite's) carry
terms years older than their events too, and their documented figures train after the
warm-up.
"""

from __future__ import annotations

import re
from datetime import datetime

import duckdb
import pandas as pd

# Each tracked table: its first moment's column, and the feature sources that read it.
TRACKED = {
    "events": ("ts", ("usage", "active_users", "active_days", "modules", "activity")),
    "tickets": ("opened_at", ("tickets",)),
}
# A table that begins within this many days after training's first snapshot is not "late":
# a small help desk's first ticket may come weeks in.
GRACE_DAYS = 30
# Tracking that covers less than the warm-up and this before the end of the data leaves
# fewer snapshot months than the split's least (2 training + 1 validation + 1 test).
TRAINABLE_DAYS = 120
# Terms this much older than the first event are a billing history of their own. A year of
# it is common (the test suite's tiny world: 374 days, one month of events); two is not.
BILLING_DAYS = 730


def tracking_starts(con: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    """The first row of each tracked table that has one (its tracking began then)."""
    starts = {}
    for table, (column, _) in TRACKED.items():
        try:
            first = con.execute(f"SELECT min({column}) FROM {table}").fetchall()[0][0]
        except duckdb.Error:  # an optional table not given
            continue
        if first is not None:
            starts[table] = pd.Timestamp(first).to_pydatetime()
    return starts


def first_term(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The start of the earliest `new` or `renewal` term."""
    first = con.execute(
        "SELECT min(start_date) FROM subscriptions WHERE kind IN ('new', 'renewal')"
    ).fetchall()[0][0]
    return None if first is None else datetime(first.year, first.month, first.day)


def _window(name: str, window_days: int | None) -> int:
    """Days of a table's rows a feature reads: a change compares two windows."""
    found = re.search(r"_(\d+)d$", name)
    days = window_days or (int(found.group(1)) if found else 0)
    return days * 2 if "_change_" in name else days


def tracked_features(table: str) -> dict[str, int]:
    """Features read from `table` (directly or through another feature), with their windows."""
    from features.definitions import FEATURES

    sources = TRACKED[table][1]
    found = {f.name: _window(f.name, f.window_days) for f in FEATURES if f.source in sources}
    for f in FEATURES:  # ratios of those: events per active user, seat utilisation
        if f.source == "features" and any(re.search(rf"\b{n}\b", f.sql) for n in found):
            found[f.name] = _window(f.name, f.window_days)
    return found


def unknown_before_tracking(
    frame: pd.DataFrame, starts: dict[str, datetime], first_snapshot: datetime
) -> tuple[pd.DataFrame, list[str]]:
    """`frame` with each late table's features unknown before its first row and window.

    A table is late when its first row comes more than `GRACE_DAYS` after the training's
    `first_snapshot`. Returns the frame and, per late table, a sentence saying so.
    """
    frame = frame.copy()
    said = []
    moments = pd.to_datetime(frame["as_of"])
    for table, start in sorted(starts.items()):
        if start <= first_snapshot + pd.Timedelta(days=GRACE_DAYS):
            continue
        masked = 0
        for name, days in tracked_features(table).items():
            if name in frame.columns:
                before = moments < pd.Timestamp(start) + pd.Timedelta(days=max(days, 1))
                frame.loc[before, name] = float("nan")
                masked = max(masked, int(before.sum()))
        said.append(
            f"{table} begin on {start:%d %b %Y}: their features are unknown, not zero, at the"
            f" {masked:,} training snapshots before that date plus each feature's window"
        )
    return frame, said


def tracking_began_late(con: duckdb.DuckDBPyConnection, warmup_days: int = 90) -> str | None:
    """Why training should reach back before the events began, or None.

    When the first event comes `BILLING_DAYS` or more after the first term and less than
    the warm-up plus `TRAINABLE_DAYS` before the end of the data (`features.horizon`),
    training after the warm-up holds fewer snapshot months than any model needs. The
    sentence names the dates, and the tickets' start too when it differs from the events'.
    """
    from features.horizon import data_horizon

    try:
        starts, term, end = tracking_starts(con), first_term(con), data_horizon(con)
    except (duckdb.Error, ValueError):
        return None
    events = starts.get("events")
    if events is None or term is None:
        return None
    if (events - term).days < BILLING_DAYS or (end - events).days >= warmup_days + TRAINABLE_DAYS:
        return None
    tickets = starts.get("tickets")
    help_desk = (
        f" Tickets begin on {tickets:%d %b %Y}."
        if tickets is not None and abs((tickets - events).days) > GRACE_DAYS
        else ""
    )
    return (
        f"product events begin on {events:%d %b %Y}, {(end - events).days} days before the"
        f" end of the data, while the terms go back to {term:%d %b %Y}.{help_desk} Starting"
        f" {warmup_days} days (`warmup_days`) after the first event, training has fewer than"
        " the four snapshot months a model needs"
    )


def late_tracking_note(con: duckdb.DuckDBPyConnection, warmup_days: int = 90) -> str | None:
    """The note `validate` and `train` give when the events began late, and the setting."""
    why = tracking_began_late(con, warmup_days)
    if why is None:
        return None
    return (
        f"Note: {why}. To learn from the whole billing history, set `learn_before_tracking:"
        " true` in a training config (`retain train --config FILE`): snapshots then start at"
        " the first term, and usage (and support) features read as unknown, not as no use,"
        " before their table begins."
    )
