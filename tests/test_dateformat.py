"""The compiled date and duration formats write exactly what Babel writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from hypothesis import given, settings
from hypothesis import strategies as st

from app import dateformat
from app.i18n import KO_FORMATS

LOCALES = [Locale("en"), Locale("ko")]
# Half-hour and 45-minute offsets, southern and northern summer time, the date line.
ZONES = [ZoneInfo(z) for z in ("Asia/Seoul", "UTC", "America/New_York", "Europe/London",
                               "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham",
                               "America/St_Johns", "Pacific/Kiritimati", "Pacific/Pago_Pago")]
FORMATS = ["short", "medium", "long", "full", *KO_FORMATS.values(),
           "EEEE, MMMM d, y 'at' h:mm a", "yy/MM/dd HH:mm:ss", "K:mm a, z", "EEE d MMM, k:mm",
           "LLLL y, ccc", "d. MMM y G", "h 'o''clock' a"]

instants = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31),
                        timezones=st.just(UTC))


@settings(max_examples=400, deadline=None)
@given(value=instants, zone=st.sampled_from(ZONES), locale=st.sampled_from(LOCALES),
       fmt=st.sampled_from(FORMATS))
def test_datetimes_match_babel(value, zone, locale, fmt):
    expected = babel_dates.format_datetime(value, fmt, tzinfo=zone, locale=locale)
    assert dateformat.format_datetime(value, fmt, zone, locale) == expected


def test_korean_short_format_says_ojeon_and_ohu():
    seoul, ko = ZoneInfo("Asia/Seoul"), Locale("ko")
    morning = datetime(2026, 11, 22, 0, 5, tzinfo=UTC)  # 09:05 in Seoul
    evening = datetime(2026, 11, 22, 13, 5, tzinfo=UTC)  # 22:05 in Seoul
    assert dateformat.format_datetime(morning, KO_FORMATS["short"], seoul, ko) == "26. 11. 22. 오전 9:05"
    assert dateformat.format_datetime(evening, KO_FORMATS["short"], seoul, ko) == "26. 11. 22. 오후 10:05"


@settings(max_examples=400, deadline=None)
@given(seconds=st.one_of(st.integers(-400_000_000, 400_000_000), st.integers(-200, 200)),
       locale=st.sampled_from(LOCALES), threshold=st.sampled_from([1.1, 0.85, 1, 2]))
def test_durations_match_babel(seconds, locale, threshold):
    delta = timedelta(seconds=seconds)
    expected = babel_dates.format_timedelta(delta, threshold=threshold, locale=locale)
    assert dateformat.format_timedelta(delta, locale, threshold) == expected


def test_duration_near_unit_edges():
    en = Locale("en")
    for days in (7.6, 7.7, 7.8, 29, 33, 364, 401):
        delta = timedelta(days=days)
        assert dateformat.format_timedelta(delta, en) == \
            babel_dates.format_timedelta(delta, threshold=1.1, locale=en)


def test_the_formats_pages_use_are_compiled_not_left_to_babel():
    for locale in LOCALES:
        for fmt in ("short", "medium", *KO_FORMATS.values()):
            assert dateformat.compiled(locale, fmt) is not None, (locale, fmt)
