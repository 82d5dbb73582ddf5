"""Language and time zone: the user's choice, else the browser's Accept-Language.

A page translates and formats a hundred strings or more, so gettext and the date
filters here find the request's catalogue, locale and zone once, rather than through
Flask-Babel's context-local look-ups on every call.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale, support
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale, get_translations
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import Markup
from wtforms.i18n import messages_path

from app import dateformat
from app.extensions import babel
from app.timeutil import as_utc

LANGUAGES = {"en": "English", "ko": "한국어"}
_ENGLISH = Locale("en")


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


# --- the reader's language --------------------------------------------------------------------

# Flask-Babel 4 keeps a request's locale in g._flask_babel (a private name, hence the pinned
# version); force_locale swaps the locale kept there and puts it back, so reading it there
# follows force_locale. tests/test_i18n.py holds these to Flask-Babel's own answers.

def current_locale() -> Locale | None:
    """Flask-Babel's get_locale(), read straight from its per-request namespace once chosen."""
    try:
        locale = g._flask_babel.babel_locale
    except (AttributeError, RuntimeError):  # not chosen yet, or no application context
        return get_locale()
    return locale if locale is not None else get_locale()


def translations() -> support.NullTranslations:
    """Flask-Babel's get_translations(), kept beside the locale it was found for."""
    try:
        state = g._flask_babel
    except (AttributeError, RuntimeError):
        return get_translations()
    locale = getattr(state, "babel_locale", None)
    found = getattr(state, "incidentbook_translations", None)
    if locale is not None and found is not None and found[0] is locale:
        return found[1]
    catalogue = get_translations()  # also chooses the locale, on a request's first call
    state.incidentbook_translations = (state.babel_locale, catalogue)
    return catalogue


def gettext(string: str, **variables) -> str:
    """flask_babel.gettext: %-formatting only when there are variables."""
    text = translations().ugettext(string)
    return text % variables if variables else text


def markup_gettext(string: str, **variables) -> Markup:
    """The templates' `_()` (Jinja's newstyle gettext, installed below) for Python that
    builds HTML: the translation as Markup, always %-formatted, its variables escaped."""
    catalogue = translations()
    if not variables:
        return _fixed_markup(catalogue, string)
    return Markup(catalogue.ugettext(string)) % variables


@lru_cache(maxsize=256)
def _fixed_markup(_catalogue, string: str) -> Markup:
    # A text without variables depends only on the language, which the catalogue stands for.
    return Markup(_catalogue.ugettext(string)) % {}


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    return LazyString(gettext, string, **variables)


def locale_code() -> str:
    return str(current_locale() or "en")


@lru_cache(maxsize=16)
def _wtforms_catalogue(locale: Locale) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


def wtforms_message(singular: str, plural: str) -> tuple[str, str]:
    """Marks one of WTForms' own messages for our catalogue (the Makefile's pybabel extract
    runs with `-k wtforms_message:1,2`)."""
    return singular, plural


# WTForms' messages that our catalogue translates in place of WTForms' own. Its Korean
# catalogue gives both plural forms of this one at once, as one message:
# "'4'는 이와 같은 부분을 위해 유효한 선택이 없습니다.\n\n'4'는 ... 선택들이 없습니다."
_OURS = {singular for singular, _plural in (
    wtforms_message("'%(value)s' is not a valid choice for this field.",
                    "'%(value)s' are not valid choices for this field."),
)}


class WTFormsTranslations:
    """WTForms' own messages ("Not a valid choice.") in the reader's language.

    Flask-WTF reads this catalogue from disk once per request; it never changes, so
    one per locale is kept for the life of the process. Messages in _OURS come from our
    catalogue instead."""

    def _catalogue(self, message: str):
        locale = current_locale()
        if locale is None:
            return None
        return translations() if message in _OURS else _wtforms_catalogue(locale)

    def gettext(self, string: str) -> str:
        catalogue = self._catalogue(string)
        return string if catalogue is None else catalogue.ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        catalogue = self._catalogue(singular)
        if catalogue is None:
            return singular if n == 1 else plural
        return catalogue.ungettext(singular, plural, n)


# --- dates and durations ----------------------------------------------------------------------

# CLDR's Korean short and medium formats write AM/PM as "AM"/"PM"; Korean readers
# expect 오전/오후, which the wide day-period form ("aaaa") gives.
KO_FORMATS = {"short": "yy. M. d. aaaa h:mm", "medium": "y. M. d. aaaa h:mm:ss"}


def _reader() -> tuple[Locale, ZoneInfo]:
    """The reader's locale (which force_locale may change mid-request, so it is asked for
    each time) and zone (looked up once per request: a list formats dozens of times)."""
    locale = current_locale() or _ENGLISH
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
    return dateformat.format_datetime(as_utc(value), fmt, zone, locale)


def duration(delta: timedelta) -> str:
    return dateformat.format_timedelta(delta, current_locale() or _ENGLISH)


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
    # Jinja's own newstyle wrappers (autoescaping, %-formatting always) around the quick
    # look-ups; `_` is bound to gettext itself instead of the extension's by-name alias.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.globals["_"] = app.jinja_env.globals["gettext"]
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["local_input"] = local_input
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, locale_code=locale_code)
