"""The quick translation look-ups say exactly what Flask-Babel and Jinja's own would."""

from __future__ import annotations

import flask_babel
import pytest
from flask import render_template_string, request, session
from flask_babel import force_locale
from jinja2 import Environment
from markupsafe import Markup

from app.forms import Form
from app.i18n import gettext, lazy_gettext, ngettext, translations
from incidents.forms import FilterForm

TEMPLATES = [
    '{{ _("Incidents") }}',
    '{{ _("Overdue: %(what)s", what="<b>late</b> & lost") }}',
    '{{ _("Overdue: %(what)s", what=safe) }}',
    '{{ gettext("page %(page)s of %(pages)s", page=2, pages="<9>") }}',
    '{{ ngettext("%(num)s incident", "%(num)s incidents", 1) }}',
    '{{ ngettext("%(num)s incident", "%(num)s incidents", 7) }}',
    '{{ ngettext("%(num)s unread", "%(num)s unread", n, num="<3>") }}',
    '{{ _("No such message, 100%% sure") }}',
    "{% autoescape false %}{{ _('Overdue: %(what)s', what='<i>') }}{% endautoescape %}",
    '{% trans %}Incidents{% endtrans %}',
    '{% trans count=n %}{{ count }} incident{% pluralize %}{{ count }} incidents{% endtrans %}',
]


def flask_babels_environment() -> Environment:
    """Jinja as Flask-Babel sets it up: the i18n extension over flask_babel's look-ups."""
    env = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    translate = flask_babel.get_translations
    env.install_gettext_callables(
        gettext=lambda s: translate().ugettext(s),
        ngettext=lambda s, p, n: translate().ungettext(s, p, n), newstyle=True)
    return env


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("source", TEMPLATES)
def test_templates_translate_and_escape_as_flask_babel_does(app, language, source):
    context = {"safe": Markup("<b>kept</b>"), "n": 3}
    with app.test_request_context(headers={"Accept-Language": language}):
        ours = render_template_string(source, **context)
        theirs = flask_babels_environment().from_string(source).render(**context)
    assert ours == theirs
    if "Incidents" in source and language == "ko":
        assert "인시던트" in ours


@pytest.mark.parametrize("language", ["en", "ko"])
def test_python_gettext_matches_flask_babel(app, language):
    with app.test_request_context(headers={"Accept-Language": language}):
        assert gettext("Incidents") == flask_babel.gettext("Incidents")
        assert gettext("Overdue: %(what)s", what="<b>") == \
            flask_babel.gettext("Overdue: %(what)s", what="<b>")
        assert gettext("100%% sure") == flask_babel.gettext("100%% sure")  # no variables: as is
        for num in (1, 2):
            assert ngettext("%(num)s incident", "%(num)s incidents", num) == \
                flask_babel.ngettext("%(num)s incident", "%(num)s incidents", num)


def test_force_locale_is_honoured_and_undone(app):
    label = lazy_gettext("Incidents")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert gettext("Incidents") == "Incidents"
        assert render_template_string('{{ _("Incidents") }}') == "Incidents"
        with force_locale("ko"):
            assert gettext("Incidents") == "인시던트"
            assert str(label) == "인시던트"
            assert render_template_string('{{ _("Incidents") }}') == "인시던트"
            with force_locale("en"):
                assert gettext("Incidents") == "Incidents"
            assert gettext("Incidents") == "인시던트"
        assert gettext("Incidents") == "Incidents"
        assert str(label) == "Incidents"


def test_a_language_switch_mid_request_is_honoured(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert gettext("Incidents") == "Incidents"
        session["locale"] = "ko"
        flask_babel.refresh()
        assert gettext("Incidents") == "인시던트"


def test_outside_a_request_nothing_is_translated(app):
    with app.app_context():
        assert gettext("Incidents") == "Incidents"
    assert translations().ugettext("Incidents") == "Incidents"  # no application at all


@pytest.mark.parametrize(("language", "message"), [("en", "Not a valid choice."),
                                                    ("ko", "올바르지 않은 선택값입니다.")])
def test_wtforms_messages_in_the_readers_language(app, language, message):
    with app.test_request_context("/?status=nonsense", headers={"Accept-Language": language}):
        form = FilterForm(request.args)
        form.status.choices = [("open", "Open")]
        form.grade.choices = form.category.choices = form.owner.choices = [("", "")]
        assert not form.validate()
        assert form.status.errors == [message]
        with force_locale("en" if language == "ko" else "ko"):
            other = FilterForm(request.args)
            other.status.choices = [("open", "Open")]
            other.grade.choices = other.category.choices = other.owner.choices = [("", "")]
            other.validate()
            assert other.status.errors != [message]


def test_wtforms_i18n_can_still_be_switched_off(app):
    app.config["WTF_I18N_ENABLED"] = False
    with app.test_request_context("/", headers={"Accept-Language": "ko"}):
        assert Form().meta.get_translations(Form()) is None
