"""Money as integer minor units with an ISO-4217 code; shown with Babel in the reader's locale."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from babel.numbers import get_currency_precision, list_currencies
from flask_babel import format_currency


def is_currency(code: str) -> bool:
    return isinstance(code, str) and len(code) == 3 and code in list_currencies()


def digits(currency: str) -> int:
    return get_currency_precision(currency)


def to_major(amount: int | float, currency: str) -> Decimal:
    # str() first: a median of two amounts can be x.5 minor units.
    return Decimal(str(amount)).scaleb(-digits(currency))


def format_money(amount: int | float | None, currency: str) -> str:
    if amount is None:
        return "—"
    return format_currency(to_major(amount, currency), currency)


# What a person may type as an amount in major units: digits, optionally grouped by commas
# in threes, and at most one decimal point; a currency sign before or "원" or the code after.
# Nothing else: no exponent ("1e999999" once cost a minute of CPU inside the write lock), no
# sign, no "NaN", and never more than MAX_DIGITS digits, so no arithmetic ever sees a huge
# number. Checked before Decimal is called on anything.
MAX_DIGITS = 16
_AMOUNT = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?")
_SIGNS = "₩$€£¥"


def parse_major(text: str, currency: str) -> int:
    """'12,500', '₩12,500', '12,500원' or '12.50' in major units -> minor units.

    ValueError (with a reason) for anything else, including more decimals than the currency
    has; KeyError for an unknown currency."""
    precision = digits(currency)
    cleaned = unicodedata.normalize("NFKC", text or "").strip()
    if len(cleaned) > 40:
        raise ValueError("too long")
    cleaned = cleaned.lstrip(_SIGNS).strip()
    for suffix in ("원", currency.upper(), currency.lower()):
        cleaned = cleaned.removesuffix(suffix).strip()
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        raise ValueError("not a number")
    whole, _dot, fraction = cleaned.replace(",", "").partition(".")
    if len(whole.lstrip("0")) + len(fraction) > MAX_DIGITS:
        raise ValueError("too large")
    if len(fraction.rstrip("0")) > precision:
        raise ValueError("too many decimals")
    return int(whole + fraction.ljust(precision, "0")[:precision])
