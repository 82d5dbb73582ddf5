"""Bounds on what any input may be, checked before a query, a loop or arithmetic sees it.

An id past the database's integer range, a day in year 1 or 9999, a period of a thousand
years or a JSON body nested ten thousand deep is not a request anyone means to send; each
used to cost a 500 or minutes of CPU. They are refused (or, for ids, not found) here, with
one rule per kind of value for the web forms and the API alike.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, Field
from werkzeug.routing import IntegerConverter

from app.errors import ValidationFailed
from app.i18n import gettext as _

# Primary keys are 32-bit on PostgreSQL (SERIAL); SQLite's are 64-bit but hold no more rows.
ID_MAX = 2**31 - 1

# The days any date field or filter may name. Incidents go back no further than 2000
# (incidents.services); reports may look a little further, and nothing plans past 2999.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)
# The longest period a report walks day by day or week by week (the dashboard, the metrics,
# the delegation report): ten years of days is 3,653 buckets.
MAX_PERIOD_DAYS = 3660

# JSON bodies: deeper nesting than any of our documents needs, well under Python's
# recursion limit (a body of 100,000 brackets raised RecursionError, a 500).
JSON_MAX_DEPTH = 32


def _up_to(limit: int) -> str:
    """A regular expression for the decimal numbers from 0 to `limit`."""
    digits = str(limit)
    parts = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, d in enumerate(digits):
        if d != "0":
            below = "0" if d == "1" else f"[0-{int(d) - 1}]"
            rest = len(digits) - i - 1
            parts.append(digits[:i] + below + (rf"\d{{{rest}}}" if rest else ""))
    parts.append(digits)
    return "|".join(parts)


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: at most ten digits and within ID_MAX, so an id the
    database cannot hold is a 404 like any other missing record, not a 500.

    The bound is in the regular expression, not only in `max`: Werkzeug compares methods
    before it converts, so a rule for another method whose pattern matched the address
    turned a GET past ID_MAX into a 405 instead of a 404."""

    regex = f"(?:{_up_to(ID_MAX)})"

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min,
                         max=ID_MAX if max is None else max, signed=signed)


def install(app) -> None:
    """Before any blueprint is registered: rules compile their converters when added."""
    app.url_map.converters["int"] = IdConverter


def id_or_none(value) -> int | None:
    """A positive id from a form or query string, or None when it cannot be one."""
    try:
        number = int(str(value).strip()) if len(str(value)) <= 12 else None
    except ValueError:
        return None
    return number if number is not None and 1 <= number <= ID_MAX else None


# --- days and periods ---------------------------------------------------------------------------

def day_problem(day: date | None) -> str | None:
    if day is None or FIRST_DAY <= day <= LAST_DAY:
        return None
    return _("Give a date between %(first)s and %(last)s.", first=FIRST_DAY.isoformat(),
             last=LAST_DAY.isoformat())


def check_day(day: date | None, field: str) -> date | None:
    problem = day_problem(day)
    if problem:
        raise ValidationFailed(_("Some fields need attention."), {field: problem})
    return day


def check_period(start: date, end: date, fields: tuple[str, str] = ("from", "to"),
                 max_days: int = MAX_PERIOD_DAYS) -> tuple[date, date]:
    """Both days in range, the start not after the end, and no longer than `max_days`."""
    check_day(start, fields[0])
    check_day(end, fields[1])
    if start > end:
        raise ValidationFailed(_("Some fields need attention."),
                               {fields[0]: _("The start comes after the end.")})
    if (end - start).days + 1 > max_days:
        raise ValidationFailed(_("Some fields need attention."), {fields[1]: _(
            "A period can be at most %(n)s days long.", n=max_days)})
    return start, end


def report_period(start: date | None, end: date | None, *, default_days: int, today: date,
                  fields: tuple[str, str] = ("from", "to"), swap: bool = False,
                  ) -> tuple[date, date]:
    """The days a report covers: `end` defaults to today and `start` to `default_days`
    before it; a reversed pair is swapped when `swap` (web filters) or refused (the API)."""
    check_day(start, fields[0])
    check_day(end, fields[1])
    end = end or today
    start = start or end - timedelta(days=default_days - 1)
    if swap and start > end:
        start, end = end, start
    return check_period(start, end, fields)


def form_period(form, *, default_days: int, today: date) -> tuple[date, date]:
    """report_period() for a web filter form with `start` and `end` date fields: a period
    that cannot be used is named on the form, and the default period is shown instead."""
    try:
        return report_period(form.start.data, form.end.data, default_days=default_days,
                             today=today, fields=("start", "end"), swap=True)
    except ValidationFailed as err:
        for name, message in err.fields.items():
            field = getattr(form, name)
            field.errors = [*field.errors, message]
        return report_period(None, None, default_days=default_days, today=today)


def day_start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def day_end(day: date) -> datetime:
    """The first instant after `day` (exclusive end of a period that includes it)."""
    return day_start(day) + timedelta(days=1)


def _bounded_day(value: date) -> date:
    problem = day_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# For pydantic models: a date within FIRST_DAY..LAST_DAY.
# The API document says the same bound: JSON Schema has no minimum for a date, so a pattern
# does. It spells out the whole value, not only the year: a generator that draws from the
# pattern (Schemathesis) then makes dates, not a year followed by anything.
YEARS = "19[7-9][0-9]|2[0-9]{3}"
_DATE = "(%s)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"


def day_pattern(years: str = YEARS) -> str:
    return f"^{_DATE % years}$"


def moment_pattern(years: str = YEARS) -> str:
    """RFC 3339 with an offset, as pydantic reads it (`t` and `z` too, any fraction)."""
    return (f"^{_DATE % years}[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]+)?"
            "([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")


Day = Annotated[date, AfterValidator(_bounded_day),
                Field(json_schema_extra={"pattern": day_pattern()})]


def moment_problem(value: datetime | None) -> str | None:
    """An aware time whose UTC equivalent lies within the days above: an offset at the ends
    of the calendar (0001-01-01T00:00+14:00) has no UTC equivalent at all."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        return _("Give a time zone, e.g. 2026-11-22T09:30:00+09:00.")
    if not FIRST_DAY <= value.date() <= LAST_DAY:
        return _("Give a time between %(first)s and %(last)s.", first=FIRST_DAY.isoformat(),
                 last=LAST_DAY.isoformat())
    return None


def _bounded_moment(value: datetime) -> datetime:
    problem = moment_problem(value)
    if problem:
        raise ValueError(problem)
    return value.astimezone(UTC)


# For pydantic models: an aware datetime within the days above, converted to UTC.
Moment = Annotated[datetime, AfterValidator(_bounded_moment), Field(json_schema_extra={
    "pattern": moment_pattern(), "x-rule": "In UTC, between 1970-01-01 and 2999-12-31"})]


def check_moment(value: datetime | None, field: str) -> datetime | None:
    problem = moment_problem(value)
    if problem:
        raise ValidationFailed(_("Some fields need attention."), {field: problem})
    return value.astimezone(UTC) if value is not None else None


class DayRange:
    """WTForms validator: the field's date, if any, within FIRST_DAY..LAST_DAY."""

    def __call__(self, form, field):
        from wtforms.validators import StopValidation

        problem = day_problem(field.data)
        if problem:
            field.data = None
            raise StopValidation(problem)


# --- JSON ---------------------------------------------------------------------------------------

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def json_too_deep(raw: bytes | str, limit: int = JSON_MAX_DEPTH) -> bool:
    """Whether the raw JSON text nests arrays/objects deeper than `limit`, found without
    parsing it (parsing is what recursed too deep). Brackets inside strings do not count;
    strings are cut out by a regular expression first, so only the brackets are walked."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    depth = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > limit:
            return True
    return False


# Pydantic's Field for ids in bodies and queries.
def id_field(**kwargs):
    return Field(ge=1, le=ID_MAX, **kwargs)
