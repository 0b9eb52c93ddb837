"""Re-checking the shipped cause reader on fresh worlds keeps the reader and renews its checks."""

from __future__ import annotations

import shutil

import pytest

from training.diagnosis import SHIPPED_READER, CauseReader
from training.diagnosis_fit import main


@pytest.mark.slow
def test_check_only_renews_the_checks_and_keeps_the_reader(trained_world, tmp_path, capsys):
    out = tmp_path / "reader.json.gz"
    shutil.copy(SHIPPED_READER, out)
    before = CauseReader.load(out)
    main(["--check-only", "--untouched", str(trained_world.data), "--out", str(out)])
    after = CauseReader.load(out)
    assert after.booster.model_to_string() == before.booster.model_to_string()
    assert after.checks["worlds"] == 1.0 != before.checks["worlds"]
    assert 0.0 <= after.checks["first_driver_worst"] <= after.checks["first_three_worst"] <= 1.0
    assert after.checks["first_driver_mean"] == after.checks["first_driver_worst"]  # one world
    assert f"wrote {out}" in capsys.readouterr().out


def test_a_fit_needs_tuning_worlds_and_a_check_needs_a_reader(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--untouched", str(tmp_path)])
    assert "--tuning is required unless --check-only" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--check-only", "--untouched", str(tmp_path), "--out", str(tmp_path / "none.gz")])
    assert "there is no reader at" in capsys.readouterr().err
