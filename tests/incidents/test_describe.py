"""Timeline descriptions (incidents.timeline) say exactly what the template macro they
replaced said, markup and escaping included, in English and Korean."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask_babel import force_locale
from jinja2 import ChoiceLoader, DictLoader

from incidents.models import EventKind
from incidents.timeline import describe_event

# The templates as they were (templates/incidents/_event.html and the compensation and
# apology partials it included), kept as the oracle.
OLD_TEMPLATES = {
    "old/_event.html": """{# One timeline event, described in the reader's language. The incident page imports
   `describe` once (an include per event would copy the page's whole context each time);
   the postmortem renders this file with `event` set. #}
{% macro describe(event) %}
{% set d, kind = event.data, event.kind.value %}
{% if kind == "created" %}{{ _("opened the incident (grade %(grade)s, owner %(owner)s)", grade=d.grade, owner=d.owner_name or d.owner) }}
{% elif kind == "status_changed" %}{{ _("moved the status from %(from)s to %(to)s", from=status_label(d["from"]), to=status_label(d["to"])) }}
{% elif kind == "grade_changed" %}{{ _("changed the grade from %(from)s to %(to)s", from=d["from"], to=d["to"]) }}
{% elif kind == "owner_changed" %}{{ _("handed ownership from %(from)s to %(to)s", from=d.from_name or d["from"], to=d.to_name or d["to"]) }}
{% elif kind == "edited" %}{{ _("edited: %(fields)s", fields=field_labels(d.fields)) }}
{% elif kind == "customer_added" %}{{ _("added an affected customer") }}
{% elif kind == "action" %}<strong>{{ _("Action taken") }}</strong>
{% elif kind == "note" %}<strong>{{ _("Note") }}</strong>
{% elif kind.startswith("compensation_") %}{% include "old/compensation.html" %}
{% elif kind.startswith("apology_") %}{% include "old/apology.html" %}
{% elif kind == "postmortem_saved" %}{{ _("started the postmortem") if d.created else _("saved the postmortem") }}
{% elif kind == "postmortem_status" %}{{ _("moved the postmortem to %(status)s", status=pm_status_label(d.to)) }}
{% elif kind == "action_item_added" %}{{ _("added an action item") }}
{% elif kind == "action_item_done" %}{{ _("completed an action item") }}
{% elif kind == "playbook_made" %}{% if d.created %}{{ _("made a playbook from this incident") }}{% else %}{{ _("added this incident to a playbook as a recurrence") }}{% endif %} (<a href="{{ url_for('playbooks.detail', playbook_id=d.playbook_id) }}">#{{ d.playbook_id }}</a>)
{% elif kind == "notification" %}{{ _("notified %(name)s", name=d.name or d.user) }}
{% elif kind == "escalation" %}{{ _("not shared in time: escalated to the %(role)s on duty", role=role_label_value(d.role)) }}
{% elif kind == "abuse_flagged" %}{{ _("flagged an abusive customer; %(agent)s was taken off and %(lead)s took the case", agent=d.previous_owner_name, lead=d.lead_name) }}
{% elif kind == "abuse_outcome" %}{{ _("recorded the decision on the abusive customer: %(outcome)s", outcome=abuse_outcome_label(d.outcome)) }}
{% else %}{{ kind }}{% endif %}{% endmacro %}
""",
    "old/compensation.html": """{# Compensation steps on the timeline; `d` holds type, amount and currency as they were. #}
{% set what = _("compensation #%(id)s (%(type)s, %(amount)s)", id=d.compensation_id, type=comp_type_label(d.type), amount=money(d.amount, d.currency)) %}
{% if event.kind.value == "compensation_proposed" %}{{ _("proposed %(what)s", what=what) }}
{% elif event.kind.value == "compensation_approved" %}{% if d.via == "policy" %}{{ _("%(what)s was approved automatically by the self-serve policy", what=what) }}{% else %}{{ _("approved %(what)s", what=what) }}{% endif %}
{% elif event.kind.value == "compensation_rejected" %}{{ _("rejected %(what)s", what=what) }}
{% elif event.kind.value == "compensation_paid" %}{{ _("marked %(what)s as paid", what=what) }}
{% elif event.kind.value == "compensation_cancelled" %}{{ _("cancelled %(what)s", what=what) }}
{% endif %}
""",
    "old/apology.html": """{# Apology steps on the timeline, linked to the letter. #}
{% set link = url_for('apology.detail', letter_id=d.letter_id) %}
{% if event.kind.value == "apology_drafted" %}{{ _("drafted an apology") }} (<a href="{{ link }}">{{ "한국어" if d.language == "ko" else "English" }}</a>)
{% elif event.kind.value == "apology_edited" %}{{ _("saved version %(n)s of an apology", n=d.version) }} (<a href="{{ link }}">{{ _("open") }}</a>){% if d.reopened %} — {{ _("back to draft for approval") }}{% endif %}
{% elif event.kind.value == "apology_approved" %}{{ _("approved version %(n)s of an apology", n=d.version) }} (<a href="{{ link }}">{{ _("open") }}</a>){% if d.overridden %} — <strong>{{ _("despite findings: %(codes)s", codes=d.overridden|join(", ")) }}</strong>{% endif %}
{% elif event.kind.value == "apology_sent" %}{{ _("sent an apology") }} (<a href="{{ link }}">{{ _("open") }}</a>)
{% endif %}
""",
    "old/page.html": '{% from "old/_event.html" import describe %}{{ describe(event) }}',
}

# Every kind, with the data its service records, plus missing keys and text to escape.
SAMPLES = [
    ("created", {"grade": "P1", "owner": "kim@example.com", "owner_name": "Kim <b>&"}),
    ("created", {"grade": "P2", "owner": "kim@example.com", "owner_name": None}),
    ("created", {}),
    ("status_changed", {"from": "detected", "to": "shared"}),
    ("status_changed", {"from": "gone", "to": "closed"}),
    ("grade_changed", {"from": "P1", "to": "<P2>"}),
    ("owner_changed", {"from": "a@example.com", "to": "b@example.com", "from_name": "A & B",
                       "to_name": None}),
    ("owner_changed", {"from": "a@example.com", "to": "b@example.com"}),
    ("edited", {"fields": ["title", "cause", "odd<field>"]}),
    ("edited", {"fields": []}),
    ("customer_added", {}),
    ("action", {}),
    ("note", {}),
    ("compensation_proposed", {"compensation_id": 7, "type": "refund", "amount": 12500,
                               "currency": "KRW"}),
    ("compensation_approved", {"compensation_id": 7, "type": "coupon", "amount": 1250,
                               "currency": "USD", "via": "policy"}),
    ("compensation_approved", {"compensation_id": 8, "type": "cash", "amount": 99,
                               "currency": "EUR", "via": "role"}),
    ("compensation_rejected", {"compensation_id": 9, "type": "credit", "amount": 1, "currency": "JPY"}),
    ("compensation_paid", {"compensation_id": 10, "type": "replacement", "amount": 5000,
                           "currency": "KRW"}),
    ("compensation_cancelled", {"compensation_id": 11, "type": "service_extension",
                                "amount": 300, "currency": "KRW"}),
    ("apology_drafted", {"letter_id": 3, "audience": "customer", "language": "ko"}),
    ("apology_drafted", {"letter_id": 4, "audience": "public", "language": "en"}),
    ("apology_edited", {"letter_id": 3, "version": 2, "reopened": True}),
    ("apology_edited", {"letter_id": 3, "version": 3, "reopened": False}),
    ("apology_approved", {"letter_id": 3, "version": 3, "overridden": []}),
    ("apology_approved", {"letter_id": 3, "version": 4, "overridden": ["blame", "<x>&"]}),
    ("apology_sent", {"letter_id": 3, "channel": "email", "version": 4}),
    ("postmortem_saved", {"created": True}),
    ("postmortem_saved", {}),
    ("postmortem_status", {"from": "draft", "to": "in_review"}),
    ("postmortem_status", {"from": "in_review", "to": "published"}),
    ("postmortem_status", {"from": "draft", "to": "odd<"}),
    ("action_item_added", {"action_item_id": 1, "kind": "fix"}),
    ("action_item_done", {"action_item_id": 1}),
    ("playbook_made", {"playbook_id": 12, "version": 1, "created": True}),
    ("playbook_made", {"playbook_id": 13, "version": 2, "created": False}),
    ("notification", {"name": "Lee & Park", "user": "lee@example.com"}),
    ("notification", {"user": "lee@example.com"}),
    ("escalation", {"role": "lead"}),
    ("escalation", {"role": "manager"}),
    ("abuse_flagged", {"kind": "threat", "previous_owner": "a@example.com",
                       "previous_owner_name": "<Agent>", "lead": "l@example.com",
                       "lead_name": "Lead 100%"}),
    ("abuse_outcome", {"outcome": "hold", "compensation_id": None}),
    ("abuse_outcome", {"outcome": "part_ways", "compensation_id": 3}),
    ("abuse_outcome", {"outcome": "concede", "compensation_id": 3}),
]


@pytest.fixture
def old_describe(app):
    env = app.jinja_env.overlay(loader=ChoiceLoader([DictLoader(OLD_TEMPLATES), app.jinja_env.loader]))
    page = env.get_template("old/page.html")
    return lambda event: page.render(event=event)


def test_every_kind_is_sampled():
    assert {kind for kind, _data in SAMPLES} == {kind.value for kind in EventKind}


@pytest.mark.parametrize("language", ["en", "ko"])
def test_descriptions_match_the_old_template(app, old_describe, language):
    with app.test_request_context(), force_locale(language):
        for kind, data in SAMPLES:
            event = SimpleNamespace(kind=EventKind(kind), data=data)
            new = describe_event(event)
            assert str(new) == old_describe(event), (kind, data)
            assert hasattr(new, "__html__")


def test_korean_is_korean(app):
    event = SimpleNamespace(kind=EventKind.note, data={})
    with app.test_request_context(), force_locale("ko"):
        assert "Note" not in describe_event(event)
