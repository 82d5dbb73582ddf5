"""Template globals and filters: labels in the reader's language, durations, grade colours."""

from __future__ import annotations

import re
from functools import lru_cache

from flask import Flask, current_app, g, request, url_for
from flask_babel import format_percent
from markupsafe import Markup
from sqlalchemy import select

from app.extensions import db
from app.i18n import duration, locale_code, translations
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.models import Category, Grade, Role
from app.money import format_money
from app.rendering import render_markdown
from app.timeutil import as_utc, utcnow

_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")

ROLE_LABELS = {Role.viewer: _l("Viewer"), Role.agent: _l("Agent"), Role.lead: _l("Lead"),
               Role.manager: _l("Manager"), Role.admin: _l("Admin")}

FIELD_LABELS = {"title": _l("title"), "description": _l("description"), "category": _l("category"),
                "channel": _l("channel"), "detected_at": _l("detection time"),
                "impact": _l("customer impact"), "cause": _l("cause"),
                "resolution": _l("resolution"), "affected_count": _l("customers affected"),
                "abusive_customer": _l("abusive-customer flag"), "one_stop": _l("one-stop flag"),
                "responders": _l("responders")}


def role_label(role: Role) -> str:
    return str(ROLE_LABELS[role])


def role_label_value(value: str) -> str:
    return role_label(Role(value))


def percent(share: float | None) -> str:
    return "—" if share is None else format_percent(share)


def category_label(slug: str) -> str:
    if "category_labels" not in g:
        locale = locale_code()
        g.category_labels = {c.slug: c.label(locale) for c in db.session.scalars(select(Category))}
    return g.category_labels.get(slug) or (slug or _("no category"))


def status_label(value: str) -> str:
    from incidents.forms import STATUS_LABELS
    from incidents.models import Status

    try:
        return str(STATUS_LABELS[Status(value)])
    except ValueError:
        return value


def field_labels(fields: list[str]) -> str:
    return ", ".join(str(FIELD_LABELS.get(f, f)) for f in fields)


def minutes_label(minutes: int | None) -> str:
    if minutes is None:
        return _("no target")
    from datetime import timedelta

    return duration(timedelta(minutes=minutes))


def overdue_label(missed: list[str]) -> str:
    # Most rows of a list are late in the same one or two ways; the words depend only on
    # the language, which the catalogue stands for.
    return _overdue_label(translations(), tuple(missed))


@lru_cache(maxsize=32)
def _overdue_label(_catalogue, missed: tuple[str, ...]) -> str:
    parts = {"share": _("not shared in time"), "resolve": _("not resolved in time")}
    return _("Overdue: %(what)s", what=", ".join(parts[m] for m in missed))


def age(incident) -> str:
    end = as_utc(incident.closed_at) or utcnow()
    return duration(end - as_utc(incident.detected_at))


# Built once, so SQLAlchemy keeps its cache key rather than working it out each request.
_ALL_GRADES = select(Grade).order_by(Grade.rank)


def grades() -> list[Grade]:
    """Every grade, most urgent first, read once a request: a page's colours and its grade
    filter or picker need the same few rows."""
    if "all_grades" not in g:
        g.all_grades = list(db.session.scalars(_ALL_GRADES))
    return g.all_grades


_GRADE_COLOURS = select(Grade.id, Grade.colour).order_by(Grade.id)


def grade_styles() -> Markup:
    """Grade colours are admin data, so their CSS is built from the database once a request:
    from the grades the page has read already, else from just their ids and colours."""
    if "grade_styles" not in g:
        colours = (sorted((grade.id, grade.colour) for grade in g.all_grades)
                   if "all_grades" in g else db.session.execute(_GRADE_COLOURS))
        css = "".join(f".grade-{grade_id}{{--grade:{colour}}}" for grade_id, colour in colours
                      if _HEX_COLOUR.fullmatch(colour))
        g.grade_styles = Markup(css)
    return g.grade_styles


def plain_url(endpoint: str, **values) -> str:
    """url_for() for a link that is the same on every page (the layout's menu, say).

    Such a URL depends only on the URL map and the mount point, so each is built once
    per application and script root rather than on every request."""
    cache = current_app.extensions.setdefault("incidentbook_urls", {})
    key = (request.script_root, endpoint, *sorted(values.items()))
    try:
        return cache[key]
    except KeyError:
        url = cache[key] = url_for(endpoint, **values)
        return url


def main_nav(user) -> Markup:
    """The layout's menu for `user`, rendered once per mount point, language and the roles
    it tests: every page shows it, and nothing else in it changes between requests."""
    key = (request.script_root, locale_code(),
           *(user.can(role) for role in (Role.agent, Role.lead, Role.admin)))
    cache = current_app.extensions.setdefault("incidentbook_nav", {})
    html = None if current_app.jinja_env.auto_reload else cache.get(key)
    if html is None:
        template = current_app.jinja_env.get_template("_nav.html")
        html = cache[key] = Markup(template.render(can=user.can, Role=Role).strip())
    return html


def url_prefix(endpoint: str, argument: str) -> str:
    """The URL of `endpoint` without its last part, an integer `argument`: a list appends
    each row's id to it rather than building a URL per row."""
    url = plain_url(endpoint, **{argument: 0})
    if not url.endswith("/0"):
        raise ValueError(f"{endpoint} does not end with its <int:{argument}>")
    return url[:-1]


def fromiso(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["letter"] = lambda text: render_markdown(text, breaks=True)
    app.jinja_env.filters["fromiso"] = fromiso
    app.jinja_env.globals.update(Role=Role, role_label=role_label, status_label=status_label,
                                 role_label_value=role_label_value, percent=percent,
                                 category_label=category_label, money=format_money,
                                 field_labels=field_labels, minutes_label=minutes_label,
                                 overdue_label=overdue_label, age=age,
                                 plain_url=plain_url, main_nav=main_nav)

    @app.context_processor
    def _grade_css():
        from flask_login import current_user

        # current_user is None outside a request (a postmortem started from a script).
        signed_in = current_user is not None and current_user.is_authenticated
        return {"grade_styles": grade_styles() if signed_in else ""}
