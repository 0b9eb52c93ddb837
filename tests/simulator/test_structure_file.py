"""A written world says which causal structure drew it, so its judge uses that world's remedies."""

from __future__ import annotations

from simulator.structure import TODAY, read_structure, structure_for, write_structure
from simulator.world import simulate_to_dir


def test_a_written_world_records_its_structure_seed(tmp_path):
    simulate_to_dir(tmp_path / "drawn", 12, seed=3, months=4, structure_seed=5)
    simulate_to_dir(tmp_path / "demo", 12, seed=3, months=4)
    drawn = read_structure(tmp_path / "drawn" / "_truth")
    assert drawn == structure_for(5)
    assert drawn != TODAY  # the true-cause line of `retain train` uses this world's remedies
    assert read_structure(tmp_path / "demo" / "_truth") == TODAY


def test_worlds_written_before_the_record_were_todays_and_real_data_has_none(tmp_path):
    (tmp_path / "old" / "_truth").mkdir(parents=True)
    assert read_structure(tmp_path / "old" / "_truth") == TODAY
    assert read_structure(tmp_path / "company" / "_truth") is None
    write_structure(tmp_path / "old" / "_truth", 7)
    assert read_structure(tmp_path / "old" / "_truth") == structure_for(7)
