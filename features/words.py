"""Small English helpers every layer's messages share."""

from __future__ import annotations


def with_article(noun: str) -> str:
    """`noun` with its indefinite article: "an upsell offer", "a training", "an upsell"."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"
