"""The trained simulated world, shared by the training tests.

Training on a 2,000-account world once per session; under pytest-xdist each worker would
otherwise train again, so the result is cached in the session's shared temporary folder
under a file lock.
"""

from __future__ import annotations

import fcntl
import pickle
from dataclasses import dataclass
from pathlib import Path

import pytest

from simulator.world import simulate_to_dir
from training.config import load_config
from training.train import TrainingResult, summary_lines, train

ACCOUNTS = 2000
SEED = 11


@dataclass
class TrainedWorld:
    data: Path
    tracking_uri: str
    result: TrainingResult


def _train_world(root: Path) -> TrainedWorld:
    data = root / "world"
    simulate_to_dir(data, n_accounts=ACCOUNTS, seed=SEED)
    tracking_uri = f"sqlite:///{root}/mlruns/mlflow.db"
    lines: list[str] = []
    # Next-best-action learning is judged in tests/test_uplift_policy.py; skipped here to
    # keep the suite short (the walkthrough notebook runs `train` with it).
    result = train(
        str(data),
        config=load_config(),
        report=lines.append,
        tracking_uri=tracking_uri,
        uplift=False,
    )
    print("\n".join(lines + summary_lines(result)))
    return TrainedWorld(data, tracking_uri, result)


@pytest.fixture(scope="session")
def trained_world(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> TrainedWorld:
    if worker_id == "master":
        return _train_world(tmp_path_factory.mktemp("trained_world"))
    root = tmp_path_factory.getbasetemp().parent / "trained_world"
    root.mkdir(exist_ok=True)
    cache = root / "world.pkl"
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not cache.exists():
                cache.write_bytes(pickle.dumps(_train_world(root)))
            world: TrainedWorld = pickle.loads(cache.read_bytes())
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return world
