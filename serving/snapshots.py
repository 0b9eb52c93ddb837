"""The features that scoring reads: every active account's features as of T, as numpy.

`FeatureStore` holds the snapshot at the source horizon (the latest time anything
happened in the source) and computes other `as_of` dates on demand, keeping a few. Files
(a directory's tables, or a DuckDB file attached read-only) are read where they lie, so
the store notes each file's size and modification time at start: a file changed
afterwards stops on-demand dates with a clear `SourceChangedError` (the latest snapshot,
already in memory, keeps serving) instead of mixing old and new data.

The touchpoints features count the touchpoints recorded through the service (the store's)
with the source's, each touchpoint once (`features.source.include_touchpoints`):
`from_source` takes them, and `FeatureStore.include_touchpoints` takes newer ones while
serving. Then only what touchpoints reach is computed again (`recount_touchpoints`): the
features that read them, for the accounts whose touchpoints changed, spliced into a copy
of the latest snapshot (tens of milliseconds where the whole snapshot takes seconds on
thousands of accounts: bench/bench_touchpoints.py); other dates are dropped, to be
computed anew on demand.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from features.times import utc_iso
from serving.id_forms import form_index, id_form
from serving.shared_drops import BookDrop

if TYPE_CHECKING:
    from features.compute import TableReaders
    from training.monitor.thresholds import TrackingThresholds
    from training.monitor.tracking import TrackingChange

ARR_FEATURE = "contract_arr"  # ARR of the current term with its add-ons
RENEWAL_FEATURE = "days_to_renewal"

logger = logging.getLogger(__name__)


class SourceChangedError(RuntimeError):
    """The source's files changed (or broke) after the service loaded them."""


def file_fingerprints(locations: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file behind the source's tables."""
    prints: dict[str, tuple[int, int]] = {}
    for location in locations.values():
        path = Path(location)
        files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                stat = file.stat()
                prints[str(file)] = (stat.st_size, stat.st_mtime_ns)
    return prints


def changed_files(before: dict[str, tuple[int, int]]) -> list[str]:
    """The files of `before` that changed or disappeared since (names only)."""
    changed = []
    for name, fingerprint in before.items():
        path = Path(name)
        try:
            stat = path.stat()
        except OSError:
            changed.append(path.name)
            continue
        if (stat.st_size, stat.st_mtime_ns) != fingerprint:
            changed.append(path.name)
    return changed


@dataclass(frozen=True)
class FeatureSnapshot:
    """The features of every active account as of one time, as a numpy matrix."""

    as_of: datetime
    account_ids: tuple[str, ...]
    feature_names: tuple[str, ...]
    matrix: np.ndarray  # (accounts, features), float64, NaN where unknown
    arr: np.ndarray  # (accounts,), NaN where unknown
    renewal_dates: tuple[datetime | None, ...]
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)  # features.facts, by id
    row: dict[str, int] = field(init=False, repr=False)  # account_id -> matrix row
    column: dict[str, int] = field(init=False, repr=False)  # feature -> matrix column

    def __post_init__(self) -> None:
        object.__setattr__(self, "row", {a: i for i, a in enumerate(self.account_ids)})
        object.__setattr__(self, "column", {f: j for j, f in enumerate(self.feature_names)})

    def find(self, account_id: str) -> str | None:
        """`account_id` as this snapshot holds it: itself, else the one id of its form.

        A form is the id in Unicode NFC, case-folded (`serving.id_forms`).
        """
        if account_id in self.row:
            return account_id
        return self._form_ids.get(id_form(account_id))

    @cached_property
    def _form_ids(self) -> dict[str, str]:  # built on the first id not found as given
        return form_index(self.account_ids)

    @cached_property
    def tracking_change(self) -> TrackingChange | None:
        """A change in how events are logged between the last 30 days and the 30 before.

        Events per active user moved the same way at most accounts while their people
        held (`training.monitor.tracking`, the monitor's thresholds). Asked once per
        snapshot; while it shows, scoring reads no event count as a reason (the twelfth
        audit: 202 of 600 stable accounts read "use halved in a month" after a tracking
        release halved every account's events).
        """
        from training.monitor.tracking import (
            EVENTS,
            EVENTS_CHANGE,
            USERS,
            USERS_CHANGE,
            recent_tracking_change,
        )

        names = (EVENTS, USERS, EVENTS_CHANGE, USERS_CHANGE)
        if any(n not in self.column for n in names):
            return None
        frame = pd.DataFrame({n: self.matrix[:, self.column[n]] for n in names})
        frame.insert(0, "as_of", pd.Timestamp(self.as_of))
        frame.insert(0, "account_id", list(self.account_ids))
        change = recent_tracking_change(frame, _tracking_thresholds())
        if change is not None:
            logger.warning(
                "%s While it shows (from the change to 30 days after it), no event count is a"
                " reason in the scores' drivers or the playbook's rules.",
                change.sentence(),
            )
        return change

    @cached_property
    def shared_drops(self) -> dict[str, BookDrop]:
        """Trends most accounts fell by in the same weeks, with the median account's value.

        A season or the holidays (`serving.shared_drops`); scoring reads each account's
        trend against the book's middle half where it reads reasons. Asked once per snapshot.
        """
        from features.definitions import FEATURES
        from serving.shared_drops import shared_drops

        drops = shared_drops(self.feature_names, self.matrix, {f.name: f.unit for f in FEATURES})
        if drops:
            logger.info(
                "Most accounts' use fell in the 30 days to %s (%s): each account's trend is"
                " read against the median account's in the drivers.",
                f"{self.as_of:%d %b %Y}",
                ", ".join(f"{n} {v.median:+.2f}" for n, v in sorted(drops.items())),
            )
        return drops


@cache
def _tracking_thresholds() -> TrackingThresholds:
    """The shipped `monitor.yaml`'s `tracking:` thresholds, read once per process."""
    from training.monitor.thresholds import load_thresholds

    return load_thresholds().tracking


def _arr_and_renewals(
    as_of: datetime, names: tuple[str, ...], matrix: np.ndarray
) -> tuple[np.ndarray, tuple[datetime | None, ...]]:
    """ARR and renewal dates from the `contract_arr` and `days_to_renewal` columns."""
    n = len(matrix)
    arr = matrix[:, names.index(ARR_FEATURE)] if ARR_FEATURE in names else np.full(n, np.nan)
    renewals: list[datetime | None] = [None] * n
    if RENEWAL_FEATURE in names:
        days = matrix[:, names.index(RENEWAL_FEATURE)]
        renewals = [None if np.isnan(d) else as_of + timedelta(days=float(d)) for d in days]
    return np.array(arr, dtype=np.float64), tuple(renewals)


def snapshot_from_frames(
    as_of: datetime, features: pd.DataFrame, facts: pd.DataFrame | None = None
) -> FeatureSnapshot:
    """Build a snapshot from a `compute_features` frame (`account_id`, `as_of`, features).

    ARR and the renewal date come from the `contract_arr` and `days_to_renewal` features;
    `facts` (`features.facts.compute_facts`) are the dated facts the drivers quote.
    """
    names = tuple(c for c in features.columns if c not in ("account_id", "as_of"))
    matrix_np = _matrix(features, names)
    arr, renewals = _arr_and_renewals(as_of, names, matrix_np)
    return FeatureSnapshot(
        as_of=as_of,
        account_ids=tuple(features["account_id"].astype(str)),
        feature_names=names,
        matrix=matrix_np,
        arr=arr,
        renewal_dates=renewals,
        facts={} if facts is None else _facts_by_account(facts),
    )


def _matrix(features: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    """The `names` columns of a `compute_features` frame as a float64 matrix, NaN unknown."""
    matrix = features[list(names)].apply(pd.to_numeric, errors="coerce")
    return np.ascontiguousarray(matrix.to_numpy(dtype=np.float64, na_value=np.nan))


def _facts_by_account(facts: pd.DataFrame) -> dict[str, dict[str, Any]]:
    columns = [c for c in facts.columns if c not in ("account_id", "as_of")]
    rows = facts[columns].astype(object).where(facts[columns].notna(), None)
    records: list[dict[str, Any]] = rows.to_dict("records")  # type: ignore[assignment]
    return dict(zip(facts["account_id"].astype(str), records, strict=True))


def build_snapshot(con: Any, as_of: datetime) -> FeatureSnapshot:
    """Compute the features of the accounts active at `as_of`."""
    from features.compute import compute_features
    from features.facts import compute_facts

    return snapshot_from_frames(as_of, compute_features(con, [as_of]), compute_facts(con, [as_of]))


def splice(snapshot: FeatureSnapshot, features: pd.DataFrame) -> FeatureSnapshot | None:
    """`snapshot` with the values of `features` (`compute_features` at its time) put in.

    Every feature column of `features` replaces the snapshot's values for the accounts it
    holds; every other value, the accounts and their order and the facts stay as they
    are (ARR and renewal dates follow their features). None when `features` holds an
    account or a feature the snapshot does not have, or another time.
    """
    names = tuple(c for c in features.columns if c not in ("account_id", "as_of"))
    ids = features["account_id"].astype(str)
    rows = [snapshot.row.get(account_id) for account_id in ids]
    columns = [snapshot.column.get(name) for name in names]
    times = pd.to_datetime(features["as_of"]).unique()
    if None in rows or None in columns or any(t != pd.Timestamp(snapshot.as_of) for t in times):
        return None
    matrix = snapshot.matrix.copy()
    matrix[np.ix_(np.asarray(rows, dtype=np.intp), np.asarray(columns, dtype=np.intp))] = _matrix(
        features, names
    )
    arr, renewals = snapshot.arr, snapshot.renewal_dates
    if {ARR_FEATURE, RENEWAL_FEATURE} & set(names):
        arr, renewals = _arr_and_renewals(snapshot.as_of, snapshot.feature_names, matrix)
    return FeatureSnapshot(
        as_of=snapshot.as_of,
        account_ids=snapshot.account_ids,
        feature_names=snapshot.feature_names,
        matrix=matrix,
        arr=arr,
        renewal_dates=renewals,
        facts=snapshot.facts,
    )


def changed_rows(before: FeatureSnapshot, after: FeatureSnapshot) -> np.ndarray | None:
    """The rows of `after` whose account reads differently than in `before`, for scoring.

    An account's score depends on its own row alone (features, ARR, renewal date, facts)
    and the snapshot's time, so these are the accounts to score again. Values are compared
    bit for bit (a NaN is its own). None when the two are not of the same time, accounts
    in the same order and features: every account is to be scored again.
    """
    if (
        before.as_of != after.as_of
        or before.account_ids != after.account_ids
        or before.feature_names != after.feature_names
        or before.matrix.shape != after.matrix.shape
    ):
        return None
    differ = (_bits(before.matrix) != _bits(after.matrix)).any(axis=1)
    differ |= _bits(before.arr) != _bits(after.arr)
    differ |= np.fromiter(
        (a != b for a, b in zip(before.renewal_dates, after.renewal_dates, strict=True)),
        dtype=bool,
        count=len(after.account_ids),
    )
    if after.facts is not before.facts:
        differ |= np.fromiter(
            (before.facts.get(a) != after.facts.get(a) for a in after.account_ids),
            dtype=bool,
            count=len(after.account_ids),
        )
    return np.flatnonzero(differ).astype(np.intp)


def _bits(values: np.ndarray) -> np.ndarray:
    """float64 values as their bit patterns, so that equal means the same (NaN included)."""
    return np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)


@cache
def _touchpoints_readers() -> TableReaders:
    """`features.compute.readers_of("touchpoints")`, found once (the catalogue is fixed)."""
    from features.compute import readers_of

    return readers_of("touchpoints")


def recount_touchpoints(
    con: Any, snapshot: FeatureSnapshot, accounts: Collection[str]
) -> FeatureSnapshot | None:
    """`snapshot` counting the touchpoints now in `con`, where those of `accounts` changed.

    Only what touchpoints reach is computed again, with the same SQL at the same time: the
    features that read them (`features.compute.readers_of`, found in the SQL: today the
    touchpoints family), and only for `accounts` when only the touchpoints source reads
    them (it counts each touchpoint at its own account, so no other account's values can
    move; else for every account). Everything else is the snapshot's as it is: the other
    features and the facts read no touchpoints, the spine neither, so the accounts and
    their order stay; spliced in (`splice`), the result equals the whole snapshot computed
    anew (tests/serving/test_touchpoint_splice.py).

    Why columns as well as rows: the account filter (`features_sql(..., accounts)`) only
    narrows the spine, and DuckDB does not push it into the event scans, so the whole
    catalogue for three accounts still took 0.99 s against 1.12 s for all 2,314 active
    accounts of a 3,000-account world; the touchpoints features read no events (17 ms for
    all accounts, about as much for three; 0.1 s and 0.05 s on 30,000 accounts, where the
    whole catalogue took 12 s). The facts would need a filter of their own and read no
    touchpoints: they are kept.

    Returns:
        The new snapshot; None when that cannot be done exactly here, and the whole snapshot
        is to be computed anew: another engine's connection (the account filter is
        DuckDB's), facts or the spine that read touchpoints, a result that does not fit.
    """
    import duckdb

    from features import facts
    from features.compute import compute_features

    if not isinstance(con, duckdb.DuckDBPyConnection):
        return None
    readers = _touchpoints_readers()
    if "spine" in readers.relations or facts.reads("touchpoints"):
        return None
    chosen = set(accounts) if readers.relations == {"src_touchpoints"} else None
    frame = compute_features(con, [snapshot.as_of], readers.inputs, chosen)
    names = ["account_id", "as_of", *(f.name for f in readers.features)]
    return splice(snapshot, frame[names])


def source_accounts(con: Any) -> frozenset[str]:
    """Every account id of the source's accounts table.

    Read with a cursor of its own: scoring may be using `con`.
    """
    cursor = con.cursor()
    try:
        rows = cursor.execute("SELECT account_id FROM accounts").fetchall()
    finally:
        cursor.close()
    return frozenset(str(row[0]) for row in rows)


def touchpoints_key(touchpoints: pd.DataFrame | None) -> frozenset[tuple[str, ...]]:
    """What of recorded touchpoints the features read (id, account, time, type), as a set."""
    if touchpoints is None or touchpoints.empty:
        return frozenset()
    columns = ["touchpoint_id", "account_id", "ts", "type"]
    rows = touchpoints[columns].astype(str).itertuples(index=False, name=None)
    return frozenset(rows)


class FeatureStore:
    """The loaded snapshot (`latest`: the source horizon), plus a cache of other `as_of` dates."""

    def __init__(
        self,
        latest: FeatureSnapshot,
        compute: Callable[[datetime], FeatureSnapshot] | None = None,
        cache_size: int = 8,
    ) -> None:
        self.latest = latest
        self.horizon = latest.as_of  # the data's end (`from_source`: `data_horizon`)
        self._compute = compute
        self._cache: OrderedDict[datetime, FeatureSnapshot] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.source: Any = None
        self.fingerprints: dict[str, tuple[int, int]] = {}
        self._source_lock = threading.Lock()  # from_source: the one lock of its connection
        self.touchpoints_key: frozenset[tuple[str, ...]] = frozenset()  # those counted now
        self._generation = 0  # bumped when the touchpoints counted change
        self._all_accounts: frozenset[str] | None = None  # the source's accounts table
        self._all_accounts_forms: tuple[frozenset[str], dict[str, str]] | None = None
        self._include_lock = threading.Lock()  # include_touchpoints: one at a time
        self._counting_until: datetime | None = None  # features.source.counting_until

    @property
    def data_error(self) -> str | None:
        """Why other `as_of` dates cannot be computed (source files changed), or None."""
        changed = changed_files(self.fingerprints)
        if not changed:
            return None
        return (
            f"source files changed since the service started ({', '.join(changed[:5])}); "
            "restart it to serve the new data"
        )

    @classmethod
    def from_source(
        cls,
        uri: str,
        as_of: datetime | None = None,
        cache_size: int = 8,
        touchpoints: pd.DataFrame | None = None,
    ) -> FeatureStore:
        """Load a source and compute its features as of `as_of` (default: its latest time).

        `touchpoints`: those recorded through the service (`store.Store.touchpoints()`),
        counted with the source's touchpoints table, each touchpoint once.

        Raises:
            ValueError: `as_of` is after the latest data in the source.
        """
        from features.source import counted_touchpoints, load_source

        source = load_source(uri, touchpoints)
        watched = dict(source.locations)
        database_file = getattr(source, "database_file", None)  # a DuckDB file, read in place
        if database_file is not None:
            watched[""] = database_file
        fingerprints = file_fingerprints(watched)
        lock = threading.Lock()  # one DuckDB connection: one query at a time

        def compute(when: datetime) -> FeatureSnapshot:
            changed = changed_files(fingerprints)
            if changed:
                raise SourceChangedError(
                    f"source files changed since the service started ({', '.join(changed[:5])}); "
                    "restart it to serve the new data"
                )
            with lock:
                return build_snapshot(source.con, when)

        from features.horizon import data_horizon, late_activity_warning, latest_data
        from serving.as_of import check_as_of

        with lock:
            horizon = data_horizon(source.con)  # the latest time in the source
            latest = latest_data(source.con)  # a table's late dates too: --as-of may go there
            warning = late_activity_warning(source.con, remedy=None) if as_of is None else None
        check_as_of(as_of, latest)  # the API's rule: nothing after the data
        if warning:
            logger.warning(warning)  # the data is read as ending before that table's dates
        as_of = horizon if as_of is None else as_of
        store = cls(compute(as_of), compute, cache_size)
        store.horizon = horizon  # logged with each score: one for an earlier as_of is a backfill
        store.source = source  # keeps the connection open for on-demand as_of
        store.fingerprints = fingerprints
        store._source_lock = lock
        with lock:
            store.touchpoints_key = touchpoints_key(counted_touchpoints(source, touchpoints))
            store._all_accounts = source_accounts(source.con)  # as of the fingerprints
        return store

    def include_touchpoints(self, touchpoints: pd.DataFrame | None) -> bool:
        """Count `touchpoints` (the store's, all of them) from now on; True if features changed.

        The latest snapshot is made again with them at the same time (the source's horizon
        does not move): the features that read touchpoints computed again for the accounts
        whose counted touchpoints changed and spliced into a copy of it
        (`recount_touchpoints`), or, where that cannot be done exactly (Spark), the whole
        snapshot computed anew. The other dates are dropped, to be computed anew on demand.
        Nothing happens when they are the ones already counted, or when this store has no
        source of its own (features given as they are). Calls are taken one at a time, each
        against the touchpoints the last one counted.

        Raises:
            SourceChangedError: the source's files changed since start (nothing is changed:
                the old latest snapshot keeps serving).
        """
        from features.source import counted_touchpoints, counting_until, include_touchpoints

        with self._include_lock:  # one include at a time: each diffs against the last
            if self.source is None or self._compute is None:
                return False
            with self._source_lock:  # only those that count: one recorded today changes nothing
                if self._counting_until is None:  # the same while the files are (checked below)
                    self._counting_until = counting_until(self.source)
                until = self._counting_until
                counted = counted_touchpoints(self.source, touchpoints, until)
            key = touchpoints_key(counted)
            if key == self.touchpoints_key:
                return False
            changed = changed_files(self.fingerprints)
            if changed:
                raise SourceChangedError(
                    f"source files changed since the service started ({', '.join(changed[:5])}); "
                    "restart it to serve the new data"
                )
            accounts = {row[1] for row in key ^ self.touchpoints_key}  # those counted differently
            with self._source_lock:
                include_touchpoints(self.source, counted, until)
                latest = recount_touchpoints(self.source.con, self.latest, accounts)
            if latest is None:
                latest = self._compute(self.latest.as_of)
            with self._lock:
                self.latest = latest
                self._cache.clear()
                self._generation += 1  # a date being computed meanwhile is not kept
                self.touchpoints_key = key
            return True

    def knows(self, account_id: str) -> bool | None:
        """Whether `account_id` is an account of the data: active now, or in its accounts table.

        `from_source` reads the accounts table once at start, beside the files' fingerprints;
        a source given later is read on first use. None when that read fails (the files
        changed or went away since start): the latest snapshot keeps serving, and whether
        an id it lacks exists cannot be told. Without a source of its own (features given
        as they are) only the latest snapshot's accounts are known.
        """
        if account_id in self.latest.row:
            return True
        if self.source is None:
            return False
        if self._all_accounts is None:
            try:
                self._all_accounts = source_accounts(self.source.con)
            except Exception:  # noqa: BLE001 - an unreadable source: the snapshot still serves
                return None
        return account_id in self._all_accounts

    def spelling(self, account_id: str) -> str:
        """`account_id` as the data holds it (`serving.id_forms`), or as given if not found.

        The latest snapshot's ids first, then the source's accounts table; an exact match
        always wins.
        """
        found = self.latest.find(account_id)
        if found is None and self.knows(account_id) is False and self._all_accounts:
            accounts = self._all_accounts
            if self._all_accounts_forms is None or self._all_accounts_forms[0] is not accounts:
                self._all_accounts_forms = (accounts, form_index(accounts))
            found = self._all_accounts_forms[1].get(id_form(account_id))
        return account_id if found is None else found

    def is_loaded(self, as_of: datetime | None) -> bool:
        """Whether features as of `as_of` are ready (no computing needed)."""
        return as_of is None or as_of == self.latest.as_of or as_of in self._cache

    def snapshot(self, as_of: datetime | None = None) -> FeatureSnapshot:
        """The snapshot for `as_of` (default: the latest), computing it on first use."""
        if as_of is None or as_of == self.latest.as_of:
            return self.latest
        with self._lock:
            if as_of in self._cache:
                self._cache.move_to_end(as_of)
                return self._cache[as_of]
        if self._compute is None:
            raise LookupError(f"features as of {utc_iso(as_of)} are not available")
        generation = self._generation
        snapshot = self._compute(as_of)
        with self._lock:
            if generation != self._generation:  # computed with touchpoints since replaced
                return snapshot
            self._cache[as_of] = snapshot
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return snapshot
