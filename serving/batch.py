"""`retain score`: every active account's score, drivers and actions in one file for the CRM.

The rows are exactly what `POST /v1/score` returns, written as Parquet or CSV by the
output's suffix; in CSV the nested `drivers` and `actions` are JSON strings.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from serving.schemas import AccountScore
from serving.scoring import ScoringService
from serving.service_settings import ServiceSettings

COLUMNS = tuple(AccountScore.model_fields)
NESTED = ("drivers", "actions")


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
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_scores(frame: pd.DataFrame, output: Path) -> None:
    """Write scores as Parquet (`.parquet`) or CSV (`.csv`, nested fields as JSON strings)."""
    suffix = output.suffix.lower()
    output.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        frame.to_parquet(output, index=False)
    elif suffix == ".csv":
        flat = frame.copy()
        for column in NESTED:
            flat[column] = [json.dumps(value, default=str) for value in flat[column]]
        flat.to_csv(output, index=False)
    else:
        raise ValueError(f"{output}: the output must end in .parquet or .csv")


def run_batch(
    data: str,
    output: Path,
    as_of: datetime | None,
    settings: ServiceSettings,
    progress: bool = True,
) -> int:
    """Load the champions and the source, score every active account, write `output`.

    Returns:
        The number of accounts written.
    """
    from actions.playbook import load_playbook
    from serving.models import ModelStore
    from serving.snapshots import FeatureStore

    if output.suffix.lower() not in (".parquet", ".csv"):
        raise ValueError(f"{output}: the output must end in .parquet or .csv")
    playbook = load_playbook(settings.playbook)
    models = ModelStore.open(settings.mlflow_uri, settings.model_cache)
    features = FeatureStore.from_source(data, as_of=as_of)
    service = ScoringService(models, features, playbook)
    frame = score_frame(service, progress=progress)
    write_scores(frame, output)
    return len(frame)
