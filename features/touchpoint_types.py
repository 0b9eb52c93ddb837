"""Touchpoint types against the action codes: which count as actions, which only look like one.

The contract is exact: a touchpoint counts as an action only when its `type` is an action
code; other types are allowed and ignored. Nothing here maps a type to a code. It only
says which code a type looks like once case, spaces and hyphens are set aside ("Health
Check" looks like `health_check`) or a usual abbreviation is spelt out ("QBR" looks like
`business_review`), so that `retain validate` and `retain train` can tell
the user why their touchpoints teach nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from features.casting import quote
from features.contract import ACTION_CODES

CONTRACT_PAGE = "docs/data-contract.md"
SHOWN = 5  # types named in a sentence; the rest are counted


ABBREVIATIONS = {"qbr": "business_review", "ebr": "business_review"}
"""CS teams' usual short names for an action (quarterly or executive business review)."""


def looks_like(kind: str) -> str | None:
    """The action code `kind` spells but for case, spaces and hyphens, or abbreviates (QBR).

    None if none, or if `kind` is the code itself.
    """
    loose = "_".join(part for part in re.split(r"[\s_-]+", kind.strip().lower()) if part)
    loose = ABBREVIATIONS.get(loose, loose)
    return loose if loose in ACTION_CODES and loose != kind else None


def type_counts(con: Any, table: str = "raw_touchpoints") -> dict[str, int]:
    """Touchpoints per non-null `type` of a source's table, most frequent first."""
    rows = con.execute(
        f"SELECT CAST(type AS VARCHAR) AS kind, count(*) FROM {quote(table)}"
        " WHERE type IS NOT NULL GROUP BY kind ORDER BY count(*) DESC, kind"
    ).fetchall()
    return {str(kind): int(n) for kind, n in rows}


def other_types(counts: Mapping[str, int]) -> dict[str, int]:
    """The types of `counts` that are not action codes (these touchpoints are not actions)."""
    return {kind: n for kind, n in counts.items() if kind not in ACTION_CODES}


def describe_types(counts: Mapping[str, int], shown: int = SHOWN) -> str:
    """Types with their counts, most first: `'Health Check' 412 (looks like health_check), ...`."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    parts = []
    for kind, n in ordered[:shown]:
        code = looks_like(kind)
        parts.append(f"{kind!r} {n:,}" + (f" (looks like {code})" if code else ""))
    rest = len(ordered) - shown
    if rest > 0:
        parts[-1] += f" and {rest} more type{'s' if rest > 1 else ''}"
    return ", ".join(parts)


def near_misses(counts: Mapping[str, int]) -> dict[str, int]:
    """The types of `counts` that look like an action code without being one."""
    return {kind: n for kind, n in counts.items() if looks_like(kind)}


def validate_note(counts: Mapping[str, int]) -> str | None:
    """`retain validate`'s note on touchpoint types that are not action codes (None: all are)."""
    others = other_types(counts)
    if not others:
        return None
    total, ignored = sum(counts.values()), sum(others.values())
    near = next(iter(near_misses(others)), None)
    example = f"{looks_like(near)}, not {near!r}; " if near else ""
    return (
        f"Note: {ignored:,} of {total:,} touchpoints have a type that is not an action code"
        f" ({len(others)} type{'s' if len(others) > 1 else ''}: {describe_types(others)});"
        " the contract allows other types, but only exact action codes count as actions"
        f" ({example}see {CONTRACT_PAGE})."
    )
