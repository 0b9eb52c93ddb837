"""What the account page shows beyond the score: measures, key users, KPIs, touchpoints, chart.

Measures come from the served feature snapshot next to the healthy accounts' typical value;
key users, KPI results and the source's touchpoints are read from the source as of the
snapshot; touchpoints recorded through the service come from the store (each id once,
`store.combine_touchpoints`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from serving import explain

MEASURES: dict[str, tuple[str, ...]] = {
    "Usage breadth": (
        "modules_used_30d", "module_coverage_90d", "features_used_30d", "feature_coverage_90d",
    ),
    "Usage depth": (
        "events_per_active_user_30d", "usage_minutes_per_active_user_30d", "value_share_30d",
        "action_share_30d",
    ),
    "Usage frequency": (
        "active_days_30d", "active_users_30d", "active_user_share_30d", "days_since_last_activity",
    ),
    "Business outcomes": (
        "kpi_attainment_latest", "kpi_attainment_mean_180d", "kpi_periods_below_target_180d",
    ),
    "Support": ("open_tickets", "oldest_open_ticket_days", "tickets_opened_90d", "csat_mean_180d"),
    "NPS": ("nps_latest", "nps_180d", "nps_respondents_180d", "days_since_nps"),
}  # fmt: skip


@dataclass(frozen=True)
class Measure:
    """One measure of the account next to healthy accounts."""

    label: str
    value: str
    healthy: str
    verdict: str  # "worse than", "better than", "in line with", "unlike" or ""


def measures(
    values: Mapping[str, float | None],
    healthy: Mapping[str, Any],
    catalogue: Mapping[str, explain.FeatureLike],
    hidden: Sequence[str] = (),
    bands: Mapping[str, tuple[float, float]] | None = None,
) -> dict[str, list[Measure]]:
    """The measure groups of the page (features the snapshot lacks are left out)."""
    groups: dict[str, list[Measure]] = {}
    for group, names in MEASURES.items():
        shown = []
        for name in names:
            if name not in values or name not in catalogue:
                continue
            feature = catalogue[name]
            value = None if name in hidden else values[name]
            reference = healthy.get(name)
            known = value is not None and not math.isnan(value)
            has_reference = reference is not None and not math.isnan(float(reference))
            shown.append(
                Measure(
                    label=feature.description,
                    value=explain.format_value(value, feature.unit)
                    if name not in hidden
                    else "no data",
                    healthy=explain.format_value(reference, feature.unit) if has_reference else "",
                    verdict=explain.comparison(
                        feature,
                        float(value),  # type: ignore[arg-type]
                        float(reference),  # type: ignore[arg-type]
                        (bands or {}).get(name),
                    )
                    if known and has_reference
                    else "",
                )
            )
        if shown:
            groups[group] = shown
    return groups


def _query(service: Any, sql: str, params: Sequence[Any]) -> pd.DataFrame | None:
    source = getattr(service.features, "source", None)
    if source is None:
        return None
    cursor = source.con.cursor()  # its own cursor: scoring may be using the connection
    try:
        return cursor.execute(sql, list(params)).df()
    finally:
        cursor.close()


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts, None where a value is missing."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")  # type: ignore[return-value]


@dataclass(frozen=True)
class KeyUser:
    user_id: str
    role: str
    last_active: datetime | None
    days_ago: int | None
    left: bool


def key_users(service: Any, account_id: str, as_of: datetime) -> list[KeyUser] | None:
    """The account's key users as of `as_of`, most recently active first (None: no source)."""
    frame = _query(
        service,
        "SELECT u.user_id, u.role, (u.deactivated_at IS NOT NULL AND u.deactivated_at <= ?) "
        "AS left_company, (SELECT max(e.ts) FROM events e WHERE e.account_id = u.account_id "
        "AND e.user_id = u.user_id AND e.ts <= ?) AS last_active FROM users u "
        "WHERE u.account_id = ? AND u.is_key_user AND u.created_at <= ? "
        "ORDER BY last_active DESC NULLS LAST, u.user_id",
        [as_of, as_of, account_id, as_of],
    )
    if frame is None:
        return None
    users = []
    for row in _records(frame):
        last = None if row["last_active"] is None else pd.Timestamp(row["last_active"])
        users.append(
            KeyUser(
                user_id=str(row["user_id"]),
                role=str(row["role"] or ""),
                last_active=None if last is None else last.to_pydatetime(),
                days_ago=None if last is None else (as_of - last.to_pydatetime()).days,
                left=bool(row["left_company"]),
            )
        )
    return users


@dataclass(frozen=True)
class KpiResult:
    kpi: str
    period_end: datetime
    target: float
    actual: float | None

    @property
    def attainment(self) -> float | None:
        if self.actual is None or not self.target:
            return None
        return self.actual / self.target


def kpi_results(service: Any, account_id: str, as_of: datetime) -> list[KpiResult] | None:
    """Each KPI's latest result known at `as_of` (None: no source)."""
    frame = _query(
        service,
        "SELECT kpi, period_end, target, actual FROM outcomes WHERE account_id = ? "
        "AND period_end <= ? QUALIFY row_number() OVER (PARTITION BY kpi "
        "ORDER BY period_end DESC) = 1 ORDER BY kpi",
        [account_id, as_of],
    )
    if frame is None:
        return None
    return [
        KpiResult(
            kpi=str(row["kpi"]),
            period_end=pd.Timestamp(row["period_end"]).to_pydatetime(),
            target=float(row["target"]),
            actual=None if row["actual"] is None else float(row["actual"]),
        )
        for row in _records(frame)
    ]


def timeline(service: Any, store: Any, account_id: str) -> list[dict[str, Any]]:
    """The account's touchpoints, newest first: the source's and the store's, each id once."""
    from store import combine_touchpoints

    source = _query(
        service,
        "SELECT touchpoint_id, account_id, ts, type, owner, notes FROM touchpoints "
        "WHERE account_id = ?",
        [account_id],
    )
    if source is None:
        source = pd.DataFrame(
            columns=["touchpoint_id", "account_id", "ts", "type", "owner", "notes"]
        )
    recorded = store.touchpoints(account_id=account_id) if store is not None else None
    combined = combine_touchpoints(source, recorded)
    if recorded is not None and not recorded.empty:
        extra = recorded.set_index("touchpoint_id")[["recorded_at"]]  # plan_line_id is kept
        combined = combined.join(extra, on="touchpoint_id")
    return _records(combined.iloc[::-1])


@dataclass(frozen=True)
class Chart:
    """A small line chart of probabilities over snapshots, drawn as SVG by the template."""

    width: int
    height: int
    pad: int
    lines: list[dict[str, Any]]  # {name, css, path, points: [(x, y, label)]}
    ticks: list[tuple[float, str]]  # x, month label
    grid: list[tuple[float, str]]  # y, percentage label


def chart(
    dates: Sequence[datetime],
    series: Mapping[str, Sequence[float | None] | None],
    width: int = 520,
    height: int = 160,
    pad: int = 34,
) -> Chart:
    """Lay out `series` (name -> probabilities, None where unknown) over `dates`.

    Points are labelled by month, or by day and month where two fall in one month (the
    twelfth audit read two points "Jun" with different scores).
    """
    n = len(dates)
    months = [(d.year, d.month) for d in dates]
    by_day = len(set(months)) < len(months)
    inner_w, inner_h = width - 2 * pad, height - 2 * pad

    def x(i: int) -> float:
        return pad + (inner_w * i / (n - 1) if n > 1 else inner_w / 2)

    def y(p: float) -> float:
        return pad + inner_h * (1 - p)

    lines = []
    for name, values in series.items():
        if values is None:
            continue
        path, points, pen_down = [], [], False
        for i, (when, p) in enumerate(zip(dates, values, strict=True)):
            if p is None:
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{x(i):.1f},{y(p):.1f}")
            shown = f"{when.day} {when:%b %Y}" if by_day else f"{when:%b %Y}"
            points.append((round(x(i), 1), round(y(p), 1), f"{shown}: {100 * p:.0f}%"))
            pen_down = True
        lines.append({"name": name, "path": " ".join(path), "points": points})
    ticks = [
        (round(x(i), 1), f"{d.day} {d:%b}" if by_day else f"{d:%b}") for i, d in enumerate(dates)
    ]
    grid = [(round(y(p), 1), f"{100 * p:.0f}%") for p in (0.0, 0.5, 1.0)]
    return Chart(width, height, pad, lines, ticks, grid)


def plan_line(service: Any, store: Any, account_id: str) -> dict[str, Any] | None:
    """The account's line in this week's stored plan (the plan page's week), or None.

    Read only: the account page shows the plan the team works from and never makes one
    (the plan page and `GET /v1/plan` do). Raises `store.StoreUnavailable` when the store is.
    """
    if store is None:
        return None
    from serving.plan import default_week

    week = default_week(service.features.latest.as_of)
    lines = store.plan_lines(week.date())
    if lines.empty:
        return None
    match = lines[lines["account_id"].astype(str) == str(account_id)]
    if match.empty:
        return None
    line: dict[str, Any] = match.astype(object).where(match.notna(), None).iloc[0].to_dict()
    return {**line, "week": week}
