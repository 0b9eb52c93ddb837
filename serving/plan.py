"""The weekly plan from the scoring service: candidate lines in, `actions.plan` solves.

Each account's ranked actions (`ScoringService`) become candidate lines: who owns the
account (the accounts table's `csm_owner`), what the action is expected to save net of its
cost (the learned effect; for a playbook suggestion history cannot judge, the plan file's
`assumed_effect`, never more than the account's churn probability, and none for a growth
ask; an upsell offer also earns its expected expansion), the churn risk tier and the
account's last touchpoint (the source's touchpoints and those recorded through the service,
each once). `retain plan` and `GET /v1/plan` both call `build_plan`.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from actions.plan import CANDIDATE_COLUMNS, WeekPlan, plan_week
from actions.plan_config import UPSELL_ACTION, PlanConfig
from actions.plan_words import account_drivers
from features.contract import ACTION_CODES
from features.sql.spine import TERM_KINDS
from features.units import money
from serving.id_forms import form_index, id_form
from serving.schemas import AccountScore
from serving.scoring import ScoringService

GIVEN = ("account_id", "action")


@dataclass(frozen=True)
class AccountContext:
    """What the plan needs to know about accounts beyond their scores."""

    owners: Mapping[str, str | None]
    last_touch: Mapping[str, datetime]
    done: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=GIVEN))
    """(account_id, action) pairs done by the week in the term then in force (touchpoints)."""


def week_of(day: date) -> datetime:
    """The week `day` falls in, by its start: the Monday on or before it, at midnight.

    A plan's week is an ISO week (Monday to Sunday), so every date of a week names the same
    week, and the same stored plan.
    """
    monday = day - timedelta(days=day.weekday())
    return datetime(monday.year, monday.month, monday.day)


def default_week(latest: datetime) -> datetime:
    """The week to plan when none is given: the first that starts at or after the data ends.

    It starts at the first Monday midnight at or after `latest`: a week the data already
    reaches into would be planned on its Monday's scores and touchpoints, not the latest.
    """
    midnight = datetime.combine(latest.date(), datetime.min.time())
    first = midnight if midnight == latest else midnight + timedelta(days=1)
    return week_of(first + timedelta(days=6))


def account_context(
    con: Any,
    week: datetime,
    recorded: pd.DataFrame | None = None,
    data_end: datetime | None = None,
) -> AccountContext:
    """Owners and last touchpoints known at `week`, from a loaded source (and the store's).

    Args:
        con: a `load_source` connection (typed `accounts` and `touchpoints` views).
        week: the week's start; touchpoints after it are not known yet.
        recorded: touchpoints recorded through the service (`Store.touchpoints()`), if any.
        data_end: the end of the data (its horizon). A source touchpoint dated in the week
            and after that end is a meeting booked in the CRM, not history: it is the
            account's last touch, so the contact gap keeps the account out of the week's
            plan (the eighteenth audit). A week planned in the past reads none.
    """
    from store import combine_touchpoints

    cursor = con.cursor()  # its own cursor: the feature store may be using `con`
    try:
        owners = cursor.execute("SELECT account_id, csm_owner FROM accounts").fetchall()
        touches = cursor.execute(
            "SELECT touchpoint_id, account_id, ts, type FROM touchpoints WHERE ts <= ?", [week]
        ).df()
        booked = (
            pd.DataFrame(columns=["account_id", "ts"])
            if data_end is None
            else cursor.execute(
                "SELECT account_id, ts FROM touchpoints WHERE ts > ? AND ts < ?",
                [max(week, data_end), week + timedelta(days=7)],
            ).df()
        )
    finally:
        cursor.close()
    terms = term_starts(con, week)
    touches = combine_touchpoints(touches, recorded, until=week)
    seen = pd.concat([touches[["account_id", "ts"]], booked]) if not booked.empty else touches
    last = seen.groupby("account_id")["ts"].max() if not seen.empty else pd.Series()
    return AccountContext(
        owners={str(a): o for a, o in owners},
        last_touch={str(a): pd.Timestamp(t).to_pydatetime() for a, t in last.items()},
        done=done_in_term(touches, terms),
    )


# The start of each account's term in force at the week (the earliest, as the spine takes it).
TERM_STARTS = f"""
SELECT account_id, MIN(start_date) AS term_start FROM subscriptions
WHERE kind IN {TERM_KINDS} AND start_date <= ? AND ? < end_date
GROUP BY account_id
"""


def term_starts(con: Any, week: datetime) -> pd.DataFrame:
    """`account_id` and `term_start` of each account's term in force at `week` (a source)."""
    cursor = con.cursor()  # its own cursor: the feature store may be using `con`
    try:
        return cursor.execute(TERM_STARTS, [week, week]).df()
    finally:
        cursor.close()


def given_in_term(store: Any, service: ScoringService, week: datetime) -> pd.DataFrame:
    """`store.Store.given` at `week`, a line of unknown renewal judged by the source's terms.

    A service without a source knows no term: every such line counts (see `Store.given`).
    """
    source = getattr(service.features, "source", None)
    terms = None if source is None else term_starts(source.con, week)
    return store.given(week.date(), terms)


def done_in_term(touches: pd.DataFrame, terms: pd.DataFrame) -> pd.DataFrame:
    """(account_id, action) pairs a touchpoint did since the start of the account's term.

    An account the CS team already gave an action this term, on a plan line or off the plan
    (the source's touchpoints and those recorded through the service), is no control for
    that action: its renewal would not measure the action's absence.
    """
    if touches.empty or terms.empty:
        return pd.DataFrame(columns=GIVEN)
    found = touches.assign(account_id=touches["account_id"].astype(str)).merge(
        terms.assign(account_id=terms["account_id"].astype(str)), on="account_id"
    )
    found = found[
        found["type"].isin(ACTION_CODES)
        & (pd.to_datetime(found["ts"]) >= pd.to_datetime(found["term_start"]))
    ]
    pairs = found.rename(columns={"type": "action"})[list(GIVEN)]
    return pairs.drop_duplicates().reset_index(drop=True)


def _known(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def candidate_lines(
    scores: Iterable[AccountScore],
    context: AccountContext,
    config: PlanConfig,
    cost: Callable[[str], float],
) -> pd.DataFrame:
    """One candidate line per account and ranked action (`actions.plan.CANDIDATE_COLUMNS`)."""
    rows = []
    for score in scores:
        arr = float(score.arr) if score.arr is not None and _known(score.arr) else None
        for action in score.actions:
            stated = action.expected_saved_arr
            if action.basis == "learned" and _known(action.ranking_saved_arr):
                saved = float(action.ranking_saved_arr)  # type: ignore[arg-type]
            elif arr is not None:
                assumed = config.assumed_for(score.churn_probability, action.action)
                saved = assumed * arr - cost(action.action)
                stated = saved
            else:
                continue  # neither a learned value nor an ARR to value it by
            expansion = 0.0  # what the line adds for expansion
            if action.action == UPSELL_ACTION and arr is not None and action.basis != "learned":
                upsell = score.upsell_probability or 0.0
                expansion = upsell * arr * config.upsell_value_share
            # a learned growth ask's value already holds its expansion (actions.ranking.rank):
            # said in the line's words, not added again
            said = expansion or (action.expected_expansion_arr or 0.0)
            growth = score.upsell_drivers if action.action == UPSELL_ACTION else []
            driver, caution = account_drivers(action.action, action.drivers, score.drivers, growth)
            rows.append(
                {
                    "account_id": score.account_id,
                    "csm": context.owners.get(score.account_id),
                    "action": action.action,
                    "saved_arr": saved + expansion,
                    "expected_saved_arr": None if stated is None else stated + expansion,
                    "expansion_arr": said,
                    "risk_tier": score.risk_tier,
                    "last_touch": context.last_touch.get(score.account_id),
                    "reason": action.reason,
                    "expected_effect": action.expected_effect,
                    "basis": action.basis,
                    "churn_probability": score.churn_probability,
                    "upsell_probability": score.upsell_probability,
                    "arr": arr,
                    "days_to_renewal": score.days_to_renewal,
                    "renewal_date": score.renewal_date,
                    "driver": driver,
                    "caution": caution,
                }
            )
    frame = pd.DataFrame(rows, columns=list(CANDIDATE_COLUMNS) if not rows else None)
    frame["last_touch"] = pd.to_datetime(frame["last_touch"])
    return frame


@dataclass(frozen=True)
class BuiltPlan:
    """A week's plan with what it was built from."""

    plan: WeekPlan
    plan_id: str
    as_of: datetime
    model_version: str
    warnings: tuple[str, ...] = ()


def closest_owner(owner: str, owners: Iterable[str]) -> str | None:
    """The owner of the data `owner` most likely meant, or None.

    The plan file's hours and the users file both name owners by hand and suggest through
    here, so the same slip gets the same suggestion in either. The same name but for case,
    spacing or a number's leading zeros goes first ("CSM 5" is "CSM 05", where difflib
    offered "CSM 35": the thirteenth audit); then the closest spelling (difflib, which alone
    is case-sensitive: "DANA KIM" would find no "Dana Kim").
    """

    def fold(name: str) -> str:
        spaced = " ".join(name.split()).casefold()
        return re.sub(r"\d+", lambda number: str(int(number.group())), spaced)

    folded: dict[str, str] = {}
    for known in sorted(owners):
        folded.setdefault(fold(known), known)
    key = fold(owner)
    if key in folded:
        return folded[key]
    close = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.6)
    return folded[close[0]] if close else None


def closest_hint(owner: str, owners: Iterable[str]) -> str:
    """What follows a sentence naming an owner who owns nothing: " (did you mean 'X'?)" or "".

    One wording wherever an owner typed by hand owns nothing: the plan file, the users
    file, the plan's API and the pages.
    """
    close = closest_owner(owner, owners)
    return f" (did you mean {close!r}?)" if close else ""


def as_the_data_spells(owner: str, owners: Iterable[str]) -> str:
    """`owner` as the data spells it if typed in another form (`serving.id_forms`), else as given.

    Another form is another Unicode form or case.

    "Anna Schäfer" with a decomposed ä looks the same as the data's composed one; without
    this the plan answered 404 with "did you mean 'Anna Schäfer'?" (eighth new-user audit).
    """
    known = set(owners)
    return owner if owner in known else form_index(known).get(id_form(owner), owner)


def account_owners(service: Any) -> set[str]:
    """Every `accounts.csm_owner` of the service's source, churned accounts too (none without)."""
    source = getattr(service.features, "source", None)
    if source is None:
        return set()
    cursor = source.con.cursor()
    try:
        rows = cursor.execute("SELECT DISTINCT csm_owner FROM accounts").fetchall()
    finally:
        cursor.close()
    return {str(owner) for (owner,) in rows if owner is not None}


def unknown_owners(
    config: PlanConfig, owners: Iterable[str | None], plan_file: str = "plan file"
) -> list[str]:
    """A sentence for each owner the plan file gives hours to who owns no account.

    Said, not refused: a CSM whose accounts all churned or moved has none this week, and
    the team's plan should not wait on the file. But a misspelt name silently gave that
    CSM the default hours (the fifth audit), so the closest owner in the data is named,
    and the file by its path (`plan_file`): `RETAIN_PLAN` may point away from the shipped
    one, and CS ops must know which file to mend.
    """
    known = sorted({str(o) for o in owners if o is not None})
    said = []
    for name in config.csm_hours.owners:
        if name in known:
            continue
        said.append(
            f"{plan_file}: csm_hours.owners names {name!r}, who owns no account in the data"
            f"{closest_hint(name, known)}; those hours are not used"
        )
    return said


STORED_COLUMNS = (
    "account_id", "csm", "action", "arm", "probability", "hours", "saved_arr", "why",
    "holdout_until", "renewal_date", "expected_saved_arr",
)  # fmt: skip


def plan_id_of(plan: WeekPlan, model_version: str) -> str:
    """A plan's id: its week and a digest of its lines (the same plan gets the same id).

    The digest covers all a stored line holds, not only who gets what: planning the week
    again after touchpoints were recorded can pick the same accounts and actions with other
    values or words, and under the same id the store would refuse it as a conflict (a
    traceback from `retain plan`, a 500 from `GET /v1/plan`). It is a new plan instead, and
    the week's latest plan is the one that counts.
    """
    digest = hashlib.blake2b(digest_size=6)
    digest.update(model_version.encode())
    columns = [c for c in STORED_COLUMNS if c in plan.lines.columns]
    digest.update(plan.lines[columns].to_csv(index=False).encode())
    return f"{plan.week:%Y-%m-%d}-{digest.hexdigest()}"


def build_plan(
    service: ScoringService,
    config: PlanConfig,
    cost: Callable[[str], float],
    week: date | None = None,
    context: AccountContext | None = None,
    recorded: pd.DataFrame | None = None,
    holdouts: pd.DataFrame | None = None,
    given: pd.DataFrame | None = None,
    plan_file: str = "plan file",
) -> BuiltPlan:
    """Score every active account and plan the week.

    Args:
        service: the scoring service (its features' source gives owners and touchpoints).
        config: the plan settings.
        cost: action -> cost in ARR currency (for playbook suggestions without a value).
        week: a date in the week to plan, which starts on its Monday (`week_of`; default:
            `default_week`); accounts are scored as of the week's start, or as of the
            latest data when it lies beyond.
        context: owners and last touchpoints (default: read from the service's source).
        recorded: touchpoints recorded through the service (see `account_context`).
        holdouts: (account_id, action) pairs earlier plans hold back until the renewal
            (`store.Store.holdouts`).
        given: (account_id, action) pairs earlier plans gave in the account's current term
            (`given_in_term`); never drawn as controls, nor are the pairs touchpoints
            did in the term (`AccountContext.done`).
        plan_file: where `config` was read from, for the plan's warnings.
    """
    latest = service.features.latest.as_of
    week = week_of(week) if week else default_week(latest)
    as_of = None if week >= latest else week
    if context is None:
        source = getattr(service.features, "source", None)
        if source is None:
            raise LookupError("the scoring service has no source to read account owners from")
        context = account_context(source.con, week, recorded, latest)
    snapshot, bundle, chunks = service.score_all(as_of)
    scores = [score for chunk in chunks for score in chunk]
    candidates = candidate_lines(scores, context, config, cost)
    given = pd.concat([frame for frame in (given, context.done) if frame is not None])
    plan = plan_week(candidates, config, week, holdouts, given.drop_duplicates())
    return BuiltPlan(
        plan,
        plan_id_of(plan, bundle.model_version),
        snapshot.as_of,
        bundle.model_version,
        tuple(unknown_owners(config, context.owners.values(), plan_file))
        + tuple(short_hours(plan, plan_file))
        + tuple(free_hours(plan, config, {context.owners.get(s.account_id) for s in scores})),
    )


def short_hours(plan: WeekPlan, plan_file: str = "plan file") -> list[str]:
    """A sentence when most accounts with an action worth doing wait beyond the week.

    On 10,000 accounts the shipped plan file's 8 CSMs x 16 h reached 234 accounts and said
    nothing of the rest (the scale audit): CS ops should read that the hours, not the model,
    decided who is left, and which file sets them.
    """
    reached = int(plan.lines["account_id"].nunique())
    if plan.unreached <= reached:
        return []
    return [
        f"the week's hours and caps reach {reached} accounts; {plan.unreached} more with an"
        f" action worth doing wait (their best actions valued at"
        f" {money(plan.unreached_value)} ARR net of cost); {plan_file}'s csm_hours and caps set"
        " how much the team can do"
    ]


def free_hours(plan: WeekPlan, config: PlanConfig, owners: Iterable[str | None]) -> list[str]:
    """A sentence when CSMs who own scored accounts have hours the week leaves free.

    On the scale audit the plan used 213 of the team's 404 hours and said nothing of the
    rest: CS ops should read that no other account of those CSMs had an action the plan
    values above its cost within its rules, not guess at a fault. Lines held back as
    controls count as planned (their hours were given before they were drawn).
    """
    shortest = min((h for h in config.hours.values() if h > 0), default=None)
    csms = sorted({str(o) for o in owners if o is not None})
    if shortest is None or not csms:
        return []
    used = plan.lines.groupby(plan.lines["csm"].astype(str))["hours"].sum()
    free = {c: config.csm_hours.of(c) - float(used.get(c, 0.0)) for c in csms}
    idle = {c: h for c, h in free.items() if h >= shortest - 1e-9}
    if not idle:
        return []
    total = sum(config.csm_hours.of(c) for c in csms)
    named = ", ".join(f"{c} {h:g} h" for c, h in sorted(idle.items(), key=lambda i: -i[1])[:3])
    more = f" and {len(idle) - 3} more" if len(idle) > 3 else ""
    return [
        f"{sum(idle.values()):g} of the team's {total:g} hours stay free ({named}{more}):"
        " none of those CSMs' other accounts has an action the plan values above its cost"
        " that fits the hours left and its rules allow (contact gap, caps, no growth ask at"
        " high risk or in pain)"
    ]


def summary(built: BuiltPlan) -> dict[str, Any]:
    """The plan's figures, lines per arm and lines left out by rule.

    Value, greedy value and bound are as the plan ranked the lines; `expected_value` is what
    the lines to do are expected to save as history shows it, the figure to quote.
    """
    plan = built.plan
    return {
        "as_of": built.as_of.isoformat(),
        "value": round(plan.value, 2),
        "greedy_value": round(plan.greedy_value, 2),
        "bound": round(plan.bound, 2),
        "random_value": round(plan.random_value, 2),
        "expected_value": round(plan.expected_value, 2),
        "status": plan.status,
        "lines": {str(k): int(v) for k, v in plan.lines["arm"].value_counts().items()},
        "excluded": dict(plan.excluded),
        "unreached": plan.unreached,
        "unreached_value": round(plan.unreached_value, 2),
        "warnings": list(built.warnings),
    }


def store_plan(built: BuiltPlan) -> Any:
    """The plan as the store keeps it (`store.Plan`), one `PlanLine` per account."""
    from store import Plan, plan_lines

    lines = plan_lines(built.plan_id, built.plan.lines.to_dict("records"))
    return Plan(
        plan_id=built.plan_id,
        week=built.plan.week.date(),
        lines=lines,
        model_version=built.model_version,
        summary=summary(built),
    )


def write_plan(lines: pd.DataFrame, output: Path) -> None:
    """Write plan lines as Parquet or CSV (by the suffix), whole or not at all."""
    from serving.files import atomic_output

    suffix = output.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise ValueError(f"{output}: the plan must end in .parquet or .csv")
    with atomic_output(output) as temporary:
        if suffix == ".parquet":
            lines.to_parquet(temporary, index=False)
        else:
            lines.to_csv(temporary, index=False)


def run_plan(
    data: str,
    output: Path,
    week: date | None,
    settings: Any,
    config: PlanConfig,
    plan_file: str = "plan file",
) -> tuple[BuiltPlan, bool]:
    """`retain plan`: load the champions and the source, plan the week, write and store it.

    `week` is any date in the week to plan (its Monday starts it; default: `default_week`);
    `plan_file` is where `config` was read from (the warnings name it).

    Returns:
        The plan, and whether the store took it (False: the same plan was stored before).

    Raises:
        store.StoreUnavailable: the plan file is written but the store cannot be reached.
    """
    from actions.playbook import load_playbook
    from serving.models import ModelStore
    from serving.recorded import read_touchpoints
    from serving.snapshots import FeatureStore
    from store import Store, StoreUnavailable
    from training.uplift.config import load_uplift_config

    if output.suffix.lower() not in (".parquet", ".csv"):
        raise ValueError(f"{output}: the plan must end in .parquet or .csv")
    recorded = read_touchpoints(settings.store_url)  # None: the store is down
    service = ScoringService(
        ModelStore.open(settings.mlflow_uri, settings.model_cache),
        FeatureStore.from_source(data, touchpoints=recorded),  # scores count them too
        load_playbook(settings.playbook),
    )
    week = week_of(week) if week else default_week(service.features.latest.as_of)
    with Store(settings.store_url) as store:
        holdouts: pd.DataFrame | None
        given: pd.DataFrame | None
        try:
            holdouts = store.holdouts(week.date()) if recorded is not None else None
            given = given_in_term(store, service, week) if recorded is not None else None
        except StoreUnavailable:  # plan from the source's touchpoints; saving will say so
            recorded = holdouts = given = None
        built = build_plan(
            service,
            config,
            load_uplift_config().cost,
            week,
            recorded=recorded,
            holdouts=holdouts,
            given=given,
            plan_file=plan_file,
        )
        write_plan(built.plan.lines.assign(plan_id=built.plan_id), output)
        return built, store.save_plan(store_plan(built))
