"""The one rule for reading touchpoints from two places: a touchpoint counts once.

A touchpoint recorded through the service may come back in the source's touchpoints table
when the CRM exports it; both carry the same `touchpoint_id` and account. The service's
copy is kept (it knows the plan line it follows). An id the service recorded for another
account than the source's row names two different touchpoints: both are kept.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from store.records import naive_utc


def combine_touchpoints(
    source: pd.DataFrame, recorded: pd.DataFrame | None, until: datetime | None = None
) -> pd.DataFrame:
    """The source's touchpoints and those recorded through the service, each touchpoint once.

    Args:
        source: the source's touchpoints (at least touchpoint_id, account_id, ts, type).
        recorded: `Store.touchpoints()` (or None: the source's alone).
        until: keep only touchpoints done at or before this time.

    Returns:
        The source's columns, sorted by time; a touchpoint in both is the recorded copy.
        With recorded touchpoints, also `plan_line_id`: the plan line each follows (empty
        for the source's and for what the team did of its own accord).
    """
    if recorded is None or recorded.empty:
        combined = source.copy()
    else:
        columns = list(dict.fromkeys([*source.columns, "plan_line_id"]))
        kept = recorded.reindex(columns=columns)
        # The same touchpoint is the same id at the same account: a source row whose id
        # the service recorded for another account is another touchpoint, and is kept.
        pairs = pd.MultiIndex.from_frame(source[["touchpoint_id", "account_id"]].astype(str))
        seen = pd.MultiIndex.from_frame(recorded[["touchpoint_id", "account_id"]].astype(str))
        from_source = source[~pairs.isin(seen)]
        parts = [part for part in (from_source, kept) if not part.empty]
        combined = pd.concat(parts, ignore_index=True) if parts else source.iloc[:0].copy()
        combined["ts"] = pd.to_datetime(combined["ts"])
    if until is not None:
        combined = combined[pd.to_datetime(combined["ts"]) <= pd.Timestamp(naive_utc(until))]
    return combined.sort_values(["ts", "touchpoint_id"], kind="stable").reset_index(drop=True)
