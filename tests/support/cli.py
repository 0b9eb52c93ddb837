"""What CLI tests share: a stand-in that keeps the keywords a command passed, and a YAML."""

from __future__ import annotations

from pathlib import Path

import pytest


def keep_keywords(monkeypatch: pytest.MonkeyPatch, target: str) -> dict[str, object]:
    """Replace `target` (a dotted path) with a stand-in that keeps its keyword arguments.

    The stand-in raises `ValueError("stop here")`, which the commands report and exit 1 on.
    """
    seen: dict[str, object] = {}

    def stand_in(*args: object, **kwargs: object) -> None:
        seen.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(target, stand_in)
    return seen


def learning_before_tracking(folder: Path) -> Path:
    """The packaged training YAML with `learn_before_tracking: true`, written into `folder`."""
    packaged = Path(__file__).parents[2] / "training" / "defaults.yaml"
    given = folder / "train.yaml"
    given.write_text(
        packaged.read_text().replace("learn_before_tracking: false", "learn_before_tracking: true")
    )
    return given
