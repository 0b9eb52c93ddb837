"""validate's notes on changes dated inside the data, on small hand-made tables.

The twelfth audit's company changed its price list on 1 Oct 2024 (415 renewals rose by
exactly 15% per seat, and the upsell labels went from 0.18 to over 0.5 positive) and had
60 accounts imported late (paying since early 2023, no event until 1 Jul 2024); validate
said nothing of either.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
from typer.testing import CliRunner

from features.contract import TABLES
from features.dated_notes import price_list_note, silent_accounts_note
from features.validate import price_rise_note
from retain.cli import app
from tests.support import write_tables
from tests.support.tables import typed_connection

COLUMNS = list(TABLES["subscriptions"].column_names)
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


# --- accounts in force with no product use --------------------------------------------


def _days(first: str, last: str, account: str) -> pd.DataFrame:
    """One event a day at noon for `account`, from `first` to `last`."""
    days = pd.date_range(first, last, freq="D") + pd.Timedelta(hours=12)
    return pd.DataFrame({"ts": days, "account_id": account, **EVENT})


def _term(key: str, account: str, start: str, end: str, kind: str = "new") -> tuple:
    return (key, account, kind, start, end, 1000.0, 10, "pro", None)


def _world(
    terms: list[tuple], events: list[pd.DataFrame], busy: bool = True
) -> dict[str, pd.DataFrame]:
    """Tables whose `busy` account has a term and an event every day of 2023 and 2024."""
    if busy:
        terms = [_term("busy-1", "busy", "2023-01-01", "2025-06-01"), *terms]
        events = [_days("2023-01-01", "2024-12-31", "busy"), *events]
    subscriptions = _subscriptions(terms)
    ids = sorted(set(subscriptions["account_id"]))
    created = pd.Timestamp("2023-01-01")
    accounts = pd.DataFrame({"account_id": ids, "created_at": created})
    users = pd.DataFrame(
        {"user_id": ["u1"], "account_id": [ids[0]], "is_key_user": [True], "created_at": created}
    )
    return {
        "accounts": accounts,
        "subscriptions": subscriptions,
        "users": users,
        "events": pd.concat(events, ignore_index=True),
    }


def _silent(terms: list[tuple], events: list[pd.DataFrame], busy: bool = True) -> str | None:
    return silent_accounts_note(typed_connection(_world(terms, events, busy)))


LATE = [  # imported late: two back-to-back terms from 2023, events from 1 Jul 2024
    _term("late-1", "late", "2023-01-01", "2024-01-01"),
    _term("late-2", "late", "2024-01-01", "2025-01-01", kind="renewal"),
]


def test_accounts_with_no_event_for_months_in_force_are_named_with_their_stretch() -> None:
    terms = [
        *LATE,
        _term("gap-1", "gap", "2023-01-01", "2025-01-01"),  # quiet from 1 Apr to 30 Sep 2023
        _term("none-1", "none", "2023-03-01", "2023-12-01"),  # no event at all, then gone
    ]
    events = [
        _days("2024-07-01", "2024-12-31", "late"),
        _days("2023-01-01", "2023-03-31", "gap"),
        _days("2023-10-01", "2024-12-31", "gap"),
    ]
    note = _silent(terms, events)
    assert note is not None
    assert note.startswith(
        "Note: 3 accounts had a term in force for 90 days or more with no product event"
        " while other accounts' events were recorded ('late' from 01 Jan 2023 to 30 Jun 2024,"
        " 'none' from 01 Mar 2023 to 30 Nov 2023, 'gap' from 01 Apr 2023 to 30 Sep 2023;"
        " 1 of them with no event at all)"
    )
    assert "usage features read no use" in note and "import them" in note
    assert "`retain" not in note  # no command trains from after the stretch: import them


def test_events_from_the_first_day_short_gaps_and_a_silence_to_the_end_say_nothing() -> None:
    terms = [
        _term("on-time-1", "on-time", "2023-06-01", "2025-01-01"),  # events from day one
        _term("short-1", "short", "2023-01-01", "2025-01-01"),  # 89 quiet days
        _term("quiet-1", "quiet", "2023-01-01", "2025-06-01"),  # quiet to the end of data
        _term("back-1", "back", "2023-01-01", "2023-04-01"),  # left and came back: the
        _term("back-2", "back", "2024-01-01", "2025-01-01"),  # quiet months were not paid
    ]
    events = [
        _days("2023-06-01", "2024-12-31", "on-time"),
        _days("2023-01-01", "2023-03-31", "short"),
        _days("2023-06-29", "2024-12-31", "short"),
        _days("2023-01-01", "2024-08-31", "quiet"),
        _days("2023-01-01", "2023-03-31", "back"),
        _days("2024-01-01", "2024-12-31", "back"),
    ]
    assert _silent(terms, events) is None
    assert _silent([*terms, *LATE], [*events, _days("2024-07-01", "2024-12-31", "late")])


def test_events_that_start_late_or_stop_for_every_account_are_not_about_any_one() -> None:
    late_for_all = [_days("2024-07-01", "2024-12-31", a) for a in ("late", "other")]
    other = _term("other-1", "other", "2023-01-01", "2025-01-01")
    assert _silent([*LATE, other], late_for_all, busy=False) is None
    # ... but an account whose events start three months after everyone's is named, for
    # the months the others' events cover
    later = [*late_for_all[1:], _days("2024-10-01", "2024-12-31", "late")]
    note = _silent([*LATE, other], later, busy=False)
    assert note is not None and "('late' from 01 Jul 2024 to 30 Sep 2024)" in note
    # a 120-day hole in the export for everyone (one event left in it) is no account's
    hole = [
        _days(first, last, account)
        for account in ("late", "other")
        for first, last in (("2023-01-01", "2023-04-30"), ("2023-08-29", "2024-12-31"))
    ]
    trickle = _days("2023-06-30", "2023-06-30", "other")
    assert _silent([*LATE, other], [*hole, trickle], busy=False) is None


def test_validate_says_both_notes_on_a_directory_of_event_files(tmp_path: Path) -> None:
    step = _renewals([0.15] * 20)  # each account with an event on its first day
    used = [_days(start, start, account) for _, account, kind, start, *_ in step if kind == "new"]
    tables = _world([*LATE, *step], [_days("2024-07-01", "2024-12-31", "late"), *used])
    for name, frame in tables.items():  # every contract column, nullable ones empty
        tables[name] = frame.reindex(columns=list(TABLES[name].column_names))
    events = tables.pop("events")
    directory = write_tables(tables, tmp_path / "source", "csv")
    (directory / "events").mkdir()
    for month, part in events.groupby(events["ts"].dt.strftime("%Y-%m")):
        part.to_parquet(directory / "events" / f"{month}.parquet", index=False)
    result = CliRunner().invoke(app, ["validate", "--data", str(directory)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "Note: 20 renewals from 01 Oct 2024 to 20 Oct 2024 rose by 15.0%" in said
    assert "Note: 1 account had a term in force for 90 days or more" in said
    assert "('late' from 01 Jan 2023 to 30 Jun 2024)" in said
