"""`retain validate`'s notes on changes dated inside the data (the twelfth audit's).

A company's data changes over time, and two such changes follow the contract while
teaching the models something the company did not mean:

* a new price list: from a date, many renewals rise by one same share with the same seats
  and plan, and the contract's upsell rule counts each rise as an upsell
  (`price_list_note`);
* accounts whose events were imported late: a term in force for months with no event at
  all while the other accounts' events were recorded, so their usage features read no use
  (`silent_accounts_note`).

Both are DuckDB SQL on the typed contract views (`features.source.create_typed_views`),
grouped before anything is joined, so they stay fast on millions of events. A note is
never worth failing validation over: an error reads as no note.
"""

from __future__ import annotations

from datetime import date

import duckdb

from features.validate import SMALL_RISE, _first_three, note_rows, price_rise_note

__all__ = ["price_list_note", "silent_accounts_note"]

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
    found = note_rows(con, _PRICE_STEPS)
    indexation = bool(found) and price_rise_note(con) is not None
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


SILENT_DAYS = 90  # the usage features' longest window: all of it reads no use

_SILENT_STRETCHES = f"""
WITH days AS (  -- grouped first: one row per account and day with events
    SELECT account_id, CAST(ts AS DATE) AS day FROM events GROUP BY account_id, day
),
tracked AS (SELECT DISTINCT day FROM days),  -- the days any account has events on
reach AS (SELECT MIN(day) AS first_day, CAST(? AS DATE) AS last_day FROM tracked),
terms AS (
    SELECT account_id, start_date, end_date,
           MAX(end_date) OVER (PARTITION BY account_id ORDER BY start_date, subscription_id
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before_end
    FROM subscriptions WHERE kind IN ('new', 'renewal')
),
islands AS (
    SELECT account_id, start_date, end_date,
           SUM(CASE WHEN start_date <= before_end THEN 0 ELSE 1 END)
               OVER (PARTITION BY account_id ORDER BY start_date, end_date) AS spell
    FROM terms
),
spells AS (  -- the stretches with a term in force, back-to-back terms joined
    SELECT account_id, MIN(start_date) AS spell_start, MAX(end_date) - 1 AS spell_last
    FROM islands GROUP BY account_id, spell
),
gaps AS (  -- no event of the account: before its first event day or between two of them
    SELECT * FROM (
        SELECT account_id, LAG(day) OVER (PARTITION BY account_id ORDER BY day) + 1
                   AS quiet_from, day - 1 AS quiet_to
        FROM days
    ) WHERE quiet_from IS NULL OR quiet_to - quiet_from + 1 >= {SILENT_DAYS}
    UNION ALL  -- no event at all
    SELECT DISTINCT account_id, NULL, NULL FROM spells s
    WHERE NOT EXISTS (SELECT 1 FROM days d WHERE d.account_id = s.account_id)
),
stretches AS (  -- in force, and while the source has events
    SELECT g.account_id, g.quiet_to IS NULL AS never,
           GREATEST(COALESCE(g.quiet_from, s.spell_start), s.spell_start, r.first_day)
               AS quiet_from,
           LEAST(COALESCE(g.quiet_to, s.spell_last), s.spell_last, r.last_day) AS quiet_to
    FROM gaps g JOIN spells s ON s.account_id = g.account_id CROSS JOIN reach r
)
SELECT q.account_id, q.never, q.quiet_from, q.quiet_to
FROM stretches q JOIN tracked t ON t.day BETWEEN q.quiet_from AND q.quiet_to
WHERE q.quiet_to - q.quiet_from + 1 >= {SILENT_DAYS}
GROUP BY q.account_id, q.never, q.quiet_from, q.quiet_to
HAVING 2 * COUNT(*) >= q.quiet_to - q.quiet_from + 1
ORDER BY q.quiet_from, q.account_id
"""


def silent_accounts_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A note on accounts in force `SILENT_DAYS` or more with no event while others had some.

    The twelfth audit imported 60 accounts late: paying since early 2023, no event until
    1 Jul 2024. Their usage features read no use, and as of 31 May 2024, 38 of 47 scored
    low risk with the driver "Product modules used in the last 90 days: 0 modules".

    A stretch is a run of days with a `new`/`renewal` term in force (back-to-back terms
    joined) and no event of the account: before its first event, between two events, or
    all of it for an account with none. It counts only from the source's first event day
    to the end of the data (`features.horizon.data_horizon`), and only where other
    accounts have events on at least half its days: a source whose events start late for
    everyone, or miss a month for everyone, is not about these accounts (training starts
    at the first event plus `warmup_days` anyway). A silence that runs to the end of the
    data is left out, but for an account with no event at all: it is what a customer going
    quiet before churning looks like, and the churn model is there to read it.
    `SILENT_DAYS` is the usage features' longest window, so all of it reads no use. `con`
    holds the typed contract views.
    """
    from features.horizon import data_horizon

    try:
        rows = con.execute(_SILENT_STRETCHES, [data_horizon(con)]).fetchall()
    except (duckdb.Error, ValueError):  # no dated rows, or a note not worth failing over
        return None
    if not rows:
        return None
    longest: dict[str, tuple[bool, date, date]] = {}  # each account's longest stretch
    for account, never, start, end in rows:
        held = longest.get(account)
        if held is None or end - start > held[2] - held[1]:
            longest[account] = (never, start, end)
    shown = _first_three(
        [
            f"'{key}' from {start:%d %b %Y} to {end:%d %b %Y}"
            for key, (_, start, end) in longest.items()
        ]
    )
    never = sum(1 for never, _, _ in longest.values() if never)
    count = len(longest)
    none_at_all = f"; {never:,} of them with no event at all" if never else ""
    return (
        f"Note: {count:,} account{'s' if count > 1 else ''} had a term in force for"
        f" {SILENT_DAYS} days or more with no product event while other accounts' events were"
        f" recorded ({shown}{none_at_all}). Their usage features read no use over that"
        " stretch (no events, no modules used), and the models learn and score them so. If"
        " their events are missing (imported late, tracked elsewhere), import them; if they"
        " truly did not use the product, nothing is wrong."
    )
