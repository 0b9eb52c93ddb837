"""The one scoring service behind the API and `retain score`.

Features for an `as_of` sit in a numpy matrix (`serving.snapshots`); a request takes rows
of it, scores them with the champion bundle in use (one bundle per request, even during a
hot reload), explains the churn score, runs the playbook and ranks the actions with the
bundle's learned effects (`actions.ranking`). The churn model runs once per row: its SHAP
contributions add up to the raw score, which the calibrator turns into the probability.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from actions.plan_config import UPSELL_ACTION
from actions.playbook import Playbook
from actions.ranking import (
    ExpectedEffect,
    best_action,
    first_driver_note,
    in_pain,
    rank,
    suggest,
    why_none,
    within_risk,
)
from actions.tiers import risk_tier
from features.times import utc_iso
from serving import coverage, explain
from serving.memo import LatestScores
from serving.models import AccountModelLike, ModelBundle, ModelStore
from serving.schemas import AccountScore, ActionOut, DriverOut, FamilyOut, UnknownAccount
from serving.shared_drops import BookDrop, against_book
from serving.snapshots import FeatureSnapshot, FeatureStore, changed_rows
from training.credentials import describe_error
from training.families import FamilyReading, read_batch
from training.monitor.tracking import event_count_features

__all__ = ["FeatureSnapshot", "FeatureStore", "ScoringService"]
logger = logging.getLogger(__name__)


def _columns(model: AccountModelLike, snapshot: FeatureSnapshot) -> np.ndarray:
    try:
        return np.array([snapshot.column[f] for f in model.feature_names], dtype=np.intp)
    except KeyError as exc:
        raise LookupError(f"model needs feature {exc.args[0]!r}, not in the features") from None


class RepeatedAccountError(ValueError):
    """Two ids of one request name the same account (one composed, one decomposed Unicode)."""


def _repeated(account_ids: Sequence[str], found: Sequence[str | None]) -> None:
    """Raise `RepeatedAccountError` if two of `account_ids` were found as the same account."""
    sent: dict[str, str] = {}
    for account_id, data_id in zip(account_ids, found, strict=True):
        if data_id is not None and sent.setdefault(data_id, account_id) != account_id:
            raise RepeatedAccountError(
                f"send each account once: {sent[data_id]!r} and {account_id!r} are the same"
                f" account, {data_id!r}, in two Unicode forms"
            )


@dataclass(frozen=True)
class _Batch:
    """Model outputs for a block of accounts, computed once with numpy."""

    values: np.ndarray
    churn_X: np.ndarray
    contributions: np.ndarray
    churn_p: np.ndarray
    upsell_p: np.ndarray | None  # None: no upsell model in use
    upsell_X: np.ndarray | None  # the upsell model's features (None: no upsell model)
    hidden: frozenset[str]  # features of families without data at training
    names: list[str]
    healthy: dict[str, Any]
    effects: list[Mapping[str, ExpectedEffect]] | None
    reference: dict[str, Any]  # healthy values of every family's features (wording)
    bands: dict[str, tuple[float, float]]  # healthy accounts' middle half, every feature
    shared: dict[str, BookDrop]  # trends most accounts fell by today (serving.shared_drops)
    readings: list[list[FamilyReading]]  # drivers by family (training.families)


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
    ) -> None:
        self.models = models
        self.features = features
        self.playbook = playbook
        self.top_drivers = top_drivers
        self.catalogue = catalogue if catalogue is not None else explain.feature_catalogue()
        self.memo: LatestScores | None = None  # the latest snapshot's scores (serving.memo)
        bundle = self.warm(models.bundle)
        if bundle is not models.bundle:  # its uplift model failed: the playbook ranks
            models.swap(bundle)
        models.on_swap = self.warm

    def warm(self, bundle: ModelBundle) -> ModelBundle:
        """Compute the bundle's effects and scores for the latest snapshot before it serves.

        Returns:
            The bundle to serve: without its uplift model if that fails on these features
            (the playbook ranks actions; `/readyz` shows `uplift_error`).
        """
        if bundle.effects is not None:
            try:
                bundle.effects.warm(self.features.latest)
            except Exception as exc:
                reason = f"the uplift model failed on the latest features: {describe_error(exc)}"
                logger.error("%s; the playbook ranks actions", reason)
                bundle = bundle.without_uplift(reason)
        latest = self.features.latest
        rows = np.arange(len(latest.account_ids), dtype=np.intp)
        self.memo = LatestScores(bundle, latest, self._score_rows(bundle, latest, rows))
        return bundle

    def include_touchpoints(self, touchpoints: Any) -> bool:
        """Count `touchpoints` recorded through the service (all of the store's) from now on.

        When they change the features, the latest snapshot is made again
        (`FeatureStore.include_touchpoints`) and the accounts whose rows changed are scored
        again before they serve (`rewarm`). Returns whether anything changed.
        """
        before = self.features.latest
        if not self.features.include_touchpoints(touchpoints):
            return False
        bundle = self.models.bundle
        while True:
            warmed = self.rewarm(bundle, before)
            current = self.models.bundle
            if current is not bundle:  # a champion promoted meanwhile: warm it too
                bundle = current
                continue
            if warmed is not bundle:  # its uplift model fails on the new features
                self.models.swap(warmed)
            return True

    def rewarm(self, bundle: ModelBundle, before: FeatureSnapshot) -> ModelBundle:
        """`warm` after the latest snapshot replaced `before`, scoring only what changed.

        An account's score (and its expected effects) depends on its own row of the
        snapshot alone and the snapshot's time, so when the scores of `bundle` at `before`
        are the memo, only the accounts whose rows differ are scored again
        (`snapshots.changed_rows`; their effects: `UpliftEffects.warm_rows`), every other
        score kept. Otherwise (another bundle, other accounts or time, effects that cannot
        be updated or fail) the whole `warm`.
        """
        memo, latest = self.memo, self.features.latest
        rows = changed_rows(before, latest)
        if memo is None or rows is None or not memo.serves(bundle, before):
            return self.warm(bundle)
        if bundle.effects is not None:
            try:
                updated = bundle.effects.warm_rows(latest, before, rows)
            except Exception:  # `warm` says why and serves without the uplift model
                updated = False
            if not updated:
                return self.warm(bundle)
        self.memo = memo.replaced(latest, self._score_rows(bundle, latest, rows))
        return bundle

    def _unknown(self, account_id: str, snapshot: FeatureSnapshot) -> UnknownAccount:
        known = self.features.knows(self.features.spelling(account_id))  # None: unreadable
        error = f"not an active account as of {utc_iso(snapshot.as_of)}"
        if known is not None:
            error = (
                f"{error} (no term in force)" if known else "no account with this id in the data"
            )
        return UnknownAccount(account_id=account_id, error=error)

    def is_memoized(self, as_of: datetime | None) -> bool:
        """Whether scores at `as_of` are looked up, not computed (the latest snapshot)."""
        memo = self.memo
        snapshot = self.features.latest
        if as_of is not None and as_of != snapshot.as_of:
            return False
        return memo is not None and memo.serves(self.models.bundle, snapshot)

    def is_ready(self, as_of: datetime | None) -> bool:
        """Whether scoring at `as_of` needs no heavy work (features and effects in memory)."""
        if not self.features.is_loaded(as_of):
            return False
        effects = self.models.bundle.effects
        return effects is None or effects.is_computed(self.features.snapshot(as_of))

    def prepare(self, as_of: datetime | None) -> None:
        """Compute the features and the bundle's effects at `as_of` (heavy: use a thread)."""
        snapshot = self.features.snapshot(as_of)
        effects = self.models.bundle.effects
        if effects is not None:
            effects.prepare(snapshot)

    def score(
        self, account_ids: Sequence[str], as_of: datetime | None = None
    ) -> tuple[FeatureSnapshot, ModelBundle, list[AccountScore], list[UnknownAccount]]:
        """Score the given accounts; ids not active at `as_of` come back as `unknown`."""
        bundle = self.models.bundle  # one bundle for the whole request
        snapshot = self.features.snapshot(as_of)
        row = snapshot.row
        found = [a if a in row else snapshot.find(a) for a in account_ids]  # NFC or NFD too
        _repeated(account_ids, found)
        missing = [
            self._unknown(a, snapshot) for a, f in zip(account_ids, found, strict=True) if f is None
        ]
        memo = self.memo
        if memo is not None and memo.serves(bundle, snapshot):  # the latest: computed at warm
            return snapshot, bundle, [memo.by_id[f] for f in found if f is not None], missing
        rows = [snapshot.row[f] for f in found if f is not None]
        scores = self._score_rows(bundle, snapshot, np.asarray(rows, dtype=np.intp))
        return snapshot, bundle, scores, missing

    def _score_rows(
        self, bundle: ModelBundle, snapshot: FeatureSnapshot, rows: np.ndarray
    ) -> list[AccountScore]:
        if len(rows) == 0:
            return []
        values = snapshot.matrix[rows]
        churn_X = values[:, _columns(bundle.churn, snapshot)]
        contributions = bundle.churn.contributions(churn_X)
        hidden = coverage.unsupported_features(bundle.churn, self.catalogue)
        if snapshot.tracking_change is not None:  # every account's counts moved at once
            hidden = hidden | event_count_features()
        reference = dict(getattr(bundle.churn, "family_reference", None) or {})
        reference = reference or dict(bundle.churn.healthy_reference)
        bands = dict(getattr(bundle.churn, "healthy_band", None) or {})
        upsell_X = None if bundle.upsell is None else values[:, _columns(bundle.upsell, snapshot)]
        batch = _Batch(
            values=values,
            churn_X=churn_X,
            contributions=contributions,
            churn_p=np.clip(bundle.churn.proba_from_raw(contributions.sum(axis=1)), 0.0, 1.0),
            upsell_p=None
            if bundle.upsell is None or upsell_X is None
            else np.clip(bundle.upsell.predict_proba(upsell_X), 0.0, 1.0),
            upsell_X=upsell_X,
            hidden=hidden,
            names=list(bundle.churn.feature_names),
            healthy=dict(bundle.churn.healthy_reference),
            effects=bundle.effects(snapshot, rows) if bundle.effects is not None else None,
            reference=reference,
            bands=bands,
            shared=snapshot.shared_drops,
            readings=read_batch(
                snapshot.feature_names,
                against_book(values, snapshot.feature_names, snapshot.shared_drops),
                bundle.churn.feature_names,
                contributions,
                reference,
                self.catalogue,
                getattr(bundle.churn, "cause_reader", None),
                hidden,
                bands,
            ),
        )
        return [self._account(bundle, snapshot, int(row), i, batch) for i, row in enumerate(rows)]

    def _account(
        self, bundle: ModelBundle, snapshot: FeatureSnapshot, row: int, i: int, batch: _Batch
    ) -> AccountScore:
        churn_p = float(batch.churn_p[i])
        upsell_p = None if batch.upsell_p is None else float(batch.upsell_p[i])
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
        coverage.mask_unsupported(facts, batch.hidden)  # no rule fires on a missing family
        account_tier = self.playbook.tier(facts)
        fired = self.playbook.matches(facts, tier, account_tier)
        contributions = batch.contributions[i]
        by_feature = dict(zip(batch.names, contributions.tolist(), strict=False))  # no base
        effects = None if batch.effects is None else within_risk(batch.effects[i], churn_p)
        healthy, catalogue = batch.reference, self.catalogue
        readings = batch.readings[i]
        drivers = explain.family_drivers(
            readings,
            facts,
            healthy,
            self.top_drivers,
            catalogue,
            snapshot.facts.get(snapshot.account_ids[row]),
            snapshot.as_of,
            batch.bands,
            batch.shared,
        )
        no_driver_reason = (
            None
            if readings  # no family reads as a reason either way: say so, and what instead
            else explain.without_drivers(
                by_feature, facts, healthy, tier == "low", catalogue, batch.hidden, batch.bands
            )
        )
        diagnosis = [r.family for r in readings if r.direction == "raises"]
        suggestions = suggest(fired, by_feature, diagnosis, facts)
        pain = in_pain(facts)
        ranked = rank(suggestions, effects, arr, tier, pain)
        none_reason = None if ranked else why_none(effects, arr, suggestions, tier, pain)
        if bundle.upsell is None:  # whether it would expand is the missing model's call
            kept = [r for r in ranked if r.action not in coverage.EXPANSION_ACTIONS]
            if ranked and not kept:
                none_reason = (
                    "only an upsell offer would pay, and no upsell model says whether the"
                    " account would expand (/v1/models says why there is none)"
                )
            ranked = kept
        upsell_drivers = []
        if (
            bundle.upsell is not None
            and batch.upsell_X is not None
            and any(r.action == UPSELL_ACTION for r in ranked)
        ):  # SHAP costs as much as the churn model's: only where a pitch needs its why
            upsell_drivers = explain.growth_drivers(
                bundle.upsell.contributions(batch.upsell_X[i : i + 1])[0],
                batch.upsell_X[i],
                list(bundle.upsell.feature_names),
                healthy,
                catalogue=catalogue,
                hidden=batch.hidden,
                bands=batch.bands,
            )
        actions = [
            ActionOut(
                action=ranked_action.action,
                reason=ranked_action.reason,
                rules=list(ranked_action.rules),
                drivers=[
                    DriverOut(
                        **vars(
                            explain.driver(
                                f,
                                by_feature.get(f, 0.0),
                                facts.get(f),
                                healthy,
                                catalogue,
                                batch.bands,
                                facts.get("tenure_days"),
                            )
                        )
                    )
                    for f in ranked_action.features
                ],  # fmt: skip
                expected_effect=ranked_action.expected_effect,
                effect_std=ranked_action.effect_std,
                expected_saved_arr=ranked_action.expected_saved_arr,
                ranking_effect=ranked_action.ranking_effect,
                ranking_saved_arr=ranked_action.ranking_saved_arr,
                expected_expansion_arr=ranked_action.expected_expansion_arr,
                basis=ranked_action.basis,
                basis_reason=ranked_action.basis_reason,
            )
            for ranked_action in ranked
        ]
        return AccountScore(
            account_id=snapshot.account_ids[row],
            as_of=snapshot.as_of,
            churn_probability=churn_p,
            upsell_probability=upsell_p,
            next_best_action=best_action(ranked),
            none_reason=none_reason,
            model_version=bundle.model_version,
            risk_tier=tier,  # type: ignore[arg-type]
            account_tier=account_tier,
            arr=arr,
            arr_at_risk=arr_at_risk,
            renewal_date=None if renewal is None else renewal.date(),
            days_to_renewal=None if renewal is None else (renewal - snapshot.as_of).days,
            drivers=[DriverOut(**vars(d)) for d in drivers],
            no_driver_reason=no_driver_reason,
            upsell_drivers=[DriverOut(**vars(d)) for d in upsell_drivers],
            families=[FamilyOut(**(vars(r) | {"features": list(r.features)})) for r in readings],
            actions=actions,
            action_note=first_driver_note(ranked, suggestions),
        )

    def score_all(
        self, as_of: datetime | None = None, chunk: int = 500
    ) -> tuple[FeatureSnapshot, ModelBundle, Any]:
        """Every active account as of `as_of`, in chunks: (snapshot, bundle, iterator of lists)."""
        bundle = self.models.bundle
        snapshot = self.features.snapshot(as_of)
        n = len(snapshot.account_ids)
        memo = self.memo if self.memo is not None and self.memo.serves(bundle, snapshot) else None

        def chunks() -> Any:
            for start in range(0, n, chunk):
                if memo is not None:  # the latest: scored once at warm-up
                    ids = snapshot.account_ids[start : start + chunk]
                    yield [memo.by_id[account_id] for account_id in ids]
                    continue
                rows = np.arange(start, min(start + chunk, n), dtype=np.intp)
                yield self._score_rows(bundle, snapshot, rows)

        return snapshot, bundle, chunks()
