"""Amounts typed by people: a strict grammar before any arithmetic (issue 16, class 2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.money import MAX_DIGITS, parse_major


@pytest.mark.parametrize(("text", "currency", "minor"), [
    ("30000", "KRW", 30_000), ("30,000", "KRW", 30_000), ("₩30,000", "KRW", 30_000),
    ("300,000원", "KRW", 300_000), (" 1,234,567 ", "KRW", 1_234_567), ("12.50", "USD", 1_250),
    ("12", "USD", 1_200), ("12.5", "USD", 1_250), ("１２，５００", "KRW", 12_500),
    ("30000 KRW", "KRW", 30_000), ("$9.99", "USD", 999), ("7.000", "KRW", 7),
])
def test_what_people_type(text, currency, minor):
    assert parse_major(text, currency) == minor


@pytest.mark.parametrize("text", [
    "1e999999", "1E5", "3e5", "1e-3", "-5", "+5", "NaN", "nan", "Infinity", "inf", "0x10",
    "1_000", "1,00", "12,50", "1,0000", "12.5.0", "..5", "5.", ".5", "", "   ", "9" * 17,
    "9" * 5000, "٣٠٠٠٠", "३०००", "30 000", "30'000", "3만", "1/2", "12.50.", "1e",
])
def test_everything_else_is_refused(text):
    with pytest.raises(ValueError):
        parse_major(text, "KRW")


def test_decimals_beyond_the_currency_are_refused():
    with pytest.raises(ValueError, match="decimals"):
        parse_major("12.5", "KRW")
    with pytest.raises(ValueError, match="decimals"):
        parse_major("1.234", "USD")


@given(st.text(max_size=60))
def test_any_text_parses_to_a_bounded_integer_or_is_refused(text):
    try:
        minor = parse_major(text, "USD")
    except ValueError:
        return
    assert isinstance(minor, int) and 0 <= minor < 10 ** (MAX_DIGITS + 2)


@given(st.text(alphabet="0123456789,.eE+-_ ₩원naNIif", max_size=40))
def test_number_like_text_never_reaches_exponent_arithmetic(text):
    # Whatever the mix of digits, separators and exponent letters, the answer is an integer
    # from digits and at most one point, or a refusal; never a float or Decimal surprise.
    try:
        minor = parse_major(text, "KRW")
    except ValueError:
        return
    cleaned = text.replace(",", "").replace("₩", "").replace("원", "").strip()
    assert "e" not in cleaned.lower()
    assert minor == int(cleaned.split(".")[0] or "0")


@given(st.integers(min_value=0, max_value=10**MAX_DIGITS - 1))
def test_grouped_and_plain_spellings_agree(number):
    assert parse_major(f"{number:,}", "KRW") == parse_major(str(number), "KRW") == number
