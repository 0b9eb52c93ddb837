"""A touchpoint recorded through the service: what the next request waits for, before and now.

After `POST /v1/touchpoints` the next score request waits for `ScoringService.include_touchpoints`
(`serving.recorded`). It used to compute the whole latest snapshot again (every feature and
fact of every account) and score every account again; now it computes the touchpoints
features of the accounts whose touchpoints changed, splices them into a copy of the
snapshot and scores those accounts alone. Both are measured here in the same run, rounds
interleaved, on a simulated world (`--accounts`, 12 months; simulated once into
`data/bench_touchpoints/` and reused), each round recording one more touchpoint for
another account:

* the whole refresh (the old way: `recount_touchpoints` declined, every account warmed);
* the splice (features, then the changed accounts scored);
* the features alone, both ways.

Prints medians and the ratios; no absolute-time assertion (machines differ). Checks at
the end that the spliced snapshot equals one computed whole. Not a test: `make bench`.

    .venv/bin/python bench/bench_touchpoints.py [--accounts 3000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the shared test builders (a small model on random accounts)

import serving.snapshots as snapshots  # noqa: E402
from actions.playbook import DEFAULT_PLAYBOOK, load_playbook  # noqa: E402
from serving.models import ModelStore  # noqa: E402
from serving.scoring import ScoringService  # noqa: E402
from serving.snapshots import FeatureStore, build_snapshot  # noqa: E402
from tests.support.serving import make_bundle  # noqa: E402

DATA = ROOT / "data" / "bench_touchpoints"


def world(accounts: int) -> Path:
    """The simulated world of `accounts` accounts (12 months), simulated once."""
    from simulator.world import simulate_to_dir

    data = DATA / f"accounts-{accounts}"
    if not (data / "accounts.parquet").exists():
        print(f"simulating {accounts:,} accounts, 12 months, into {data} ...")
        simulate_to_dir(data, n_accounts=accounts, seed=7, months=12)
    return data


class Recorder:
    """Touchpoints as the store would hold them: one more for another account each round."""

    def __init__(self, service: ScoringService, seed: int = 0) -> None:
        latest = service.features.latest
        self.as_of = latest.as_of
        self.accounts = list(np.random.default_rng(seed).permutation(latest.account_ids))
        self.rows: list[dict[str, Any]] = []

    def one_more(self) -> pd.DataFrame:
        n = len(self.rows)
        self.rows.append(
            {
                "touchpoint_id": f"bench-{n}",
                "account_id": self.accounts[n % len(self.accounts)],
                "ts": pd.Timestamp(self.as_of - timedelta(hours=3 + n)),
                "type": "health_check",
                "owner": "bench",
                "notes": None,
                "plan_line_id": None,
                "recorded_at": pd.Timestamp(self.as_of),
            }  # fmt: skip
        )
        return pd.DataFrame(self.rows)


def whole(service: ScoringService) -> Callable[[], None]:
    """Make `service` refresh the old way (everything computed again); returns the undo."""
    recount, rewarm = snapshots.recount_touchpoints, service.rewarm
    snapshots.recount_touchpoints = lambda *args: None  # type: ignore[assignment]
    service.rewarm = lambda bundle, before: service.warm(bundle)  # type: ignore[method-assign]

    def undo() -> None:
        snapshots.recount_touchpoints = recount
        service.rewarm = rewarm  # type: ignore[method-assign]

    return undo


def timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    assert work(), "the touchpoint changed nothing"
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each (median kept)")
    args = parser.parse_args()

    data = world(args.accounts)
    features = FeatureStore.from_source(str(data))
    service = ScoringService(ModelStore(make_bundle()), features, load_playbook(DEFAULT_PLAYBOOK))
    recorder = Recorder(service)
    n = len(features.latest.account_ids)
    print(
        f"{n:,} active accounts of {args.accounts:,}; {len(features.latest.feature_names)} features"
    )

    times: dict[str, list[float]] = {"whole": [], "splice": [], "whole features": [],
                                     "splice features": []}  # fmt: skip
    for _ in range(args.rounds):  # interleaved: both see the same load on a shared machine
        undo = whole(service)
        try:
            times["whole"].append(timed(lambda: service.include_touchpoints(recorder.one_more())))
            times["whole features"].append(
                timed(lambda: features.include_touchpoints(recorder.one_more()))
            )
            service.warm(service.models.bundle)  # the memo of the snapshot now served
        finally:
            undo()
        times["splice"].append(timed(lambda: service.include_touchpoints(recorder.one_more())))
        times["splice features"].append(
            timed(lambda: features.include_touchpoints(recorder.one_more()))
        )
        service.warm(service.models.bundle)

    median = {name: statistics.median(values) for name, values in times.items()}
    for name, values in times.items():
        print(
            f"{name + ':':17} median {median[name] * 1000:9.1f} ms  "
            f"best {min(values) * 1000:9.1f} ms  ({args.rounds} rounds)"
        )
    print(f"ratio whole / splice, features and scores: {median['whole'] / median['splice']:7.1f}x")
    print(
        "ratio whole / splice, features alone:      "
        f"{median['whole features'] / median['splice features']:7.1f}x"
    )

    latest = features.latest
    with features._source_lock:
        anew = build_snapshot(features.source.con, latest.as_of)
    assert latest.account_ids == anew.account_ids and latest.feature_names == anew.feature_names
    np.testing.assert_array_equal(latest.matrix, anew.matrix)
    assert latest.facts == anew.facts and latest.renewal_dates == anew.renewal_dates
    print(
        f"check: after {len(recorder.rows)} touchpoints the spliced snapshot equals one computed"
        f" whole ({n:,} accounts x {len(latest.feature_names)} features, and the facts)"
    )


if __name__ == "__main__":
    main()
