"""Shared fixtures: the tiny valid customer base, as frames and as files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.support import tiny_world, write_tables


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
    """Each test reads the settings anew (the CLI caches them per process)."""
    from retain.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
