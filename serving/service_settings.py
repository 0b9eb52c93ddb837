"""What the scoring service reads from the settings (`retain.settings.Settings` gives it).

The settings model itself lives on top, with the CLI; serving only states the fields it
needs, so it never imports upward.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class ServiceSettings(Protocol):
    """The settings fields the API and batch scoring read."""

    @property
    def data(self) -> str | None: ...
    @property
    def mlflow_uri(self) -> str: ...
    @property
    def playbook(self) -> Path: ...
    @property
    def model_cache(self) -> Path: ...
    @property
    def reload_seconds(self) -> float: ...
    @property
    def max_body_bytes(self) -> int: ...
    @property
    def as_of_cache(self) -> int: ...
    @property
    def store_url(self) -> str: ...
    @property
    def score_log_sample(self) -> float: ...
    @property
    @property
    @property
    def registry_timeout(self) -> float: ...
    @property
    def api_key_list(self) -> tuple[str, ...]: ...
    @property
    def currency(self) -> str | None: ...
