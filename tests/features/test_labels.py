# mypy: disable-error-code="arg-type,assignment,call-overload"
"""Churn and upsell labels on hand-made contracts with known answers."""

from __future__ import annotations

from datetime import datetime

import duckdb
import numpy as np
import pandas as pd
import pytest

from features.dataset import build_dataset
from features.horizon import data_horizon
from features.labels import compute_labels
from tests.support.tables import typed_connection


def _subscriptions() -> pd.DataFrame:
    rows = [
        # a: renewed in 2024 with a price uplift, churned at the end of 2024
        ("a1", "a", "new", "2023-01-01", "2024-01-01", 100.0, "renewed"),
        ("a2", "a", "expansion", "2023-06-01", "2024-01-01", 10.0, None),
        ("a3", "a", "renewal", "2024-01-01", "2025-01-01", 150.0, "churned"),
        # b: renewed flat (no uplift: 110 = 100 + 10 expansion), then open
        ("b1", "b", "new", "2023-01-01", "2024-01-01", 100.0, "renewed"),
        ("b2", "b", "expansion", "2023-03-01", "2024-01-01", 10.0, None),
        ("b3", "b", "renewal", "2024-01-01", "2025-01-01", 110.0, None),
        # c: term open beyond the horizon, with a mid-term expansion in 2024-05
        ("c1", "c", "new", "2023-07-01", "2025-09-01", 200.0, None),
        ("c2", "c", "expansion", "2024-05-01", "2025-09-01", 50.0, None),
    ]
    columns = ["subscription_id", "account_id", "kind", "start_date", "end_date", "arr", "outcome"]
    return pd.DataFrame(rows, columns=columns)


def _con(
    horizon_event: str = "2025-03-01", users: pd.DataFrame | None = None
) -> duckdb.DuckDBPyConnection:
    accounts = pd.DataFrame({"account_id": ["a", "b", "c"], "created_at": ["2023-01-01"] * 3})
    events = pd.DataFrame(
        {"ts": [horizon_event], "account_id": ["a"], "module": ["m"], "event_type": ["view"]}
    )
    tables = {"accounts": accounts, "subscriptions": _subscriptions(), "events": events}
    return typed_connection(tables | ({} if users is None else {"users": users}))


def _labels(as_of: str) -> pd.DataFrame:
    return compute_labels(_con(), [datetime.fromisoformat(as_of)]).set_index("account_id")


def test_horizon_is_latest_observation_not_open_contract_end() -> None:
    assert data_horizon(_con()) == datetime(2025, 3, 1)


def test_a_kpi_target_planned_ahead_does_not_move_the_horizon() -> None:
    # A second audit's export held next quarter's KPI targets with no actual yet: the
    # horizon jumped to their period end, `retain score` scored as of that future date
    # (dropping every account whose term ended before it) and upsell labels were set to 0
    # before their 180 days had passed.
    accounts = pd.DataFrame({"account_id": ["a", "b", "c"], "created_at": ["2023-01-01"] * 3})
    events = pd.DataFrame(
        {"ts": ["2025-03-01"], "account_id": ["a"], "module": ["m"], "event_type": ["view"]}
    )
    outcomes = pd.DataFrame(
        {
            "account_id": ["a", "a"],
            "period_end": ["2024-12-31", "2025-06-30"],
            "kpi": ["hours_saved", "hours_saved"],
            "target": [100.0, 100.0],
            "actual": [80.0, None],
        }
    )
    con = typed_connection(
        {
            "accounts": accounts,
            "subscriptions": _subscriptions(),
            "events": events,
            "outcomes": outcomes,
        }
    )
    assert data_horizon(con) == datetime(2025, 3, 1)


def test_churn_label_is_outcome_of_the_current_term() -> None:
    labels = _labels("2023-08-01")
    assert labels.loc["a", "churn"] == 0 and labels.loc["b", "churn"] == 0
    assert pd.isna(labels.loc["c", "churn"])  # outcome still open
    assert labels.loc["a", "renewal_date"] == pd.Timestamp("2024-01-01")
    later = _labels("2024-06-01")
    assert later.loc["a", "churn"] == 1 and pd.isna(later.loc["b", "churn"])


def test_upsell_from_renewal_uplift_and_expansions() -> None:
    labels = _labels("2023-08-01")
    # a renews at 150 > 100 + 10 inside (T, T+180d]; b renews at 110, no uplift.
    assert labels.loc["a", "upsell"] == 1
    assert labels.loc["b", "upsell"] == 0
    assert labels.loc["c", "upsell"] == 0  # c's expansion (2024-05-01) is 274 days away
    assert _labels("2024-01-01").loc["c", "upsell"] == 1
    # T + 180 days beyond the horizon (2025-03-01) and nothing seen: unknown
    assert pd.isna(_labels("2024-10-01").loc["c", "upsell"])


def test_arr_includes_active_expansions() -> None:
    assert _labels("2023-08-01").loc["a", "arr"] == 110
    assert _labels("2024-06-01").loc["c", "arr"] == 250


def test_upsell_window_bounds() -> None:
    # expansion on 2024-05-01: T exactly 180 days before is inside, the day of is not
    assert _labels("2023-11-03").loc["c", "upsell"] == 1
    assert _labels("2023-11-02").loc["c", "upsell"] == 0
    assert _labels("2024-05-01").loc["c", "upsell"] == 0


def test_dataset_drops_rows_with_both_labels_unknown() -> None:
    con = _con()
    dataset = build_dataset(con, "2023-02-01", "2024-12-01", every="1M")
    assert not dataset[["churn", "upsell"]].isna().all(axis=1).any()
    keys = set(zip(dataset["account_id"], dataset["as_of"], strict=True))
    # c in Dec 2024: churn unknown (open term), upsell unknown (window past horizon)
    assert ("c", pd.Timestamp("2024-12-01")) not in keys
    # b in Dec 2024: churn open, and T + 180 days is past the horizon: both unknown
    assert ("b", pd.Timestamp("2024-12-01")) not in keys
    # a in Dec 2024: churn known (1), upsell unknown: kept with NaN
    row = dataset[(dataset["account_id"] == "a") & (dataset["as_of"] == "2024-12-01")]
    assert len(row) == 1 and row["churn"].iloc[0] == 1 and np.isnan(row["upsell"].iloc[0])
    assert {"events_30d", "contract_arr", "churn", "upsell", "arr", "renewal_date"} <= set(dataset)
    assert dataset["as_of"].dt.day.eq(1).all()


@pytest.mark.parametrize("every", ["2W", "7D"])
def test_dataset_other_steps(every: str) -> None:
    dataset = build_dataset(_con(), "2024-01-01", "2024-03-01", every=every)
    step = pd.Timedelta(days=14 if every == "2W" else 7)
    stamps = sorted(dataset["as_of"].unique())
    assert all(b - a == step for a, b in zip(stamps, stamps[1:], strict=False))


def _monthly_con() -> duckdb.DuckDBPyConnection:
    """Monthly terms whose only growth happens at renewals; a seat dropped and taken back."""
    months = pd.date_range("2023-07-01", "2025-01-01", freq="MS")
    arr = [90.0 if m == pd.Timestamp("2024-04-01") else 120.0 if m >= pd.Timestamp("2024-09-01")
           else 100.0 for m in months[:-1]]  # fmt: skip
    subscriptions = pd.DataFrame(
        {
            "subscription_id": [f"m{i:02d}" for i in range(len(arr))] + ["s1", "s2"],
            "account_id": ["m"] * len(arr) + ["s", "s"],
            "kind": ["new"] + ["renewal"] * (len(arr) - 1) + ["new", "renewal"],
            "start_date": [m.date() for m in months[:-1]] + ["2023-01-01", "2024-01-01"],
            "end_date": [m.date() for m in months[1:]] + ["2024-01-01", "2025-01-01"],
            "arr": arr + [100.0, 100.0],
            "seats": [int(a // 10) for a in arr] + [10, 12],  # s: two more seats, same price
            "outcome": ["renewed"] * (len(arr) - 1) + [None, "renewed", None],
        }
    )
    accounts = pd.DataFrame({"account_id": ["m", "s"], "created_at": ["2023-01-01"] * 2})
    events = pd.DataFrame(
        {"ts": ["2025-03-01"], "account_id": ["m"], "module": ["x"], "event_type": ["view"]}
    )
    return typed_connection(
        {"accounts": accounts, "subscriptions": subscriptions, "events": events}
    )


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2024-01-01", 0.0),  # the seat dropped in April comes back in May: no growth
        ("2024-04-01", 1.0),  # growth to 120 at the September renewal
        ("2024-09-01", 0.0),  # flat at 120 afterwards, though above 180 days earlier
    ],
)
def test_monthly_terms_count_growth_against_the_arr_180_days_earlier(as_of, expected) -> None:
    labels = compute_labels(_monthly_con(), [datetime.fromisoformat(as_of)]).set_index("account_id")
    assert labels.loc["m", "upsell"] == expected


def test_seat_growth_at_renewal_is_an_upsell_even_at_the_same_price() -> None:
    labels = compute_labels(_monthly_con(), [datetime(2023, 8, 1)]).set_index("account_id")
    assert labels.loc["s", "upsell"] == 1


def _with_term(con: duckdb.DuckDBPyConnection, row: tuple[object, ...]) -> None:
    """Add one subscription row (the columns of `_subscriptions`) to the source."""
    con.register("added", pd.DataFrame([row], columns=_subscriptions().columns))
    con.execute("INSERT INTO subscriptions BY NAME SELECT * FROM added")


BOOKED = ("b4", "b", "renewal", "2025-06-01", "2026-06-01", 120.0, None)  # signed ahead


def test_a_renewal_booked_ahead_does_not_move_the_horizon() -> None:
    # The second audit's export held renewals signed ahead: rows starting at their term's
    # end, weeks after the last event. The horizon jumped to the latest such start and
    # every account was scored on empty usage windows (mean churn 0.22 -> 0.30).
    con = _con()
    _with_term(con, BOOKED)
    assert data_horizon(con) == datetime(2025, 3, 1)


def test_a_term_starting_the_day_after_the_last_observation_still_counts() -> None:
    # An export taken at midnight: the renewal that starts that morning is the data's end.
    con = _con(horizon_event="2025-03-01 17:45:00")
    _with_term(con, ("c3", "c", "renewal", "2025-03-02", "2026-03-02", 210.0, None))
    assert data_horizon(con) == datetime(2025, 3, 2)


def test_the_horizon_holds_an_event_stamped_in_nanoseconds() -> None:
    # pandas writes Parquet timestamps in nanoseconds; cut to microseconds, the horizon
    # fell just before the latest event, which then left the latest snapshot.
    con = _con()
    stamped = pd.DataFrame(
        {
            "ts": [pd.Timestamp("2025-03-01 10:00:00.123456789")],
            "account_id": ["a"],
            "module": ["m"],
            "event_type": ["view"],
        }
    )
    con.execute("DROP TABLE events")  # the source's own column type: nanoseconds
    con.register("stamped", stamped)
    con.execute(
        "CREATE TABLE events AS SELECT CAST(ts AS TIMESTAMP_NS) AS ts, * EXCLUDE (ts) FROM stamped"
    )
    horizon = pd.Timestamp(data_horizon(con))
    assert horizon >= stamped["ts"].max()
    assert horizon == pd.Timestamp("2025-03-01 10:00:00.123457")


def test_validate_notes_rows_booked_ahead_and_says_they_do_not_move_the_end() -> None:
    from features.validate import booked_ahead_note

    assert booked_ahead_note(_con()) is None
    con = _con()
    _with_term(con, BOOKED)
    note = booked_ahead_note(con)
    assert note is not None
    assert "1 subscription row starts after the end of the data (2025-03-01T00:00:00Z)" in note
    assert "the last on 01 Jun 2025" in note and "do not move" in note


def test_a_login_scheduled_to_end_ahead_does_not_move_the_horizon() -> None:
    # The third audit's export held three users with `deactivated_at` up to 19 days after
    # the last event (logins scheduled to end). The horizon jumped there, and `retain
    # score` scored 7 of the 104 accounts in force, all on empty usage windows: with
    # monthly terms, every term ending before that date had no successor yet.
    users = pd.DataFrame(
        {
            "user_id": ["u1", "u2"],
            "account_id": ["a", "b"],
            "is_key_user": [True, False],
            "created_at": ["2024-01-01", "2024-01-01"],
            "deactivated_at": ["2025-03-20", "2025-03-01 12:00:00"],
        }
    )
    con = _con(users=users)
    # the deactivation within a day of the last event still counts; the one ahead does not
    assert data_horizon(con) == datetime(2025, 3, 1, 12)


def test_a_user_provisioned_ahead_does_not_move_the_horizon_and_validate_notes_it() -> None:
    # The fourth audit's export ended 31 Dec 2025, but 14 users were created in January
    # 2026 (logins provisioned for starters). Everything ran as of 14 Jan: 66 accounts left
    # the scores, every account showed two weeks without use, and `validate` said nothing.
    from features.validate import booked_ahead_note

    users = pd.DataFrame(
        {
            "user_id": ["u1", "u2"],
            "account_id": ["a", "b"],
            "created_at": ["2024-01-01", "2025-03-14"],
        }
    )
    con = _con(users=users)
    con.execute("INSERT INTO accounts BY NAME SELECT 'd' AS account_id,"
                " TIMESTAMP '2025-04-01' AS created_at")  # fmt: skip
    assert data_horizon(con) == datetime(2025, 3, 1)
    note = booked_ahead_note(con)
    assert note is not None
    assert (
        "1 user created after the end of the data (2025-03-01T00:00:00Z), the last on 14 Mar"
        in note
    )
    assert "1 account created after the end of the data" in note and "do not move" in note
    assert "subscription" not in note


def test_validate_notes_two_terms_in_force_at_once() -> None:
    # The third audit's export had a second product as its own monthly `new`/`renewal`
    # terms: the account's ARR and renewal date were the add-on's, with nothing said.
    from features.validate import concurrent_terms_note

    assert concurrent_terms_note(_con()) is None  # expansions overlap their term: fine
    con = _con()
    _with_term(con, ("c9", "c", "new", "2024-06-01", "2025-06-01", 40.0, None))
    note = concurrent_terms_note(con)
    assert note is not None
    assert note.startswith("Note: 1 account has two or more new/renewal terms in force at once")
    assert "'c'" in note and "`expansion` row" in note


def test_validate_notes_tickets_left_open_for_over_a_year() -> None:
    # The scale audit's world left a tenth of its tickets without a close date: the
    # drivers cited "urgent tickets open, the oldest for 519 days" and validate said nothing.
    from features.validate import stale_tickets_note

    assert stale_tickets_note(_con()) is None  # no tickets table
    accounts = pd.DataFrame({"account_id": ["a", "b", "c"], "created_at": ["2023-01-01"] * 3})
    events = pd.DataFrame(
        {"ts": ["2025-03-01"], "account_id": ["a"], "module": ["m"], "event_type": ["view"]}
    )
    tickets = pd.DataFrame(
        {
            "ticket_id": ["t1", "t2", "t3", "t4"],
            "account_id": ["a", "a", "b", "c"],
            "opened_at": ["2023-06-01", "2024-02-01", "2024-02-27", "2023-01-05"],
            "closed_at": [None, None, None, "2023-01-09"],
            "priority": ["urgent", "low", "high", "normal"],
            "category": ["bug"] * 4,
        }
    )
    tables = {"accounts": accounts, "subscriptions": _subscriptions(), "events": events}
    note = stale_tickets_note(typed_connection(tables | {"tickets": tickets}))
    assert note is not None
    # t3 was opened 367 days before the end: stale; the closed one and none newer count
    assert note.startswith("Note: 3 of 4 tickets (75%, at 2 accounts) have no closed_at")
    assert "the oldest on 01 Jun 2023" in note and "give them their closed_at" in note
    recent = tickets.assign(opened_at=["2025-01-01", "2024-12-01", "2025-02-01", "2023-01-05"])
    assert stale_tickets_note(typed_connection(tables | {"tickets": recent})) is None


def test_validate_notes_accounts_whose_last_term_ended_with_no_outcome() -> None:
    # The seventh audit: renewals the CRM had not booked yet (end_date passed, outcome null)
    # dropped 6 of 90 accounts out of scores and plans, and validate said the data was fine.
    from features.validate import lapsed_terms_note

    note = lapsed_terms_note(_con())  # b's renewal ended on 1 Jan 2025, horizon 1 Mar 2025
    assert note is not None
    assert note.startswith("Note: 1 account's latest term ended by the end of the data")
    assert "('b' ended 01 Jan 2025)" in note  # a churned (known), c is still in force
    assert "record the outcome, or the renewal row" in note
    con = _con()
    _with_term(con, ("b4", "b", "renewal", "2025-01-01", "2026-01-01", 120.0, None))
    assert lapsed_terms_note(con) is None  # the renewal is booked: b has a term in force
    assert lapsed_terms_note(_con(horizon_event="2024-12-15")) is None  # not ended yet


def test_validate_notes_an_expansion_running_past_its_term() -> None:
    # The eleventh audit: an expansion ending 200 days after its term was read as ARR of the
    # next term too (contract_arr 21,032 instead of 18,754), with nothing said.
    from features.validate import expansions_past_term_note

    assert expansions_past_term_note(_con()) is None  # every expansion ends with its term
    con = _con()
    _with_term(con, ("c3", "c", "expansion", "2024-06-01", "2026-03-01", 5.0, None))
    note = expansions_past_term_note(con)
    assert note is not None
    assert note.startswith("Note: 1 expansion row ends after the term in force at its start")
    assert "'c3' ends 01 Mar 2026, its term 01 Sep 2025" in note


def test_validate_notes_a_renewal_that_starts_after_a_gap() -> None:
    # The eleventh audit: a return eight months after a churn, written as `renewal`,
    # counted in the account's renewals with nothing said.
    from features.validate import renewal_after_gap_note

    assert renewal_after_gap_note(_con()) is None  # every renewal follows its term at once
    con = _con()
    _with_term(con, ("a4", "a", "renewal", "2025-09-01", "2026-09-01", 90.0, None))
    note = renewal_after_gap_note(con)
    assert note is not None
    assert note.startswith("Note: 1 renewal row starts more than 31 days after")
    assert "'a4' of 'a' starts 01 Sep 2025 after a term ending 01 Jan 2025" in note
    assert "a `new` row" in note
    con = _con()
    _with_term(con, ("a4", "a", "renewal", "2025-01-20", "2026-01-20", 90.0, None))
    assert renewal_after_gap_note(con) is None  # 19 days late: booked late, not a return


@pytest.mark.parametrize(
    ("price", "min_rise", "upsell"),
    [(113.3, 0.0, 1.0), (113.3, 0.05, 0.0), (121.0, 0.05, 1.0), (110.0, 0.0, 0.0)],
)
def test_a_price_indexation_is_no_upsell_with_a_minimum_rise(price, min_rise, upsell) -> None:
    # The eleventh audit's 0-5% yearly price uplift made 59% of its snapshots upsell
    # positives; `upsell_min_rise` leaves rises up to that share out (seats still count).
    con = _con()
    _with_term(con, ("b4", "b", "renewal", "2025-01-01", "2026-01-01", price, None))
    labels = compute_labels(con, [datetime(2024, 9, 1)], upsell_min_rise=min_rise)
    assert labels.set_index("account_id").loc["b", "upsell"] == upsell


def test_the_minimum_rise_must_be_a_share_below_one() -> None:
    with pytest.raises(ValueError, match="min_rise"):
        compute_labels(_con(), [datetime(2024, 9, 1)], upsell_min_rise=1.5)


def test_validate_notes_renewals_priced_a_little_higher_as_an_indexation() -> None:
    from features.validate import price_rise_note

    def source(rises: list[float]) -> duckdb.DuckDBPyConnection:
        ids = [f"x{i}" for i in range(len(rises))]
        rows = [(f"{a}-1", a, "new", "2023-01-01", "2024-01-01", 100.0, None) for a in ids]
        rows += [
            (f"{a}-2", a, "renewal", "2024-01-01", "2025-01-01", 100.0 * (1 + r), None)
            for a, r in zip(ids, rises, strict=True)
        ]
        columns = _subscriptions().columns
        accounts = pd.DataFrame({"account_id": ids, "created_at": ["2023-01-01"] * len(ids)})
        events = pd.DataFrame(
            {"ts": ["2024-06-01"], "account_id": [ids[0]], "module": ["m"], "event_type": ["view"]}
        )
        tables = {"accounts": accounts, "events": events}
        return typed_connection(tables | {"subscriptions": pd.DataFrame(rows, columns=columns)})

    note = price_rise_note(source([0.03] * 12 + [0.0] * 4 + [0.2] * 4))
    assert note is not None
    assert note.startswith("Note: 12 of 20 renewals (60%) are priced up to 6% above")
    assert "`upsell_min_rise: 0.06`" in note
    assert price_rise_note(source([0.03] * 9 + [0.2] * 11)) is None  # under half
    assert price_rise_note(source([0.03] * 19)) is None  # too few renewals to say
    assert price_rise_note(_con()) is None


def test_a_note_lists_three_examples_and_counts_the_rest() -> None:
    from features.validate import _first_three

    assert _first_three(["a", "b"]) == "a, b"
    assert _first_three(["a", "b", "c", "d", "e"]) == "a, b, c and 2 more"


def test_the_two_terms_note_says_when_a_term_is_written_twice() -> None:
    # The fourteenth audit's export held renewals issued again under a new id (same dates
    # and ARR): the note spoke only of a second product.
    from features.validate import concurrent_terms_note

    con = _con()
    _with_term(con, ("c9", "c", "new", "2024-06-01", "2025-06-01", 40.0, None))
    note = concurrent_terms_note(con)
    assert note is not None and "written twice" not in note  # another product: as before
    con = _con()
    _with_term(con, ("c9", "c", "new", "2024-06-01", "2025-06-01", 40.0, None))
    _with_term(con, ("INV-b3", "b", "renewal", "2024-01-01", "2025-01-01", 110.0, None))
    note = concurrent_terms_note(con)
    assert note is not None and note.startswith("Note: 2 accounts have two or more")
    assert note.endswith(
        " At 1 of them two rows have the same kind, dates and ARR (e.g. 'INV-b3' and 'b3'):"
        " one term written twice (an invoice issued again, a row loaded twice) reads so too;"
        " if so, remove the copy."
    )


def test_a_flat_renewal_is_no_upsell_by_rounding() -> None:
    """The twentieth audit: 1234.1 + 5678.7 reads 6912.799999999999 in floating point, so a
    renewal at exactly the old term plus its expansion (6912.8) counted as an upsell."""
    rows = [
        ("d1", "d", "new", "2023-01-01", "2024-01-01", 1234.1, "renewed"),
        ("d2", "d", "expansion", "2023-06-01", "2024-01-01", 5678.7, None),
        ("d3", "d", "renewal", "2024-01-01", "2025-01-01", 6912.8, None),
        ("e1", "e", "new", "2023-01-01", "2024-01-01", 1234.1, "renewed"),
        ("e2", "e", "expansion", "2023-06-01", "2024-01-01", 5678.7, None),
        ("e3", "e", "renewal", "2024-01-01", "2025-01-01", 6912.81, None),  # a cent more
    ]
    columns = ["subscription_id", "account_id", "kind", "start_date", "end_date", "arr", "outcome"]
    accounts = pd.DataFrame({"account_id": ["d", "e"], "created_at": ["2023-01-01"] * 2})
    events = pd.DataFrame(
        {"ts": ["2025-03-01"], "account_id": ["d"], "module": ["m"], "event_type": ["view"]}
    )
    con = typed_connection(
        {"accounts": accounts, "subscriptions": pd.DataFrame(rows, columns=columns),
         "events": events}
    )  # fmt: skip
    labels = compute_labels(con, [datetime(2023, 8, 1)]).set_index("account_id")
    assert labels.loc["d", "upsell"] == 0
    assert labels.loc["e", "upsell"] == 1
