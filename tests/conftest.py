"""Shared fixtures: the tiny valid customer base, as frames and as files."""

from __future__ import annotations

import os

# The suite runs two workers on two cores: one BLAS/OpenMP thread each. OpenBLAS's extra
# threads spin against the other worker: the uplift learner's thin products took 1.4-2x as long
# (bench/bench_pooled.py). Set before numpy loads where possible (notebook kernels and
# subprocesses inherit it) and applied to the already loaded libraries below.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from tests.support import tiny_world, write_tables  # noqa: E402

threadpool_limits(limits=1)


# The longest files first (seconds summed per file, `--durations=0`, November 2026), so the
# two workers of `make test` finish together: pytest-xdist hands out files in collection
# order (`--no-loadscope-reorder`; by default it orders them by test count, which put the
# 100-s walkthrough notebook, one test, last). Only an order: every other file follows in
# the usual one, and the files reading the trained world (tests/training/conftest.py) come
# after the one that trains it.
LONGEST_FIRST = (
    "tests/cli/test_data_shapes.py",  # 174 s
    "notebooks/01-walkthrough.ipynb",  # 100 s
    "tests/features/test_spark_parity.py",  # 97 s
    "tests/training/test_world.py",  # 89 s, trains the shared 2,000-account world
    "tests/training/test_uplift_policy.py",  # 78 s
    "tests/cli/test_monitor_cli.py",  # 56 s
    "tests/training/test_monitor_retrain.py",  # 48 s
    "tests/serving/test_faults.py",  # 42 s
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the files of `LONGEST_FIRST` first, in its order; the rest keep theirs."""
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture
def tiny_tables() -> dict[str, pd.DataFrame]:
    """A fresh copy of the tiny valid world (tests may mutate it)."""
    return tiny_world()


@pytest.fixture
def tiny_csv_dir(tmp_path: Path) -> Path:
    """The tiny valid world written as one CSV file per table."""
    return write_tables(tiny_world(), tmp_path / "csv", "csv")


@pytest.fixture
def tiny_parquet_dir(tmp_path: Path) -> Path:
    """The tiny valid world written as one Parquet file per table."""
    return write_tables(tiny_world(), tmp_path / "parquet", "parquet")


@pytest.fixture(autouse=True, scope="session")
def store_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The service's store (touchpoints, score log) lives in a temporary folder, not var/."""
    url = f"sqlite:///{tmp_path_factory.mktemp('store')}/retain-store.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETAIN_STORE_URL", url)
        yield


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Each test reads the settings anew (the CLI caches them per process), and money is
    shown without a currency again (`features.units.use_currency`: one per process)."""
    from features.units import use_currency
    from retain.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    use_currency(None)
