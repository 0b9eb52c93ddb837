"""Ids typed in another form: `Café-3` composed (NFC) or decomposed (NFD), or in other case.

The data may hold one spelling and a CRM send the other: Unicode forms look the same, and
nobody typing an id can tell them apart; a CRM may send a UUID upper-case that the product
exports lower-case (the eighth new-user audit). So an id not found as given is looked up by
its form (NFC, then case-folded) among the data's ids. An exact match always wins; when two
of the data's ids share one form (`A1` and `a1`), neither is found but by its exact spelling.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def id_form(account_id: str) -> str:
    """`account_id` in Unicode normal form C (composed), case-folded."""
    return unicodedata.normalize("NFC", account_id).casefold()


def form_index(account_ids: Iterable[str]) -> dict[str, str]:
    """Form -> the data's id, for every form only one of `account_ids` has."""
    by_form: dict[str, str | None] = {}
    for account_id in account_ids:
        form = id_form(account_id)
        if by_form.setdefault(form, account_id) != account_id:
            by_form[form] = None  # two ids of the data: exact spellings only
    return {form: account_id for form, account_id in by_form.items() if account_id is not None}
