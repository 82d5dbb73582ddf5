"""The duty rota as pure functions: coverage, gaps and validation across weeks, midnight,
time zones and DST; property-based checks that on_duty, coverage and gaps agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.escalation import rota
from incidents.escalation.rota import Interval, ShiftRule

SEOUL = ZoneInfo("Asia/Seoul")
NEW_YORK = ZoneInfo("America/New_York")


def local(tz: ZoneInfo, *args) -> datetime:
    return datetime(*args, tzinfo=tz)


# 2026-03-02 is a Monday; 2026-03-01 a Sunday.
MON = (2026, 3, 2)
SUN = (2026, 3, 1)


# --- one shift ---------------------------------------------------------------------------------

def test_overnight_shift_covers_monday_morning_until_but_not_at_its_end():
    rule = ShiftRule(1, ("sun",), "22:00", "06:00", "Asia/Seoul")
    assert rota.on_duty([rule], [], local(SEOUL, *SUN, 22, 0)) == [1]
    assert rota.on_duty([rule], [], local(SEOUL, *SUN, 21, 59)) == []
    assert rota.on_duty([rule], [], local(SEOUL, *MON, 0, 0)) == [1]
    assert rota.on_duty([rule], [], local(SEOUL, *MON, 5, 59)) == [1]
    assert rota.on_duty([rule], [], local(SEOUL, *MON, 6, 0)) == []
    # Monday night is not a Sunday shift.
    assert rota.on_duty([rule], [], local(SEOUL, *MON, 23, 0)) == []


def test_overnight_occurrence_is_eight_hours_in_utc():
    rule = ShiftRule(1, ("sun",), "22:00", "06:00", "Asia/Seoul")
    start = local(SEOUL, *MON, 0, 0)
    found = rota.occurrences(rule, start, start + timedelta(hours=1))
    assert found == [Interval(1, datetime(2026, 3, 1, 13, 0, tzinfo=UTC),
                              datetime(2026, 3, 1, 21, 0, tzinfo=UTC))]


def test_weekday_office_hours_leave_evenings_and_the_weekend_as_gaps():
    rule = ShiftRule(1, ("mon", "tue", "wed", "thu", "fri"), "09:00", "18:00", "Asia/Seoul")
    start = local(SEOUL, *MON, 0, 0)
    end = start + timedelta(days=7)
    gaps = rota.gaps([rule], [], start, end)
    expected = [(start, start + timedelta(hours=9))]
    for day in range(4):
        expected.append((start + timedelta(days=day, hours=18), start + timedelta(days=day + 1, hours=9)))
    # Friday 18:00 to the end of Sunday: the whole weekend.
    expected.append((start + timedelta(days=4, hours=18), end))
    assert gaps == [(s.astimezone(UTC), e.astimezone(UTC)) for s, e in expected]
    saturday_noon = local(SEOUL, 2026, 3, 7, 12, 0)
    assert rota.on_duty([rule], [], saturday_noon) == []
    assert rota.on_duty([rule], [], local(SEOUL, 2026, 3, 6, 17, 59)) == [1]
    assert rota.on_duty([rule], [], local(SEOUL, 2026, 3, 6, 18, 0)) == []


def test_rota_across_the_week_boundary_sat_to_mon():
    """Tue-Sat day shift plus a Sun 24-hour shift: Monday is the only gap of the week."""
    rules = [ShiftRule(1, ("tue", "wed", "thu", "fri", "sat"), "00:00", "24:00", "Asia/Seoul"),
             ShiftRule(2, ("sun",), "00:00", "24:00", "Asia/Seoul")]
    start = local(SEOUL, 2026, 3, 4, 0, 0)  # a Wednesday
    end = start + timedelta(days=7)
    assert rota.gaps(rules, [], start, end) == [
        (local(SEOUL, 2026, 3, 9, 0, 0).astimezone(UTC), local(SEOUL, 2026, 3, 10, 0, 0).astimezone(UTC))]
    assert rota.on_duty(rules, [], local(SEOUL, 2026, 3, 8, 23, 59)) == [2]
    assert rota.on_duty(rules, [], local(SEOUL, 2026, 3, 9, 0, 0)) == []


def test_end_of_24_00_means_midnight():
    rule = ShiftRule(1, ("mon",), "18:00", "24:00", "Asia/Seoul")
    assert rota.on_duty([rule], [], local(SEOUL, *MON, 23, 59)) == [1]
    assert rota.on_duty([rule], [], local(SEOUL, 2026, 3, 3, 0, 0)) == []
    [occurrence] = rota.occurrences(rule, local(SEOUL, *MON, 0, 0), local(SEOUL, 2026, 3, 3, 0, 0))
    assert occurrence.end == local(SEOUL, 2026, 3, 3, 0, 0).astimezone(UTC)
    assert occurrence.end - occurrence.start == timedelta(hours=6)


def test_whole_day_shift_00_00_to_24_00():
    rule = ShiftRule(1, ("mon",), "00:00", "24:00", "Asia/Seoul")
    start = local(SEOUL, *MON, 0, 0)
    assert rota.gaps([rule], [], start, start + timedelta(days=1)) == []
    assert rota.on_duty([rule], [], start + timedelta(days=1)) == []


def test_new_york_shift_follows_the_wall_clock_across_the_dst_change():
    """2026-03-08: clocks in New York go from 02:00 EST to 03:00 EDT."""
    rule = ShiftRule(1, ("sat", "sun", "mon"), "09:00", "17:00", "America/New_York")
    start = local(NEW_YORK, 2026, 3, 7, 0, 0)
    found = rota.occurrences(rule, start, start + timedelta(days=3))
    assert [(i.start.hour, i.end.hour) for i in found] == [(14, 22), (13, 21), (13, 21)]
    assert all(i.end - i.start == timedelta(hours=8) for i in found)
    assert rota.on_duty([rule], [], local(NEW_YORK, 2026, 3, 8, 9, 0)) == [1]
    assert rota.on_duty([rule], [], local(NEW_YORK, 2026, 3, 8, 8, 59)) == []


def test_overnight_shift_over_the_dst_night_is_one_hour_shorter():
    rule = ShiftRule(1, ("sat",), "22:00", "06:00", "America/New_York")
    [night] = rota.occurrences(rule, local(NEW_YORK, 2026, 3, 7, 12, 0),
                               local(NEW_YORK, 2026, 3, 8, 12, 0))
    assert night.start == datetime(2026, 3, 8, 3, 0, tzinfo=UTC)  # 22:00 EST
    assert night.end == datetime(2026, 3, 8, 10, 0, tzinfo=UTC)  # 06:00 EDT
    assert rota.on_duty([rule], [], local(NEW_YORK, 2026, 3, 8, 5, 59)) == [1]
    assert rota.on_duty([rule], [], local(NEW_YORK, 2026, 3, 8, 6, 0)) == []
    # In autumn (2026-11-01) the same night is an hour longer.
    [autumn] = rota.occurrences(rule, local(NEW_YORK, 2026, 10, 31, 12, 0),
                                local(NEW_YORK, 2026, 11, 1, 12, 0))
    assert autumn.end - autumn.start == timedelta(hours=9)


def test_two_zones_cover_each_other_around_the_clock():
    """Seoul 09:00-21:00 and New York 09:00-21:00 (EST = UTC-5): 00-12 and 14-02 UTC.
    With New York at 08:00-20:00 the two halves meet exactly."""
    seoul = ShiftRule(1, rota.DAYS, "09:00", "21:00", "Asia/Seoul")  # 00:00-12:00 UTC
    new_york = ShiftRule(2, rota.DAYS, "07:00", "19:00", "America/New_York")  # 12:00-00:00 UTC (EST)
    start = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
    end = start + timedelta(days=14)
    assert rota.gaps([seoul, new_york], [], start, end) == []
    assert rota.on_duty([seoul, new_york], [], datetime(2026, 1, 6, 11, 59, tzinfo=UTC)) == [1]
    assert rota.on_duty([seoul, new_york], [], datetime(2026, 1, 6, 12, 0, tzinfo=UTC)) == [2]
    # After New York moves to summer time (2026-03-08) its shift is 11:00-23:00 UTC:
    # 23:00-00:00 UTC is a gap, 11:00-12:00 UTC is covered twice.
    after = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
    gaps = rota.gaps([seoul, new_york], [], after, after + timedelta(days=1))
    assert gaps == [(datetime(2026, 3, 10, 23, 0, tzinfo=UTC), datetime(2026, 3, 11, 0, 0, tzinfo=UTC))]
    assert set(rota.on_duty([seoul, new_york], [], datetime(2026, 3, 10, 11, 30, tzinfo=UTC))) == {1, 2}


# --- overrides -------------------------------------------------------------------------------

def test_override_replaces_the_rota_while_it_lasts_and_counts_as_coverage():
    rule = ShiftRule(1, rota.DAYS, "00:00", "24:00", "Asia/Seoul")
    holiday = Interval(2, local(SEOUL, 2026, 12, 24, 18, 0).astimezone(UTC),
                       local(SEOUL, 2026, 12, 26, 9, 0).astimezone(UTC), True)
    assert rota.on_duty([rule], [holiday], local(SEOUL, 2026, 12, 24, 17, 59)) == [1]
    assert rota.on_duty([rule], [holiday], local(SEOUL, 2026, 12, 25, 12, 0)) == [2]
    assert rota.on_duty([rule], [holiday], local(SEOUL, 2026, 12, 26, 9, 0)) == [1]


def test_override_fills_a_gap():
    rule = ShiftRule(1, ("mon", "tue", "wed", "thu", "fri"), "09:00", "18:00", "Asia/Seoul")
    saturday = Interval(2, local(SEOUL, 2026, 3, 7, 0, 0).astimezone(UTC),
                        local(SEOUL, 2026, 3, 8, 0, 0).astimezone(UTC), True)
    start, end = local(SEOUL, 2026, 3, 6, 18, 0), local(SEOUL, 2026, 3, 9, 9, 0)
    assert rota.gaps([rule], [saturday], start, end) == [
        (start.astimezone(UTC), saturday.start), (saturday.end, end.astimezone(UTC))]
    assert rota.on_duty([rule], [saturday], local(SEOUL, 2026, 3, 7, 15, 0)) == [2]
    assert saturday in rota.coverage([rule], [saturday], start, end)


# --- gap hours -------------------------------------------------------------------------------

def test_gap_hours_flags_every_hour_a_gap_touches():
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    gaps = [(at + timedelta(minutes=30), at + timedelta(hours=2, minutes=1)),  # 09:30-11:01
            (at + timedelta(hours=5), at + timedelta(hours=6))]  # 14:00-15:00 exactly
    assert rota.gap_hours(gaps) == [at, at + timedelta(hours=1), at + timedelta(hours=2),
                                    at + timedelta(hours=5)]
    assert rota.gap_hours([(at + timedelta(minutes=59), at + timedelta(minutes=61))]) == [
        at, at + timedelta(hours=1)]
    assert rota.gap_hours([]) == []


def test_weekday_rota_has_weekend_gap_hours():
    rule = ShiftRule(1, ("mon", "tue", "wed", "thu", "fri"), "09:00", "18:00", "Asia/Seoul")
    start = local(SEOUL, *MON, 0, 0)
    hours = rota.gap_hours(rota.gaps([rule], [], start, start + timedelta(days=7)))
    assert len(hours) == 7 * 24 - 5 * 9
    assert local(SEOUL, 2026, 3, 7, 12, 0).astimezone(UTC) in hours


# --- validation ------------------------------------------------------------------------------

@pytest.mark.parametrize(("days", "start", "end", "tz", "message"), [
    (("mon",), "25:00", "06:00", "Asia/Seoul", "not a time of day"),
    (("mon",), "9:00", "18:00", "Asia/Seoul", "not a time of day"),
    (("mon",), "09:00", "18:60", "Asia/Seoul", "not a time of day"),
    (("mon",), "09:00", "24:01", "Asia/Seoul", "not a time of day"),
    (("mon",), "24:00", "06:00", "Asia/Seoul", "cannot start at 24:00"),
    (("mon",), "09:00", "09:00", "Asia/Seoul", "the same"),
    (("mon",), "00:00", "00:00", "Asia/Seoul", "the same"),
    (("monday",), "09:00", "18:00", "Asia/Seoul", "days must be distinct"),
    (("mon", "mon"), "09:00", "18:00", "Asia/Seoul", "days must be distinct"),
    ((), "09:00", "18:00", "Asia/Seoul", "days must be distinct"),
    (("mon",), "09:00", "18:00", "Mars/Olympus_Mons", "unknown time zone"),
    (("mon",), "09:00", "18:00", "", "unknown time zone"),
    (("mon",), "09:00", "18:00", "../../etc/passwd", "unknown time zone"),
])
def test_invalid_shifts_are_refused_with_a_clear_message(days, start, end, tz, message):
    with pytest.raises(ValueError, match=message):
        rota.validate(ShiftRule(1, days, start, end, tz))


@pytest.mark.parametrize(("start", "end"), [("00:00", "24:00"), ("22:00", "06:00"),
                                             ("23:59", "00:00"), ("09:00", "18:00")])
def test_valid_shifts_pass(start, end):
    rota.validate(ShiftRule(1, ("mon", "sun"), start, end, "America/New_York"))


# --- properties ------------------------------------------------------------------------------

ZONES = ("Asia/Seoul", "America/New_York", "Europe/London", "Asia/Kolkata", "UTC",
         "Australia/Lord_Howe", "America/St_Johns")
clock = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))
end_clock = st.one_of(clock, st.just("24:00"))


@st.composite
def shift_rules(draw, who: int):
    start, end = draw(clock), draw(end_clock)
    if start == end:
        end = "24:00" if start == "00:00" else "00:00" if start != "24:00" else end
    days = tuple(draw(st.lists(st.sampled_from(rota.DAYS), min_size=1, max_size=7, unique=True)))
    rule = ShiftRule(who, days, start, end, draw(st.sampled_from(ZONES)))
    rota.validate(rule)
    return rule


WINDOW_START = datetime(2026, 1, 1, tzinfo=UTC)
instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31),
                        timezones=st.just(UTC))


@st.composite
def rota_sets(draw):
    rules = [draw(shift_rules(who)) for who in range(1, draw(st.integers(0, 4)) + 1)]
    overrides = []
    for who in range(10, 10 + draw(st.integers(0, 2))):
        start = draw(instants)
        overrides.append(Interval(who, start, start + timedelta(minutes=draw(st.integers(1, 3000))), True))
    return rules, overrides


@settings(max_examples=300, deadline=None)
@given(rota_sets(), instants)
def test_on_duty_iff_inside_some_coverage_interval(rota_set, at):
    rules, overrides = rota_set
    window = rota.coverage(rules, overrides, at - timedelta(days=2), at + timedelta(days=2))
    covered = any(i.start <= at < i.end for i in window)
    assert bool(rota.on_duty(rules, overrides, at)) == covered
    gaps = rota.gaps(rules, overrides, at - timedelta(hours=1), at + timedelta(hours=1))
    assert covered == (not any(s <= at < e for s, e in gaps))


@settings(max_examples=300, deadline=None)
@given(rota_sets(), instants, st.integers(1, 60 * 24 * 10))
def test_gaps_and_coverage_partition_the_window(rota_set, start, length_minutes):
    rules, overrides = rota_set
    end = start + timedelta(minutes=length_minutes)
    gaps = rota.gaps(rules, overrides, start, end)
    covered = sorted((max(i.start, start), min(i.end, end))
                     for i in rota.coverage(rules, overrides, start, end))
    assert all(i.start < end and i.end > start for i in rota.coverage(rules, overrides, start, end))
    # Gaps are ordered, non-empty, disjoint and inside the window.
    for s, e in gaps:
        assert start <= s < e <= end
    for (_s1, e1), (s2, _e2) in zip(gaps, gaps[1:], strict=False):
        assert e1 < s2
    # No gap overlaps any coverage interval.
    for gs, ge in gaps:
        for cs, ce in covered:
            assert ge <= cs or ce <= gs
    # Union of gaps and coverage is the whole window: sweep the merged pieces.
    pieces = sorted(gaps + covered)
    cursor = start
    for s, e in pieces:
        assert s <= cursor, f"hole from {cursor} to {s}"
        cursor = max(cursor, e)
    assert cursor == end
    # Each gap instant really has nobody on duty, and each gap is maximal.
    for s, e in gaps:
        assert rota.on_duty(rules, overrides, s) == []
        assert rota.on_duty(rules, overrides, e - timedelta(microseconds=1)) == []
        if s > start:
            assert rota.on_duty(rules, overrides, s - timedelta(microseconds=1)) != []


def test_shift_starting_in_the_skipped_dst_hour_yields_no_inverted_interval():
    """02:30-03:00 does not exist in New York on 2026-03-08 (02:00 jumps to 03:00). The
    shift must not produce an interval that ends before it starts, which made gaps()
    return overlapping gaps."""
    rule = ShiftRule(1, ("sun",), "02:30", "03:00", "America/New_York")
    start = datetime(2026, 3, 8, 0, 0, tzinfo=UTC)
    end = start + timedelta(days=1)
    assert all(i.start < i.end for i in rota.occurrences(rule, start, end))
    assert rota.gaps([rule], [], start, end) == [(start, end)]


# Instants within two days of DST changes, where wall-clock arithmetic is most fragile.
TRANSITIONS = [datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC),
               datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC),
               datetime(2026, 4, 4, 15, tzinfo=UTC), datetime(2026, 10, 3, 15, tzinfo=UTC)]
near_dst = st.builds(lambda base, minutes: base + timedelta(minutes=minutes),
                     st.sampled_from(TRANSITIONS), st.integers(-2 * 1440, 2 * 1440))
any_clock = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))


@st.composite
def dst_rules(draw):
    rules = []
    for who in range(1, draw(st.integers(1, 3)) + 1):
        start, end = draw(any_clock), draw(st.one_of(any_clock, st.just("24:00")))
        if start == end:
            end = "24:00" if start == "00:00" else "00:00"
        days = tuple(draw(st.lists(st.sampled_from(rota.DAYS), min_size=1, max_size=7, unique=True)))
        zone = draw(st.sampled_from(("America/New_York", "Europe/London", "Australia/Lord_Howe")))
        rules.append(ShiftRule(who, days, start, end, zone))
    return rules


@settings(max_examples=300, deadline=None)
@given(dst_rules(), near_dst, st.integers(1, 3 * 1440))
def test_partition_and_on_duty_hold_around_dst_changes(rules, start, length_minutes):
    end = start + timedelta(minutes=length_minutes)
    coverage = rota.coverage(rules, [], start, end)
    assert all(i.start < i.end for i in coverage)
    gaps = rota.gaps(rules, [], start, end)
    for (_s1, e1), (s2, _e2) in zip(gaps, gaps[1:], strict=False):
        assert e1 < s2
    pieces = sorted(gaps + [(max(i.start, start), min(i.end, end)) for i in coverage])
    cursor = start
    for s, e in pieces:
        assert s <= cursor
        cursor = max(cursor, e)
    assert cursor == end
    for gs, ge in gaps:
        assert not any(max(gs, i.start) < min(ge, i.end) for i in coverage)
    at = start + (end - start) / 2
    assert bool(rota.on_duty(rules, [], at)) == any(i.start <= at < i.end for i in coverage)
