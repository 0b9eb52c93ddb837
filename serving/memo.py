"""Every account's score at the latest snapshot, computed once per champion bundle.

Between two refreshes of the source and two promotions nothing an account's latest score
depends on changes, so `LatestScores` computes them all when a bundle is loaded or swapped
in (`ScoringService.warm`, before the bundle serves) and keeps each one as an object and
as its JSON. A request at the latest date then only looks scores up, and the API sends the
stored JSON as it is: no model, explanation, playbook or serialisation work per request.
When touchpoints recorded through the service change some accounts' features, `replaced`
keeps every other account's score and puts the new ones of those accounts in
(`ScoringService.include_touchpoints`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from serving.schemas import AccountScore, ScoreResponse, UnknownAccount


class LatestScores:
    """The scores of one bundle at one snapshot, by account id, with their JSON."""

    def __init__(self, bundle: Any, snapshot: Any, scores: Iterable[AccountScore]) -> None:
        self.bundle = bundle
        self.snapshot = snapshot
        self.by_id: dict[str, AccountScore] = {}
        self.json: dict[str, bytes] = {}
        for score in scores:
            self.by_id[score.account_id] = score
            self.json[score.account_id] = score.model_dump_json().encode()

    def serves(self, bundle: Any, snapshot: Any) -> bool:
        """Whether these are the scores of `bundle` at `snapshot`."""
        return self.bundle is bundle and self.snapshot is snapshot

    def replaced(self, snapshot: Any, scores: Iterable[AccountScore]) -> LatestScores:
        """The same bundle's scores at `snapshot`: `scores`, and these for every other account.

        For a snapshot that differs from this one only in the rows of `scores`' accounts
        (`serving.snapshots.changed_rows`): an account's score depends on its row alone.
        """
        memo = LatestScores(self.bundle, snapshot, scores)
        memo.by_id = {**self.by_id, **memo.by_id}
        memo.json = {**self.json, **memo.json}
        return memo

    def json_of(self, scores: Sequence[AccountScore]) -> list[bytes] | None:
        """The stored JSON of `scores`, or None unless every one came from here."""
        parts = []
        for score in scores:
            if self.by_id.get(score.account_id) is not score:
                return None
            parts.append(self.json[score.account_id])
        return parts


def score_response_json(
    parts: Sequence[bytes], as_of: Any, model_version: str, unknown: list[UnknownAccount]
) -> bytes:
    """A `ScoreResponse` as JSON, with the scores' stored JSON put in place."""
    shell = ScoreResponse(as_of=as_of, model_version=model_version, scores=[], unknown=unknown)
    head, tail = shell.model_dump_json().encode().split(b'"scores":[]', 1)
    return head + b'"scores":[' + b",".join(parts) + b"]" + tail
