"""Training reads the touchpoints recorded through the service with the source's, once each."""

from __future__ import annotations

from datetime import datetime

from tests.support.stores import recorded_touchpoints
from training.train import touchpoints_until

AS_OF = datetime(2024, 3, 1)


def test_a_touchpoint_in_the_source_and_the_store_counts_once(tiny_parquet_dir, tmp_path):
    alone = touchpoints_until(str(tiny_parquet_dir), AS_OF)
    assert sorted(alone["touchpoint_id"]) == ["p1", "p2"]
    both = touchpoints_until(str(tiny_parquet_dir), AS_OF, recorded_touchpoints(tmp_path))
    assert both["touchpoint_id"].tolist() == ["p1", "p2", "svc-1"]  # svc-2 is after as_of
    assert both.loc[both["touchpoint_id"] == "svc-1", ["account_id", "type"]].values.tolist() == [
        ["1003", "onboarding_push"]
    ]
    assert {"account_id", "ts", "type"} <= set(both.columns)


def test_train_builds_its_features_with_the_store_touchpoints(tmp_path, monkeypatch):
    """The models learn from the touchpoints features as serving computes them.

    That the features then count them is `tests/features/test_recorded_touchpoints.py`'s.
    """
    import pytest

    from training.train import train

    recorded = recorded_touchpoints(tmp_path)
    seen: dict[str, object] = {}

    def build_training_set(data, as_of, config, touchpoints=None, report=None):  # type: ignore[no-untyped-def]
        seen["touchpoints"] = touchpoints
        raise ValueError("stop here")

    monkeypatch.setattr("training.train.build_training_set", build_training_set)
    with pytest.raises(ValueError, match="stop here"):
        train("anything", register=False, report=lambda _: None, recorded_touchpoints=recorded)
    assert seen["touchpoints"] is recorded
