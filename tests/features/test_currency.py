"""Money reads in the company's currency, or in none: the data contract's amounts carry none.

Eighth new-user audit: a company billing in euros read "$1,635" in its drivers and pages.
"""

from __future__ import annotations

import pytest

from features.units import format_value, money, use_currency
from retain.settings import SettingsError, get_settings


def test_without_a_currency_no_symbol_is_invented() -> None:
    assert money(12_345.6) == "12,346"
    assert format_value(12_000, "currency") == "12,000"
    assert format_value(30.4, "currency/seat") == "30 per seat"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("EUR", "€12,346"),
        ("eur", "€12,346"),
        ("GBP", "£12,346"),
        ("USD", "$12,346"),
        ("CHF", "CHF\u00a012,346"),  # letters are set apart from the digits
        ("SEK", "SEK\u00a012,346"),
    ],
)
def test_a_configured_currency_shows_its_symbol(code: str, expected: str) -> None:
    use_currency(code)
    assert money(12_345.6) == expected
    assert format_value(12_345.6, "currency") == expected
    assert money(-12_345.6) == "-" + expected
    assert money(-0.4) == expected.replace("12,346", "0")  # rounds to zero: no minus sign


def test_an_unknown_code_names_the_variable_and_what_to_give(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETAIN_CURRENCY", "euros")
    with pytest.raises(SettingsError, match=r"RETAIN_CURRENCY: 'euros' is not an ISO 4217"):
        get_settings()
    monkeypatch.setenv("RETAIN_CURRENCY", "chf")
    get_settings.cache_clear()
    assert get_settings().currency == "CHF"
    with pytest.raises(ValueError, match="such as EUR, USD"):
        use_currency("dollars")
