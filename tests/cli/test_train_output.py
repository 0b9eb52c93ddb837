"""What `retain train` prints: each skipped model's reason once."""

from __future__ import annotations

from typer.testing import CliRunner

from tests.support.datasets import AS_OF, synthetic_dataset
from training.config import TrainingConfig
from training.train import Report, TrainingResult, summary_lines, trainable_splits


def test_a_skipped_model_is_named_once(monkeypatch):
    from retain.cli import app

    dataset = synthetic_dataset(n_accounts=150)
    flat = dataset.assign(upsell=dataset["upsell"].where(dataset["upsell"].isna(), 0.0))

    def fake_train(
        data: str, when: object, config: TrainingConfig, report: Report, **kwargs: object
    ) -> TrainingResult:
        _, skipped = trainable_splits(flat, AS_OF, config, report)  # as `train` does
        return TrainingResult(AS_OF, len(flat), [], {}, skipped=skipped)

    monkeypatch.setattr("training.train.train", fake_train)
    result = CliRunner().invoke(app, ["train", "--data", "anything"])
    assert result.exit_code == 0, result.output
    assert result.output.count("upsell: not trained: ") == 1, result.output


def test_the_summary_leaves_out_reasons_already_reported():
    result = TrainingResult(AS_OF, 0, [], {}, skipped={"uplift": "uplift: not trained: no data"})
    assert summary_lines(result) == ["uplift: not trained: no data"]
    assert summary_lines(result, reasons=False) == []
