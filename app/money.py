"""Money as integer minor units with an ISO-4217 code; shown with Babel in the reader's locale."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

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


def parse_major(text: str, currency: str) -> int:
    """'12,500' or '12.50' in major units -> minor units; ValueError if not exact."""
    cleaned = (text or "").replace(",", "").replace("_", "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not value.is_finite():
        raise ValueError("not a number")
    minor = value.scaleb(digits(currency))
    if minor != minor.to_integral_value():
        raise ValueError("too many decimals")
    return int(minor)
