"""Every account's score at the latest snapshot, computed once per champion bundle.

Between two refreshes of the source and two promotions nothing an account's latest score
depends on changes, so `LatestScores` computes them all when a bundle is loaded or swapped
in (`ScoringService.warm`, before the bundle serves) and keeps each one as an object and
as its JSON. A request at the latest date then only looks scores up, and the API sends the
stored JSON as it is: no model, explanation, playbook or serialisation work per request.
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
