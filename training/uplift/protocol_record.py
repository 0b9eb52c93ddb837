"""The protocol's figures on untouched worlds, recorded with the settings they were measured with.

`python -m training.uplift.protocol --record` writes `protocol.json` beside this file;
`retain train` prints the figures and logs them to MLflow only while the settings in use
(`uplift.yaml`) are the ones they were measured with, so a changed setting never shows
figures it has not earned.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from training.uplift.config import UpliftConfig

RECORD = Path(__file__).with_name("protocol.json")


def record_protocol(
    metrics: dict[str, float],
    config: UpliftConfig,
    accounts: int,
    tuning: Sequence[int],
    untouched: Sequence[int],
    path: Path = RECORD,
    learner_seeds: int = 1,
) -> None:
    """Write the untouched seeds' figures (`ProtocolReport.metrics`) and their settings."""
    record = {
        "config": config.model_dump(mode="json"),
        "accounts": accounts,
        "learner_seeds": learner_seeds,
        "tuning": list(tuning),
        "untouched": list(untouched),
        "metrics": {name: round(value, 4) for name, value in metrics.items()},
    }
    path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


def recorded_protocol(config: UpliftConfig, path: Path = RECORD) -> dict[str, float] | None:
    """The recorded figures if they were measured with `config`, else None.

    With them `protocol_learner_seeds`: how many fits, with different learner seeds, each
    world's figure is the mean of. None also when there is no record: the figures then say
    nothing about this model (rerun `python -m training.uplift.protocol --record`).
    """
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    if record["config"] != config.model_dump(mode="json"):
        return None
    figures = {name: float(value) for name, value in record["metrics"].items()}
    return {**figures, "protocol_learner_seeds": float(record.get("learner_seeds", 1))}


def describe_recorded(metrics: dict[str, float]) -> str:
    """One paragraph of the recorded figures for `retain train`'s output."""

    def share(policy: str, column: str) -> str:  # the recorded digits, rounded half up
        value = Decimal(str(metrics[f"protocol_{policy}_{column}"])) * 100
        return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"

    stated = ""
    if "protocol_stated_error_history_pts" in metrics:
        stated = (
            "; at the recommended actions the effect stated (history alone) is off by"
            f" {metrics['protocol_stated_error_history_pts']:.1f} pts on average, the one that"
            f" ranks by {metrics['protocol_stated_error_ranking_pts']:.1f}"
        )
    seeds = int(metrics.get("protocol_learner_seeds", 1))
    fits = ""
    if seeds > 1:
        fits = f", each world the mean of {seeds} fits with different learner seeds"
    return (
        "  on untouched simulated worlds of other causal structures (python -m "
        f"training.uplift.protocol, these settings{fits}): net of cost mean "
        f"{share('uplift', 'net_mean')}, worst {share('uplift', 'net_worst')}; without costs "
        f"mean {share('uplift', 'gross_mean')}; the playbook alone "
        f"{share('playbook', 'net_mean')}, the true cause's remedy "
        f"{share('true_cause', 'net_mean')}{stated}"
    )
