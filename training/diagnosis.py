"""Which cause is behind an account's churn risk: a reader of causes learned on simulated worlds.

Per-feature SHAP values spread the credit for a cause over its correlated proxies (a key
user who left shows as low seat fill, low usage, missed KPIs), and the proxy often wins.
Measured on simulated worlds whose true causes are known (`simulator/causes.py`), against
family-summed SHAP, SHAP filtered to features that differ from healthy accounts, and
attribution along a causal order of the families, a classifier that reads the dominant
cause from all the features named the right family first for 97% of at-risk accounts on
untouched data seeds, where the best attribution reached 72% with 7-15% for support
storms and lost key users (docs/results.md, "Explanations that name the cause").

`CauseReader` is that classifier: a multiclass LightGBM over `simulator.causes.CAUSES`,
fitted by `training.diagnosis_fit` on a tuning set of simulated worlds drawn from several
causal structures and checked on untouched ones; the shipped reader is
`training/cause_reader.json.gz` with the checks it passed (`CauseReader.checks`). It
reads only the contract's features, so it runs on any company's data; what it learned
about how causes show in features is the simulator's, which is its limit.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

SHIPPED_READER = Path(__file__).with_name("cause_reader.json.gz")
READER_PARAMS: dict[str, object] = {
    "objective": "multiclass",
    "num_leaves": 15,
    "learning_rate": 0.05,
    "min_child_samples": 20,
    "feature_fraction": 0.9,
    "lambda_l2": 1.0,
    "verbose": -1,
    "num_threads": 1,
    "seed": 1,
    "deterministic": True,
}
READER_ROUNDS = 150
BALANCE = 0.5  # measured: 1.0 and 0.0 against 0.5 on the untouched worlds (docs/results.md)


@dataclass
class CauseReader:
    """Probabilities of each cause being the dominant one, from an account's features.

    Attributes:
        booster: The multiclass LightGBM (one class per cause, in `causes` order).
        causes: Cause names (`simulator.causes.CAUSES`).
        families: The feature family that reveals each cause, in `causes` order.
        feature_names: The columns the booster reads, in order.
        checks: What it reached on untouched simulated worlds when last checked (fitted or
            `diagnosis_fit --check-only`).
    """

    booster: lgb.Booster
    causes: list[str]
    families: list[str]
    feature_names: list[str]
    checks: dict[str, float] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        features: pd.DataFrame,
        cause: pd.Series,
        cause_family: dict[str, str],
        feature_names: Sequence[str],
        balance: float = BALANCE,
    ) -> CauseReader:
        """Fit on snapshots with a known dominant cause.

        Each snapshot weighs `1 / count(its cause) ** balance`: 0 keeps the causes as common
        as in the tuning worlds, 1 makes them equally likely a priori.
        """
        causes = list(cause_family)
        codes = cause.map({name: i for i, name in enumerate(causes)})
        known = codes.notna().to_numpy()
        y = codes[known].astype(int).to_numpy()
        counts = np.bincount(y, minlength=len(causes)).astype(float)
        weight = 1.0 / np.maximum(counts[y], 1.0) ** balance
        X = features.loc[known, list(feature_names)].to_numpy(dtype=float)
        params = dict(READER_PARAMS, num_class=len(causes))
        booster = lgb.train(params, lgb.Dataset(X, y, weight=weight), READER_ROUNDS)
        families = [cause_family[name] for name in causes]
        return cls(booster, causes, families, list(feature_names))

    def matrix(self, features: pd.DataFrame | np.ndarray, names: Sequence[str]) -> np.ndarray:
        """The reader's columns out of a matrix whose columns are `names` (NaN if absent)."""
        if isinstance(features, pd.DataFrame):
            return features.reindex(columns=self.feature_names).to_numpy(dtype=float)
        matrix = np.atleast_2d(np.asarray(features, dtype=float))
        position = {name: i for i, name in enumerate(names)}
        out = np.full((len(matrix), len(self.feature_names)), np.nan)
        for j, name in enumerate(self.feature_names):
            if name in position:
                out[:, j] = matrix[:, position[name]]
        return out

    def cause_probabilities(self, X: np.ndarray) -> np.ndarray:
        """(n, causes) probability that each cause is the account's dominant one."""
        return np.asarray(self.booster.predict(X, num_threads=1)).reshape(len(X), -1)

    def family_probabilities(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Family -> probability that the dominant cause is one this family reveals."""
        p = self.cause_probabilities(X)
        out: dict[str, np.ndarray] = {}
        for j, family in enumerate(self.families):
            out[family] = out.get(family, 0.0) + p[:, j]
        return out

    def family_evidence(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Family -> (n, features): the reader's SHAP toward the causes the family reveals."""
        k = len(self.feature_names)
        contrib = np.asarray(self.booster.predict(X, pred_contrib=True, num_threads=1))
        per_class = contrib.reshape(len(X), len(self.causes), k + 1)[:, :, :k]
        out: dict[str, np.ndarray] = {}
        for j, family in enumerate(self.families):
            out[family] = out.get(family, 0.0) + per_class[:, j, :]
        return out

    def to_json(self) -> str:
        """The reader as JSON text (the booster as LightGBM's model string)."""
        return json.dumps(
            {
                "causes": self.causes,
                "families": self.families,
                "feature_names": self.feature_names,
                "checks": self.checks,
                "booster": self.booster.model_to_string(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> CauseReader:
        """The reader written by `to_json`."""
        data = json.loads(text)
        return cls(
            lgb.Booster(model_str=data["booster"]),
            list(data["causes"]),
            list(data["families"]),
            list(data["feature_names"]),
            dict(data.get("checks", {})),
        )

    @classmethod
    def load(cls, path: Path) -> CauseReader:
        """The reader written by `save`."""
        return cls.from_json(gzip.decompress(path.read_bytes()).decode())

    def save(self, path: Path) -> None:
        """Write the reader gzipped (`training/cause_reader.json.gz` when shipped)."""
        path.write_bytes(gzip.compress(self.to_json().encode(), mtime=0))


@lru_cache(maxsize=2)
def load_reader(path: Path = SHIPPED_READER) -> CauseReader | None:
    """The reader at `path`, or None when there is none (drivers then follow SHAP alone)."""
    if not path.is_file():
        return None
    return CauseReader.load(path)
