"""The one scoring service behind the API and `retain score`.

Features for an `as_of` sit in a numpy matrix (`serving.snapshots`); a request takes rows
of it, scores them with the champion bundle in use (one bundle per request, even during a
hot reload), explains the churn score and runs the playbook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from serving import explain
from serving.effects import ExpectedEffect
from serving.models import AccountModelLike, ModelBundle, ModelStore
from serving.playbook import Playbook, Recommendation, rank_actions
from serving.schemas import AccountScore, ActionOut, DriverOut, UnknownAccount
from serving.snapshots import FeatureSnapshot, FeatureStore

__all__ = ["EffectsProvider", "FeatureSnapshot", "FeatureStore", "ScoringService", "risk_tier"]

# Per-account expected effects (action -> ExpectedEffect) for snapshot rows, e.g.
# `serving.effects.UpliftEffects` backed by the `retain-uplift` champion.
EffectsProvider = Callable[[FeatureSnapshot, np.ndarray], list[Mapping[str, ExpectedEffect]]]


def risk_tier_cuts(thresholds: Any) -> dict[str, float]:
    """The model's `tier_thresholds` ((high, medium) or a mapping) as {"high", "medium"}."""
    if isinstance(thresholds, Mapping):
        return {"high": float(thresholds["high"]), "medium": float(thresholds["medium"])}
    high, medium = (float(t) for t in thresholds)
    return {"high": high, "medium": medium}


def risk_tier(probability: float, thresholds: Any) -> str:
    """High / medium / low from the model's (high, medium) probability cut points."""
    cuts = risk_tier_cuts(thresholds)
    if probability >= cuts["high"]:
        return "high"
    return "medium" if probability >= cuts["medium"] else "low"


def _effect_sentence(action: str, effect: ExpectedEffect) -> str:
    words = action.replace("_", " ")
    return (
        f"Accounts like this renewed more often after a {words}: churn risk "
        f"{100 * (effect.effect or 0.0):+.1f} pts (+/- {100 * (effect.std or 0.0):.1f})."
    )


def with_effects(
    ranked: list[Recommendation],
    effects: Mapping[str, ExpectedEffect] | None,
    arr: float | None,
) -> list[tuple[Recommendation, dict[str, Any]]]:
    """Merge the playbook's ranked actions with learned effects, best first.

    Learned actions expected to pay (saved ARR = -effect x ARR - cost > 0) come first, by
    saved ARR, with the playbook's reason when a rule also suggests them; then the
    playbook's actions that history cannot judge, in playbook order. A playbook action
    whose learned effect does not pay is left out. Without effects the playbook decides.
    """
    if effects is None:
        return [(rec, {}) for rec in ranked]
    by_action = {rec.action: rec for rec in ranked}
    learned: list[tuple[float, Recommendation, dict[str, Any]]] = []
    for action, found in effects.items():
        if found.basis != "learned" or found.effect is None:
            continue
        saved = -found.effect * (arr if arr is not None else 1.0) - found.cost
        if saved <= 0:
            continue
        rec = by_action.get(action) or Recommendation(
            action, (), _effect_sentence(action, found), (), 0, found.effect
        )
        fields = {
            "expected_effect": found.effect,
            "effect_std": found.std,
            "expected_saved_arr": saved if arr is not None else None,
            "basis": "learned",
            "basis_reason": found.basis_reason,
        }
        learned.append((saved, rec, fields))
    learned.sort(key=lambda item: -item[0])
    out = [(rec, fields) for _, rec, fields in learned]
    for rec in ranked:
        known = effects.get(rec.action)
        if known is None or known.basis != "learned" or known.effect is None:
            reason = known.basis_reason if known is not None else "no uplift model for it"
            out.append((rec, {"basis": "playbook", "basis_reason": reason}))
    return out


def _columns(model: AccountModelLike, snapshot: FeatureSnapshot) -> np.ndarray:
    try:
        return np.array([snapshot.column[f] for f in model.feature_names], dtype=np.intp)
    except KeyError as exc:
        raise LookupError(f"model needs feature {exc.args[0]!r}, not in the features") from None


@dataclass(frozen=True)
class _Batch:
    """Model outputs for a block of accounts, computed once with numpy."""

    values: np.ndarray
    churn_X: np.ndarray
    contributions: np.ndarray
    churn_p: np.ndarray
    upsell_p: np.ndarray
    names: list[str]
    healthy: dict[str, Any]
    effects: list[Mapping[str, ExpectedEffect]] | None


class ScoringService:
    """Scores accounts with the champions in use: probabilities, drivers, actions."""

    def __init__(
        self,
        models: ModelStore,
        features: FeatureStore,
        playbook: Playbook,
        *,
        top_drivers: int = 5,
        catalogue: Mapping[str, explain.FeatureLike] | None = None,
        effects: EffectsProvider | None = None,
    ) -> None:
        self.models = models
        self.features = features
        self.playbook = playbook
        self.top_drivers = top_drivers
        self.catalogue = catalogue if catalogue is not None else explain.feature_catalogue()
        self.effects = effects

    def score(
        self, account_ids: Sequence[str], as_of: datetime | None = None
    ) -> tuple[FeatureSnapshot, ModelBundle, list[AccountScore], list[UnknownAccount]]:
        """Score the given accounts; ids not active at `as_of` come back as `unknown`."""
        bundle = self.models.bundle  # one bundle for the whole request
        snapshot = self.features.snapshot(as_of)
        rows, unknown = [], []
        for account_id in account_ids:
            row = snapshot.row.get(account_id)
            if row is None:
                unknown.append(
                    UnknownAccount(
                        account_id=account_id,
                        error=f"not an active account as of {snapshot.as_of.isoformat()}",
                    )
                )
            else:
                rows.append(row)
        scores = self._score_rows(bundle, snapshot, np.asarray(rows, dtype=np.intp))
        return snapshot, bundle, scores, unknown

    def _score_rows(
        self, bundle: ModelBundle, snapshot: FeatureSnapshot, rows: np.ndarray
    ) -> list[AccountScore]:
        if len(rows) == 0:
            return []
        values = snapshot.matrix[rows]
        churn_X = values[:, _columns(bundle.churn, snapshot)]
        upsell_X = values[:, _columns(bundle.upsell, snapshot)]
        batch = _Batch(
            values=values,
            churn_X=churn_X,
            contributions=bundle.churn.contributions(churn_X),
            churn_p=np.clip(bundle.churn.predict_proba(churn_X), 0.0, 1.0),
            upsell_p=np.clip(bundle.upsell.predict_proba(upsell_X), 0.0, 1.0),
            names=list(bundle.churn.feature_names),
            healthy=dict(bundle.churn.healthy_reference),
            effects=self.effects(snapshot, rows) if self.effects is not None else None,
        )
        return [self._account(bundle, snapshot, int(row), i, batch) for i, row in enumerate(rows)]

    def _account(
        self, bundle: ModelBundle, snapshot: FeatureSnapshot, row: int, i: int, batch: _Batch
    ) -> AccountScore:
        churn_p, upsell_p = float(batch.churn_p[i]), float(batch.upsell_p[i])
        arr = None if np.isnan(snapshot.arr[row]) else float(snapshot.arr[row])
        arr_at_risk = None if arr is None else churn_p * arr
        renewal = snapshot.renewal_dates[row]
        tier = risk_tier(churn_p, bundle.churn.tier_thresholds)
        facts: dict[str, float | None] = dict(
            zip(snapshot.feature_names, batch.values[i].tolist(), strict=True)
        )
        facts.update(
            churn_probability=churn_p, upsell_probability=upsell_p, arr_at_risk=arr_at_risk
        )
        account_tier = self.playbook.tier(facts)
        fired = self.playbook.matches(facts, tier, account_tier)
        contributions = batch.contributions[i]
        by_feature = dict(zip(batch.names, contributions.tolist(), strict=False))  # no base
        effects = None if batch.effects is None else batch.effects[i]
        healthy, catalogue = batch.healthy, self.catalogue
        drivers = explain.top_drivers(
            contributions, batch.churn_X[i], batch.names, healthy, self.top_drivers, catalogue
        )
        actions = [
            ActionOut(
                action=rec.action,
                reason=rec.reason,
                rules=list(rec.rules),
                drivers=[
                    DriverOut(
                        **vars(
                            explain.driver(
                                f, by_feature.get(f, 0.0), facts.get(f), healthy, catalogue
                            )
                        )
                    )
                    for f in rec.features
                ],  # fmt: skip
                **known,
            )
            for rec, known in with_effects(rank_actions(fired, by_feature), effects, arr)
        ]
        return AccountScore(
            account_id=snapshot.account_ids[row],
            as_of=snapshot.as_of,
            churn_probability=churn_p,
            upsell_probability=upsell_p,
            next_best_action=actions[0].action if actions else "none",
            model_version=bundle.model_version,
            risk_tier=tier,  # type: ignore[arg-type]
            account_tier=account_tier,
            arr=arr,
            arr_at_risk=arr_at_risk,
            renewal_date=renewal,
            days_to_renewal=None if renewal is None else (renewal - snapshot.as_of).days,
            drivers=[DriverOut(**vars(d)) for d in drivers],
            actions=actions,
        )

    def score_all(
        self, as_of: datetime | None = None, chunk: int = 500
    ) -> tuple[FeatureSnapshot, ModelBundle, Any]:
        """Every active account as of `as_of`, in chunks: (snapshot, bundle, iterator of lists)."""
        bundle = self.models.bundle
        snapshot = self.features.snapshot(as_of)
        n = len(snapshot.account_ids)

        def chunks() -> Any:
            for start in range(0, n, chunk):
                rows = np.arange(start, min(start + chunk, n), dtype=np.intp)
                yield self._score_rows(bundle, snapshot, rows)

        return snapshot, bundle, chunks()
