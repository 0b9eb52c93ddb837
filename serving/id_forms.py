"""Ids typed in another Unicode form: `Café-3` composed (NFC) or decomposed (NFD).

The data may hold one spelling and a CRM send the other; they look the same, and nobody
typing an id can tell them apart. So an id not found as given is looked up by its NFC form
among the data's ids. An exact match always wins; when two of the data's ids share one NFC
form, neither is found but by its exact spelling.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def nfc(account_id: str) -> str:
    """`account_id` in Unicode normal form C (composed)."""
    return unicodedata.normalize("NFC", account_id)


def nfc_index(account_ids: Iterable[str]) -> dict[str, str]:
    """NFC form -> the data's id, for every form only one of `account_ids` has."""
    by_form: dict[str, str | None] = {}
    for account_id in account_ids:
        form = nfc(account_id)
        if by_form.setdefault(form, account_id) != account_id:
            by_form[form] = None  # two ids of the data: exact spellings only
    return {form: account_id for form, account_id in by_form.items() if account_id is not None}
