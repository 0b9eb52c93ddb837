"""`retain experiments`: the plans' randomized lines joined with their renewals and the model.

Plan lines come from the store (the latest plan saved for each week) or from plan files
written by `retain plan`. Each line gets its account's churn at the renewal as the labels
define it (`features.labels.compute_labels` as of the plan's week: NaN while the renewal
is not known) and that renewal's date (the end of the term in force that week), which with
the account names the one outcome the line shares with the account's other lines of that
term; and, when an uplift champion is given, its expected effect for the line's
action at that week (the observational estimate). `actions.plan_experiments` compares.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from actions.plan_experiments import OUTCOME, ActionExperiment, measure_actions

LINE_FIELDS = ("week", "account_id", "action", "arm", "probability")


def lines_from_files(paths: Iterable[Path]) -> pd.DataFrame:
    """Plan lines from `retain plan` outputs (.parquet or .csv)."""
    frames = []
    for path in paths:
        frame = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
        missing = [c for c in LINE_FIELDS if c not in frame.columns]
        if missing:
            raise ValueError(f"{path}: not a plan file (no column {', '.join(missing)})")
        frames.append(frame)
    return _normalised(pd.concat(frames, ignore_index=True)) if frames else _empty()


def lines_from_store(store: Any) -> pd.DataFrame:
    """The lines of the latest plan saved for each week in the store."""
    weeks = sorted(set(store.plans()["week"]))
    frames = [store.plan_lines(week) for week in weeks]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return _empty()
    lines = pd.concat(frames, ignore_index=True)
    return _normalised(lines.rename(columns={"assignment_probability": "probability"}))


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=[*LINE_FIELDS, "expected_effect"])


def _normalised(lines: pd.DataFrame) -> pd.DataFrame:
    lines = lines.copy()
    lines["week"] = pd.to_datetime(lines["week"])
    lines["account_id"] = lines["account_id"].astype(str)
    if "expected_effect" not in lines:
        lines["expected_effect"] = np.nan
    return lines


def with_outcomes(con: Any, lines: pd.DataFrame) -> pd.DataFrame:
    """Each line's `churn` at the renewal after its week (NaN while unknown) and its `renewal_date`.

    Columns of those names that a plan file brings are replaced: the source decides them.
    """
    from features.labels import compute_labels

    lines = lines.drop(columns=["churn", "renewal_date"], errors="ignore")
    if lines.empty:
        return lines.assign(
            churn=pd.Series(dtype=float), renewal_date=pd.Series(dtype="datetime64[ns]")
        )
    weeks = sorted(lines["week"].unique())
    labels = compute_labels(con, [pd.Timestamp(w).to_pydatetime() for w in weeks])
    labels = labels.rename(columns={"as_of": "week"})
    labels = labels[["account_id", "week", "churn", "renewal_date"]]
    return lines.merge(labels, on=["account_id", "week"], how="left")


def with_model_effects(service: Any, lines: pd.DataFrame) -> pd.DataFrame:
    """Fill `expected_effect` from the service's uplift champion where the line lacks one.

    The effect as stated (history alone, `ExpectedEffect.stated`), which the randomized
    slice then checks.
    """
    bundle = service.models.bundle
    if bundle.effects is None or lines.empty:
        return lines
    lines = lines.copy()
    latest = service.features.latest.as_of
    for week, group in lines.groupby("week"):
        when = pd.Timestamp(str(week)).to_pydatetime()
        snapshot = service.features.snapshot(None if when >= latest else when)
        known = [i for i in group.index if group.at[i, "account_id"] in snapshot.row]
        rows = np.array([snapshot.row[group.at[i, "account_id"]] for i in known], dtype=np.intp)
        for i, effects in zip(known, bundle.effects(snapshot, rows), strict=True):
            found = effects.get(str(lines.at[i, "action"]))
            missing = pd.isna(lines.at[i, "expected_effect"])  # type: ignore[arg-type]
            if missing and found and found.basis == "learned":
                lines.at[i, "expected_effect"] = found.stated(0.0)[0]  # as the CSM read it
    return lines


def experiment_report(lines: pd.DataFrame) -> tuple[list[ActionExperiment], list[str]]:
    """The per-action comparisons and the sentences to print (plain when nothing to judge)."""
    if lines.empty:
        return [], ["No plan lines yet: run `retain plan` to plan a week with randomized holdouts."]
    found = measure_actions(lines)
    weeks = sorted(pd.to_datetime(lines["week"]).dt.date.unique())
    known = lines[lines["churn"].notna()]
    outcomes = len(known.drop_duplicates(["action", *OUTCOME]))
    head = (
        f"{len(lines)} plan lines over {len(weeks)} week(s) ({weeks[0]} to {weeks[-1]}); "
        f"{len(known)} with a known renewal, for {outcomes} distinct renewals (an account's "
        "renewal counts once per action, however many weeks planned it)."
    )
    if not any(e.effect is not None for e in found):
        head += " Nothing to judge yet: no action has planned and control renewals that are known."
    return found, [head, *(f"  {e.sentence()}" for e in found)]


def run_experiments(
    data: str, settings: Any, plan_files: list[Path] | None = None
) -> tuple[list[ActionExperiment], list[str]]:
    """`retain experiments`: the plans' lines (files, else the store) judged on the source.

    The observational estimate comes from the uplift champion when one loads (otherwise
    from the `expected_effect` that plan files carry).
    """
    from actions.playbook import load_playbook
    from serving.models import ModelStore
    from serving.recorded import read_touchpoints
    from serving.scoring import ScoringService
    from serving.snapshots import FeatureStore
    from store import Store

    if plan_files:
        lines = lines_from_files(plan_files)
    else:
        with Store(settings.store_url) as store:
            lines = lines_from_store(store)
    if lines.empty:
        return experiment_report(lines)
    features = FeatureStore.from_source(data, touchpoints=read_touchpoints(settings.store_url))
    lines = with_outcomes(features.source.con, lines)
    notes = []
    try:
        models = ModelStore.open(settings.mlflow_uri, settings.model_cache)
    except Exception as error:  # no registry and no cache: the measured effects still stand
        notes.append(f"(No observational estimates from the model: {error})")
    else:
        service = ScoringService(models, features, load_playbook(settings.playbook))
        lines = with_model_effects(service, lines)
    found, sentences = experiment_report(lines)
    return found, [*sentences, *notes]
