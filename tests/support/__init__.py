"""Shared builders for the tests: the one place tests get their worlds from.

- `tiny`: a hand-made three-account customer base, valid by the contract (`tiny_world`,
  `write_tables`; `late_closings`: with tickets closed days after its last event).
- `tables`: typed DuckDB contract tables and seeded random worlds with every table filled,
  plus `change_after` to change the future (`typed_connection`, `random_world`).
- `datasets`: a synthetic labelled training set (`synthetic_dataset`).
- `serving`: a real small LightGBM model, bundles and a scoring service on random accounts.
- Simulated worlds come from `simulator.simulate` at the smallest size that proves the point.
"""

from tests.support.tiny import tiny_world, write_tables

__all__ = ["tiny_world", "write_tables"]
