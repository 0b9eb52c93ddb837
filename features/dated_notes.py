"""`retain validate`'s notes on changes dated inside the data (the twelfth audit's).

A company's data changes over time, and some changes follow the contract while teaching
the models something the company did not mean: a new price list, from a date, makes many
renewals rise by one same share with the same seats and plan, and the contract's upsell
rule counts each rise as an upsell (`price_list_note`).

The notes are DuckDB SQL on the typed contract views (`features.source.create_typed_views`).
A note is never worth failing validation over: an error reads as no note.
"""

from __future__ import annotations

import duckdb

from features.validate import SMALL_RISE, _first_three, price_rise_note

__all__ = ["price_list_note"]

PRICE_STEP_DECIMALS = 3  # rises are the same when equal to the nearest 0.1%
PRICE_STEP_RENEWALS = 20  # at least this many renewals rise by the same share
PRICE_STEP_SHARE = 0.10  # and they are at least this share of the renewals in their span

_PRICE_STEPS = f"""
WITH terms AS (
    SELECT subscription_id, account_id, kind, start_date, arr, seats, plan,
           LAG(start_date) OVER w AS replaced_start, LAG(end_date) OVER w AS replaced_end,
           LAG(arr) OVER w AS replaced_arr, LAG(seats) OVER w AS replaced_seats,
           LAG(plan) OVER w AS replaced_plan
    FROM subscriptions WHERE kind IN ('new', 'renewal')
    WINDOW w AS (PARTITION BY account_id ORDER BY start_date, subscription_id)
),
renewals AS (  -- as the upsell label reads them: against the term they replace and its expansions
    SELECT r.subscription_id, r.start_date, r.arr, r.seats, r.plan, r.replaced_plan,
           r.replaced_arr + COALESCE(SUM(x.arr), 0) AS before_arr,
           r.replaced_seats + COALESCE(SUM(x.seats), 0) AS before_seats
    FROM terms r
    LEFT JOIN subscriptions x ON x.account_id = r.account_id AND x.kind = 'expansion'
        AND x.start_date >= r.replaced_start AND x.start_date < r.replaced_end
    WHERE r.kind = 'renewal' AND r.replaced_arr > 0
    GROUP BY r.subscription_id, r.start_date, r.arr, r.seats, r.plan, r.replaced_plan,
             r.replaced_arr, r.replaced_seats
),
steps AS (
    SELECT ROUND(arr / before_arr - 1, {PRICE_STEP_DECIMALS}) AS rise, COUNT(*) AS risen,
           MIN(start_date) AS first_start, MAX(start_date) AS last_start,
           LIST(subscription_id ORDER BY start_date, subscription_id) AS examples
    FROM renewals
    WHERE arr > before_arr
      AND (seats = before_seats OR seats IS NULL OR before_seats IS NULL)
      AND (plan = replaced_plan OR plan IS NULL OR replaced_plan IS NULL)
    GROUP BY rise HAVING COUNT(*) >= {PRICE_STEP_RENEWALS}
)
SELECT s.rise, s.risen, s.first_start, s.last_start, s.examples, COUNT(*) AS renewals
FROM steps s JOIN renewals r ON r.start_date BETWEEN s.first_start AND s.last_start
WHERE s.rise > 0
GROUP BY s.rise, s.risen, s.first_start, s.last_start, s.examples
HAVING s.risen >= {PRICE_STEP_SHARE} * COUNT(*)
ORDER BY s.risen DESC, s.rise
"""


def price_list_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A note when many renewals rise by one same share with the same seats and plan.

    That is a price list's signature (the twelfth audit: from 1 Oct 2024, 415 renewals
    rose by exactly 15% per seat; the upsell share of snapshots went from 0.18 to over
    0.5 and the upsell model's calibration broke), and the contract counts each rise as
    an upsell. `upsell_min_rise` a little above the share puts the labels back.

    A renewal is compared as the upsell label compares it (`features.labels`): with the
    term it replaces plus that term's expansions; the label's second look, at what was in
    force 180 days before, is left out (it matters for monthly terms only, whose first
    renewal after the change is the one that rises). Said for a share (rounded to 0.1%, so
    ARR rounded to whole units still counts as the same share, while varied rises do not
    pile up) that at least `PRICE_STEP_RENEWALS` renewals rose by, which are at least
    `PRICE_STEP_SHARE` of all renewals from the first to the last of them: a tenth of
    renewals turned upsell moves the labels (the audit's step was a quarter). A step of at
    most `SMALL_RISE` is left to `price_rise_note` when that note is said: it already names
    `upsell_min_rise` for such rises. A plan upgrade at a fixed price ratio changes the
    plan, and new seats are growth: neither counts. `con` holds the typed contract views.
    """
    try:
        found = con.execute(_PRICE_STEPS).fetchall()
        indexation = price_rise_note(con) is not None
    except duckdb.Error:  # a note is never worth failing validation over
        return None
    steps = [step for step in found if not (indexation and step[0] <= SMALL_RISE)]
    if not steps:
        return None
    parts = [
        f"{risen:,} renewals from {first:%d %b %Y} to {last:%d %b %Y} rose by {rise:.1%}"
        f" ({risen / renewals:.0%} of the {renewals:,} renewals in that span:"
        f" {_first_three([repr(key) for key in keys])})"
        for rise, risen, first, last, keys, renewals in steps
    ]
    above = round(max(step[0] for step in steps) + 0.01, PRICE_STEP_DECIMALS)
    return (
        f"Note: {'; '.join(parts)}, each over the term it replaces with the same seats and"
        " plan, as a new price list would. The contract counts any ARR rise at renewal as an"
        " upsell, so each is one. If this is a price-list change, not growth, set"
        f" `upsell_min_rise: {above:g}` in a training config (`retain train --config FILE`;"
        f" `retain dataset --upsell-min-rise {above:g}`): a rise up to that share then"
        " counts as an upsell only with more seats."
    )
