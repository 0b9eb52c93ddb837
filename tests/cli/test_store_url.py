"""A wrong RETAIN_STORE_URL is one line from every command that opens the store.

Sixth audit: `postgres://` (what many hosts hand out; SQLAlchemy dropped the alias) stopped
`retain serve` with a traceback, as did any URL the store could not use.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retain.cli import app
from retain.settings import get_settings
from tests.support.tiny import tiny_world, write_tables

runner = CliRunner()
BAD_URLS = {
    "mysql://bob:s3cret@db.example/crm": "must be sqlite:///",
    "bob:s3cret@db.example/crm": "not a URL",
    "postgresql://bob:s3cret@db.example:port/crm": "port is not a number",
}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tables(tiny_world(), tmp_path_factory.mktemp("source"), fmt="parquet")


@pytest.fixture
def store_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set RETAIN_STORE_URL with `store_url.setenv("RETAIN_STORE_URL", ...)`."""
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def commands(source: Path, tmp_path: Path) -> dict[str, list[str]]:
    data = ["--data", str(source)]
    return {
        "serve": ["serve", *data],
        "score": ["score", *data, "--output", str(tmp_path / "scores.csv")],
        "plan": ["plan", *data, "--output", str(tmp_path / "plan.csv")],
        "experiments": ["experiments", *data],
        "evaluate-policy": ["evaluate-policy", *data],
        "monitor": ["monitor", *data],
        "retrain": ["retrain", *data, "--reports", str(tmp_path / "reports")],
        "train": ["train", *data],
        "features": ["features", *data, "--as-of", "2024-03-01"],
        "dataset": ["dataset", *data, "--from", "2024-01-01", "--to", "2024-03-01"],
    }


@pytest.mark.parametrize("url", list(BAD_URLS))
@pytest.mark.parametrize("command", list(commands(Path("s"), Path("t"))))
def test_a_wrong_store_url_is_one_line_without_the_password(
    store_url, source, tmp_path, monkeypatch, command, url
):
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("serve started"))
    store_url.setenv("RETAIN_STORE_URL", url)
    store_url.setenv("RETAIN_API_KEYS", "k" * 20)
    result = runner.invoke(app, commands(source, tmp_path)[command])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert len(lines) == 1 and lines[0].startswith("Error: RETAIN_STORE_URL"), result.output
    assert BAD_URLS[url] in lines[0] and "s3cret" not in result.output


def test_postgres_urls_are_served_as_postgresql(store_url, source, monkeypatch):
    import uvicorn

    served = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: served.append(app))
    store_url.setenv("RETAIN_STORE_URL", "postgres://retain@db.example/crm?schema=ops")
    store_url.setenv("RETAIN_API_KEYS", "k" * 20)
    result = runner.invoke(app, ["serve", "--data", str(source)])
    assert result.exit_code == 0, result.output
    store = served[0].state.store  # made, not connected: nothing listens at db.example
    assert (store.url.drivername, store.url.host, store.schema) == (
        "postgresql+psycopg",
        "db.example",
        "ops",
    )


def test_any_wrong_setting_is_one_line_naming_the_variable(store_url):
    store_url.setenv("RETAIN_PORT", "eighty")
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().startswith("Error: RETAIN_PORT: Input should be a valid integer")
    assert len(result.output.strip().splitlines()) == 1
