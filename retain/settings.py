"""Settings of every `retain` command, read from `RETAIN_*` environment variables or `.env`.

`retain train`, `score`, `serve`, `models` and `promote` all read this one model, so they
agree on the registry, the playbook and the data. Nothing is read at import time: call
`get_settings()`; tests clear its cache with `get_settings.cache_clear()` after changing
the environment. A value that is wrong (`RETAIN_PORT=abc`, a `RETAIN_STORE_URL` the store
cannot use) is a `SettingsError` naming each variable to fix, on one line.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from actions.plan_config import DEFAULT_PLAN
from actions.playbook import DEFAULT_PLAYBOOK
from features.units import check_currency
from store import DEFAULT_STORE_URL
from store.engine import split_store_url
from training.monitor import DEFAULT_RESULTS
from training.names import DEFAULT_TRACKING_URI


class Settings(BaseSettings):
    """Everything the commands and the scoring service need to know about their environment."""

    model_config = SettingsConfigDict(
        env_prefix="RETAIN_", env_file=".env", extra="ignore", frozen=True
    )

    data: str | None = Field(
        default=None, description="The source: a directory of files or a DB URL."
    )
    engine: Literal["duckdb", "spark"] = Field(
        default="duckdb", description="Runs the feature SQL: duckdb (this machine) or spark."
    )
    spark_master: str = Field(default="local[2]", description="Spark master URL (engine spark).")
    mlflow_uri: str = Field(
        default=DEFAULT_TRACKING_URI, description="MLflow tracking and registry."
    )
    api_keys: SecretStr = Field(
        default=SecretStr(""),
        description="Comma-separated API keys; no key means no client gets in.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    playbook: Path = DEFAULT_PLAYBOOK
    plan: Path = Field(default=DEFAULT_PLAN, description="The weekly plan's settings (YAML).")
    model_cache: Path = Field(
        default=Path("mlruns/.serving-cache"), description="Last loaded champions, used offline."
    )
    reload_seconds: float = Field(
        default=30.0, gt=0, description="How often to poll the champion alias."
    )
    max_body_bytes: int = Field(default=1_000_000, gt=0)
    as_of_cache: int = Field(default=8, ge=1, description="How many extra as_of snapshots to keep.")
    store_url: str = Field(
        default=DEFAULT_STORE_URL,
        description="The service's store (touchpoints, plans, score log): sqlite:/// or postgresql://.",
    )
    score_log_sample: float = Field(
        default=0.1, ge=0, le=1, description="Share of API scores written to the score log."
    )
    registry_timeout: float = Field(
        default=15.0, gt=0, description="Seconds to wait for the registry at start, then the cache."
    )
    monitor_results: Path = Field(
        default=DEFAULT_RESULTS,
        description="`retain monitor` writes its latest results here; /metrics reads them.",
    )
    users_file: Path | None = Field(
        default=None, description="People who sign in to the pages at /app (YAML, argon2 hashes)."
    )
    session_secret: SecretStr | None = Field(
        default=None, description="Signs the pages' session cookies (32+ characters); no default."
    )
    session_hours: float = Field(default=12.0, gt=0, description="A page session lasts this long.")
    currency: str | None = Field(
        default=None,
        description="ISO 4217 code money is shown in (EUR: '€12,300'); unset: no symbol.",
    )

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        return check_currency(value) if value else None

    @field_validator("store_url")
    @classmethod
    def _store_url(cls, value: str) -> str:
        split_store_url(value)  # a ValueError naming what to give, without the password
        return value

    @property
    def api_key_list(self) -> tuple[str, ...]:
        """The configured API keys, without blanks."""
        raw = self.api_keys.get_secret_value()
        return tuple(key.strip() for key in raw.split(",") if key.strip())


class SettingsError(ValueError):
    """A `RETAIN_*` setting is wrong; the message names each one to fix, on one line."""


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once from the environment.

    Raises:
        SettingsError: a value is wrong (the message shows no value: it may be a secret).
    """
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(describe_invalid(error)) from error


def describe_invalid(error: ValidationError) -> str:
    """One line naming each wrong `RETAIN_*` variable and why, e.g. `RETAIN_PORT: ...`."""
    problems = []
    for problem in error.errors():
        name = "RETAIN_" + "_".join(str(part) for part in problem["loc"]).upper()
        why = problem["msg"].removeprefix("Value error, ")
        problems.append(why if why.startswith(name) else f"{name}: {why}")
    return "; ".join(problems)
