"""Who is on duty when: pure functions over shifts and overrides, in any time zone.

A shift is a weekly pattern in its own time zone: on each listed weekday it runs
from `start` to `end`; an end at or before the start runs past midnight into
the next day ("24:00" means midnight at the end of the day). Overrides are
one-off UTC intervals that put someone on duty in place of the rota.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


@dataclass(frozen=True)
class ShiftRule:
    who: int
    days: tuple[str, ...]
    start: str
    end: str
    timezone: str


@dataclass(frozen=True)
class Interval:
    who: int
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    override: bool = False


def minutes(clock: str) -> int:
    if not isinstance(clock, str) or not _CLOCK.match(clock):
        raise ValueError(f"not a time of day (HH:MM, 00:00 to 24:00): {clock!r}")
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone: {name!r}") from None


def validate(rule: ShiftRule) -> None:
    if not rule.days or any(d not in DAYS for d in rule.days) or len(set(rule.days)) != len(rule.days):
        raise ValueError(f"days must be distinct values from {', '.join(DAYS)}")
    start, end = minutes(rule.start), minutes(rule.end)
    if start == 1440:
        raise ValueError("a shift cannot start at 24:00")
    if start == end:
        raise ValueError("start and end are the same; a 24-hour shift is 00:00 to 24:00")
    zone(rule.timezone)


def occurrences(rule: ShiftRule, start: datetime, end: datetime) -> list[Interval]:
    """The shift's concrete UTC intervals that overlap [start, end)."""
    tz = zone(rule.timezone)
    begin, finish = minutes(rule.start), minutes(rule.end)
    length = finish - begin if finish > begin else finish + 1440 - begin
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    found = []
    day = first
    while day <= last:
        if DAYS[day.weekday()] in rule.days:
            local_start = datetime.combine(day, time(), tzinfo=tz) + timedelta(minutes=begin)
            # Wall-clock arithmetic in the zone, then to UTC: a DST change moves the instant.
            local_end = datetime.combine(day, time(), tzinfo=tz) + timedelta(minutes=begin + length)
            s = _wall(local_start, tz)
            e = _wall(local_end, tz)
            # A shift lying wholly in the hour skipped by a DST change has no real time.
            if s < e and s < end and e > start:
                found.append(Interval(rule.who, s, e))
        day += timedelta(days=1)
    return found


def _wall(value: datetime, tz: ZoneInfo) -> datetime:
    naive = value.replace(tzinfo=None)
    return naive.replace(tzinfo=tz).astimezone(UTC)


def on_duty(rules: Iterable[ShiftRule], overrides: Iterable[Interval], at: datetime) -> list[int]:
    """Who holds the role at `at`: an override replaces the rota while it lasts."""
    at = at.astimezone(UTC)
    covering = [o for o in overrides if o.start <= at < o.end]
    if covering:
        return list(dict.fromkeys(o.who for o in covering))
    found = []
    for rule in rules:
        if any(i.start <= at < i.end for i in occurrences(rule, at - timedelta(minutes=1), at + timedelta(minutes=1))):
            found.append(rule.who)
    return list(dict.fromkeys(found))


def coverage(rules: Iterable[ShiftRule], overrides: Iterable[Interval], start: datetime,
             end: datetime) -> list[Interval]:
    intervals = [i for r in rules for i in occurrences(r, start, end)]
    intervals += [o for o in overrides if o.start < end and o.end > start]
    return intervals


def gaps(rules: Iterable[ShiftRule], overrides: Iterable[Interval], start: datetime,
         end: datetime) -> list[tuple[datetime, datetime]]:
    """Stretches of [start, end) with nobody on duty, merged, in UTC."""
    spans = sorted((max(i.start, start), min(i.end, end))
                   for i in coverage(rules, overrides, start, end))
    found, cursor = [], start
    for s, e in spans:
        if s > cursor:
            found.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < end:
        found.append((cursor, end))
    return found


def gap_hours(gap_list: list[tuple[datetime, datetime]]) -> list[datetime]:
    """Every whole hour (UTC, truncated) that a gap touches: "any hour with no lead"."""
    hours = []
    for s, e in gap_list:
        hour = s.replace(minute=0, second=0, microsecond=0)
        while hour < e:
            hours.append(hour)
            hour += timedelta(hours=1)
    return list(dict.fromkeys(hours))


def day_start(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone(tz)).astimezone(UTC)
