"""Babel's date and duration formats, compiled once per locale and pattern.

Babel re-reads the locale's pattern and name tables for every value it formats; a list
page formats dozens. The output is Babel's own, character for character: names come
from Babel itself, only the numbers are written here, and any pattern field not handled
below is left to Babel.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo

from babel import Locale
from babel import dates as babel_dates

NAMED_FORMATS = ("full", "long", "medium", "short")
_PLACEHOLDER = re.compile(r"(\{[01]\})")
# Representative values from which Babel's own names are read: 2024-01-01 was a Monday.
_MONDAY = datetime(2024, 1, 1)

Part = str | Callable[[datetime], str]


def _number(get: Callable[[datetime], int], width: int) -> Callable[[datetime], str]:
    return lambda value: f"{get(value):0{width}d}"


def _named(token: str, locale: Locale, samples: list[datetime], key: Callable[[datetime], int]):
    names = {key(s): babel_dates.DateTimeFormat(s, locale)[token] for s in samples}
    return lambda value: names[key(value)]


def _field(char: str, num: int, locale: Locale) -> Callable[[datetime], str] | None:
    token = char * num
    if char == "y":
        if num == 2:
            return lambda value: f"{value.year:02d}"[-2:]
        return _number(lambda value: value.year, num)
    if char in "ML":
        if num <= 2:
            return _number(lambda value: value.month, num)
        return _named(token, locale, [_MONDAY.replace(month=m) for m in range(1, 13)],
                      lambda value: value.month)
    if char == "d":
        return _number(lambda value: value.day, num)
    if char == "E" or (char in "ec" and num >= 3):
        return _named(token, locale, [_MONDAY.replace(day=d) for d in range(1, 8)],
                      lambda value: value.weekday())
    if char == "a":
        return _named(token, locale, [_MONDAY, _MONDAY.replace(hour=12)],
                      lambda value: value.hour >= 12)
    if char == "h":
        return _number(lambda value: value.hour % 12 or 12, num)
    if char == "K":
        return _number(lambda value: value.hour % 12, num)
    if char == "H":
        return _number(lambda value: value.hour, num)
    if char == "k":
        return _number(lambda value: value.hour or 24, num)
    if char == "m":
        return _number(lambda value: value.minute, num)
    if char == "s":
        return _number(lambda value: value.second, num)
    return None  # eras, quarters, weeks, time zones, fractions: Babel does these


def _compile_pattern(pattern: str, locale: Locale) -> list[Part] | None:
    parts: list[Part] = []
    for kind, value in babel_dates.tokenize_pattern(pattern):
        if kind == "chars":
            parts.append(value)
            continue
        field = _field(*value, locale)
        if field is None:
            return None
        parts.append(field)
    return parts


def _key(locale: Locale) -> tuple:
    # Each request parses its own Locale object, and comparing two of them is slow
    # Python; their parts compare at C speed.
    return locale.language, locale.territory, locale.script, locale.variant, locale.modifier


# Keyed by locale and format; both come from the code (a few languages, a few formats).
_compiled_formats: dict[tuple, tuple[Part, ...] | None] = {}


def compiled(locale: Locale, fmt: str) -> tuple[Part, ...] | None:
    """`fmt` for `locale` as literal text and field writers; None: Babel must do it."""
    key = (*_key(locale), fmt)
    try:
        return _compiled_formats[key]
    except KeyError:
        parts = _compiled_formats[key] = _compile(locale, fmt)
        return parts


def _compile(locale: Locale, fmt: str) -> tuple[Part, ...] | None:
    if fmt not in NAMED_FORMATS:
        parts = _compile_pattern(fmt, locale)
        return None if parts is None else tuple(parts)
    # As babel.dates.format_datetime: the locale's glue ("{1}, {0}") with its quotes dropped,
    # the date pattern for {1} and the time pattern for {0}.
    glue = babel_dates.get_datetime_format(fmt, locale=locale).replace("'", "")
    pieces = {"{0}": babel_dates.get_time_format(fmt, locale=locale).pattern,
              "{1}": babel_dates.get_date_format(fmt, locale=locale).pattern}
    parts = []
    for piece in _PLACEHOLDER.split(glue):
        if piece in pieces:
            compiled = _compile_pattern(pieces[piece], locale)
            if compiled is None:
                return None
            parts.extend(compiled)
        elif piece:
            parts.append(piece)
    return tuple(parts)


def format_datetime(value: datetime, fmt: str, zone: tzinfo, locale: Locale) -> str:
    """babel.dates.format_datetime(value, fmt, tzinfo=zone, locale=locale) for an aware `value`."""
    parts = compiled(locale, fmt)
    if parts is None:
        return babel_dates.format_datetime(value, fmt, tzinfo=zone, locale=locale)
    local = value.astimezone(zone)
    return "".join([part if part.__class__ is str else part(local) for part in parts])


# Keyed by locale, unit and count. A longer span moves up a unit long before its count grows
# (66 seconds are a minute, 27 hours a day), so only years can count high: a few hundred
# entries per language.
_amounts: dict[tuple, str] = {}


def _amount(locale: Locale, unit: str, value: int) -> str:
    key = (*_key(locale), unit, value)
    text = _amounts.get(key)
    if text is None:
        # An infinite threshold makes Babel skip to `unit`, the one already chosen, and
        # write `value`.
        seconds = value * dict(babel_dates.TIMEDELTA_UNITS)[unit]
        text = _amounts[key] = babel_dates.format_timedelta(
            seconds, granularity=unit, threshold=math.inf, locale=locale)
    return text


def format_timedelta(delta: timedelta, locale: Locale, threshold: float = 1.1) -> str:
    """babel.dates.format_timedelta(delta, threshold=threshold, locale=locale)."""
    seconds = int(delta.days * 86400 + delta.seconds)
    for unit, per_unit in babel_dates.TIMEDELTA_UNITS:
        value = abs(seconds) / per_unit
        if value >= threshold or unit == "second":
            if unit == "second" and value > 0:
                value = max(1, value)
            return _amount(locale, unit, int(round(value)))
    return ""
