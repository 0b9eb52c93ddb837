"""`retain score`: every active account's score, drivers and actions in one file for the CRM.

The rows are exactly what `POST /v1/score` returns, written as Parquet or CSV by the
output's suffix; in CSV the nested `drivers`, `upsell_drivers`, `families` and `actions` are
JSON strings.
Times and dates are written as the API sends them: `as_of` a time in UTC
(`2027-05-12T00:00:00Z` in CSV, a UTC timestamp in Parquet), `renewal_date` a date
(`2027-05-12`; a Parquet date).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from features.times import utc_iso
from features.validate import lapsed_terms_note
from serving.files import atomic_output, check_writable
from serving.schemas import AccountScore
from serving.scoring import ScoringService
from serving.service_settings import ServiceSettings

COLUMNS = tuple(AccountScore.model_fields)
NESTED = ("drivers", "upsell_drivers", "families", "actions")


def score_frame(
    service: ScoringService, as_of: datetime | None = None, progress: bool = True
) -> pd.DataFrame:
    """One row per account active at `as_of` (default: the loaded snapshot)."""
    snapshot, _, chunks = service.score_all(as_of)
    rows: list[dict[str, Any]] = []
    with tqdm(
        total=len(snapshot.account_ids), unit="account", desc="Scoring", disable=not progress
    ) as bar:
        for chunk in chunks:
            rows.extend(score.model_dump() for score in chunk)
            bar.update(len(chunk))
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.tz_localize("UTC")  # naive UTC: say so
    return frame


def check_output(output: Path) -> None:
    """Raise `ValueError` saying what to fix if scores cannot be written to `output`."""
    if not output.is_dir() and output.suffix.lower() not in (".parquet", ".csv"):
        raise ValueError(f"{output}: the output must end in .parquet or .csv")
    check_writable(output)


def write_scores(frame: pd.DataFrame, output: Path) -> None:
    """Write scores as Parquet (`.parquet`) or CSV (`.csv`, nested fields as JSON strings).

    The file is replaced whole or not at all: a failure (a full disk) keeps the old one.
    """
    check_output(output)
    with atomic_output(output) as temporary:
        if output.suffix.lower() == ".parquet":
            frame.to_parquet(temporary, index=False)
        else:
            flat = frame.copy()
            if pd.api.types.is_datetime64_any_dtype(flat["as_of"]):  # as the API: ...Z
                flat["as_of"] = [utc_iso(stamp.to_pydatetime()) for stamp in flat["as_of"]]
            for column in NESTED:
                flat[column] = [json.dumps(value, default=str) for value in flat[column]]
            flat.to_csv(temporary, index=False)


def run_batch(
    data: str,
    output: Path,
    as_of: datetime | None,
    settings: ServiceSettings,
    progress: bool = True,
    notes: Callable[[str], None] | None = None,
) -> int:
    """Load the champions and the source, score every active account, write `output`.

    The touchpoints features count the touchpoints recorded through the service (the store
    of `settings.store_url`; without them, logged, when it is down). Every row is then
    appended to the score log of that store, with the data's horizon (a run `as_of` an
    earlier date is a backfill, which the monitor does not judge). Scoring as of the latest
    data, `notes` hears which accounts are missing because their latest term ended with no
    outcome recorded (`features.validate.lapsed_terms_note`, on the source already open).

    Returns:
        The number of accounts written.

    Raises:
        StoreUnavailable: the scores were written but the store could not log them.
    """
    from actions.playbook import load_playbook
    from serving.models import ModelStore
    from serving.recorded import read_touchpoints
    from serving.score_log import log_batch
    from serving.snapshots import FeatureStore

    check_output(output)
    playbook = load_playbook(settings.playbook)
    recorded = read_touchpoints(settings.store_url)
    features = FeatureStore.from_source(data, as_of=as_of, touchpoints=recorded)  # before MLflow
    if not features.latest.account_ids:
        when = utc_iso(features.latest.as_of)
        raise ValueError(f"no account is active as of {when}: nothing to score")
    models = ModelStore.open(
        settings.mlflow_uri, settings.model_cache, registry_timeout=settings.registry_timeout
    )
    service = ScoringService(models, features, playbook)
    frame = score_frame(service, progress=progress)
    write_scores(frame, output)
    if notes is not None and as_of is None and features.source is not None:
        note = lapsed_terms_note(features.source.con)
        if note:
            notes(note)
    log_batch(frame.assign(horizon=features.horizon), settings.store_url)
    return len(frame)
