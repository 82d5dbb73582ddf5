"""Language and time zone: the user's choice, else the browser's Accept-Language."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale
from babel import dates as babel_dates
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from app.extensions import babel
from app.timeutil import as_utc

LANGUAGES = {"en": "English", "ko": "한국어"}


def _user():
    if not has_request_context():
        return None
    api_user = g.get("api_user")
    if api_user is not None:
        return api_user
    if current_user and current_user.is_authenticated:
        return current_user
    return None


def select_locale() -> str:
    user = _user()
    if user is not None and user.locale in LANGUAGES:
        return user.locale
    if has_request_context():
        if session.get("locale") in LANGUAGES:
            return session["locale"]
        return request.accept_languages.best_match(list(LANGUAGES)) or "en"
    return "en"


def select_timezone() -> str:
    user = _user()
    if user is not None and user.timezone:
        return user.timezone
    return current_app.config["DEFAULT_TIMEZONE"]


def locale_code() -> str:
    return str(get_locale() or "en")


# CLDR's Korean short and medium formats write AM/PM as "AM"/"PM"; Korean readers
# expect 오전/오후, which the wide day-period form ("aaaa") gives.
KO_FORMATS = {"short": "yy. M. d. aaaa h:mm", "medium": "y. M. d. aaaa h:mm:ss"}


def _reader() -> tuple[Locale, ZoneInfo]:
    """The reader's locale (which force_locale may change mid-request, so it is asked for
    each time) and zone (looked up once per request: a list formats dozens of times)."""
    locale = get_locale() or Locale("en")
    if not has_request_context():
        return locale, ZoneInfo(select_timezone())
    zone = g.get("_reader_zone")
    if zone is None:
        zone = g._reader_zone = ZoneInfo(select_timezone())
    return locale, zone


def localtime(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    locale, zone = _reader()
    if locale.language == "ko":
        fmt = KO_FORMATS.get(fmt, fmt)
    return babel_dates.format_datetime(as_utc(value), fmt, tzinfo=zone, locale=locale)


def duration(delta) -> str:
    locale, _zone = _reader()
    return babel_dates.format_timedelta(delta, threshold=1.1, locale=locale)


def local_input(value: datetime | None) -> str:
    """A stored UTC time as the value of a datetime-local input in the user's zone."""
    if value is None:
        return ""
    zone = ZoneInfo(select_timezone())
    return as_utc(value).astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def timezones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories=str(app.root_path + "/../translations"))
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["local_input"] = local_input
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, locale_code=locale_code)
