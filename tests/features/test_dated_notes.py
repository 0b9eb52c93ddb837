"""validate's notes on changes dated inside the data, on small hand-made tables.

The twelfth audit's company changed its price list on 1 Oct 2024 (415 renewals rose by
exactly 15% per seat, and the upsell labels went from 0.18 to over 0.5 positive), and
validate said nothing.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from features.dated_notes import price_list_note
from features.validate import price_rise_note
from tests.support.tables import typed_connection

COLUMNS = [
    "subscription_id",
    "account_id",
    "kind",
    "start_date",
    "end_date",
    "arr",
    "seats",
    "plan",
    "outcome",
]
EVENT = {"module": "m", "event_type": "view"}


# --- a new price list -----------------------------------------------------------------


def _renewals(
    rises: list[float],
    start: str = "2024-10-01",
    seats: int = 0,
    plan: str = "pro",
    per_day: int = 1,
) -> list[tuple]:
    """One account a rise: a year's term at 1,000 ARR and 10 seats, then its renewal.

    `per_day` renewals a day from `start`; `seats` more at renewal, and the renewal's plan
    is `plan` (the term's is "pro").
    """
    rows = []
    first = pd.Timestamp(start)
    for i, rise in enumerate(rises):
        account = f"{start[:7]}-{rise:.3f}-{seats}-{plan}-{i:03d}"
        renewal = first + pd.Timedelta(days=i // per_day)
        term = renewal - pd.DateOffset(years=1)
        rows += [
            (f"{account}-1", account, "new", term, renewal, 1000.0, 10, "pro", "renewed"),
            (f"{account}-2", account, "renewal", renewal, renewal + pd.DateOffset(years=1),
             round(1000.0 * (1 + rise), 2), 10 + seats, plan, None),
        ]  # fmt: skip
    return rows


def _subscriptions(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("start_date", "end_date"):
        frame[column] = pd.to_datetime(frame[column])
    return frame.astype({"seats": "Int64"})


def _source(rows: list[tuple]) -> duckdb.DuckDBPyConnection:
    subscriptions = _subscriptions(rows)
    ids = sorted(set(subscriptions["account_id"]))
    accounts = pd.DataFrame({"account_id": ids, "created_at": ["2023-01-01"] * len(ids)})
    events = pd.DataFrame([{"ts": "2025-03-01", "account_id": ids[0], **EVENT}])
    tables = {"accounts": accounts, "subscriptions": subscriptions, "events": events}
    return typed_connection(tables)


def test_a_price_list_step_is_named_with_its_share_span_examples_and_setting() -> None:
    # 25 renewals rise by exactly 15% with the same seats among 75 flat ones, the first
    # carrying its term's expansion (15% over term plus expansion, as the label compares)
    # and one with no seats recorded
    rows = _renewals([0.15] * 25) + _renewals([0.0] * 75, per_day=3)
    rows[1] = (*rows[1][:5], 1200.0 * 1.15, 12, "pro", None)  # 1,000 + 200 of expansion
    rows.append(("x", rows[0][1], "expansion", "2024-03-01", "2024-10-01", 200.0, 2, "pro", None))
    rows[3] = (*rows[3][:6], None, "pro", None)  # a renewal with no seats recorded
    note = price_list_note(_source(rows))
    assert note is not None
    assert note.startswith(
        "Note: 25 renewals from 01 Oct 2024 to 25 Oct 2024 rose by 15.0% (25% of the 100"
        " renewals in that span: '2024-10-0.150-0-pro-000-2', '2024-10-0.150-0-pro-001-2',"
        " '2024-10-0.150-0-pro-002-2' and 22 more)"
    )
    assert "same seats and plan" in note and "as a new price list would" in note
    assert "`upsell_min_rise: 0.16`" in note and "--upsell-min-rise 0.16" in note


def test_a_small_dated_step_is_named_when_most_renewals_do_not_rise() -> None:
    # 3% from a date for a quarter of the renewals: no indexation of most renewals, so
    # price_rise_note is silent and this note names the step
    con = _source(_renewals([0.03] * 25) + _renewals([0.0] * 75, per_day=3))
    assert price_rise_note(con) is None
    note = price_list_note(con)
    assert note is not None
    assert "25 renewals from 01 Oct 2024 to 25 Oct 2024 rose by 3.0%" in note
    assert "`upsell_min_rise: 0.04`" in note


def test_varied_rises_seat_growth_and_plan_upgrades_are_no_price_list() -> None:
    varied = [0.10 + 0.002 * i for i in range(40)]  # 40 rises, each its own share
    assert price_list_note(_source(_renewals(varied) + _renewals([0.0] * 40))) is None
    assert price_list_note(_source(_renewals([0.15] * 30, seats=2))) is None  # growth
    assert price_list_note(_source(_renewals([0.15] * 30, plan="enterprise"))) is None


def test_too_few_renewals_or_too_small_a_share_of_them_say_nothing() -> None:
    assert price_list_note(_source(_renewals([0.15] * 19) + _renewals([0.0] * 20))) is None
    # 25 of 275 renewals in the span (9%): under a tenth
    step = _renewals([0.15] * 25)
    assert price_list_note(_source(step + _renewals([0.0] * 250, per_day=10))) is None
    # the same 25 are a quarter of the renewals of their own span, whatever came before
    before = _renewals([0.0] * 250, start="2023-10-01")
    assert price_list_note(_source(step + _renewals([0.0] * 75, per_day=3) + before))


def test_an_indexation_of_most_renewals_is_left_to_the_price_rise_note() -> None:
    # every renewal 3% up: price_rise_note says it and names upsell_min_rise: 0.06
    con = _source(_renewals([0.03] * 30))
    assert price_rise_note(con) is not None
    assert price_list_note(con) is None
    # a 15% step beside it is not an indexation: said
    con = _source(_renewals([0.03] * 60) + _renewals([0.15] * 25, start="2024-10-02"))
    assert price_rise_note(con) is not None
    note = price_list_note(con)
    assert note is not None and "25 renewals from 02 Oct 2024" in note and "15.0%" in note
