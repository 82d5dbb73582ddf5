"""`wsgi:app` plus three reference pages that the bench measures beside the real ones.

The first two show what the throughput target leaves for a page's own work: a signed-in
request that renders nothing, and one that renders only the layout (menu, language switch,
inbox badge) around an empty page. The third is the least the incident page could cost (see
its comment below). All pass through the same sign-in check, session, user load and hooks as
every page. They exist only in the bench's server, never in `wsgi:app`.
"""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.i18n import locale_code
from app.models import Category, Grade, Role, User
from incidents.forms import CHANNEL_LABELS, STATUS_LABELS
from incidents.models import AffectedCustomer, Incident, Status
from incidents.services import _TIMELINE_COUNT, _TIMELINE_ROWS, transition_role
from wsgi import app

_EMPTY_PAGE = app.jinja_env.from_string(
    '{% extends "base.html" %}{% block title %}—{% endblock %}{% block content %}{% endblock %}')


@app.get("/_bench/signed-in")
def bench_signed_in():
    return "signed in"


@app.get("/_bench/layout")
def bench_layout():
    return render_template(_EMPTY_PAGE)


# --- floor: the incident page's own work at its least ------------------------------------------
#
# What issue 2 asks the incident page to show (facts, affected customers, the status steps and
# the buttons the reader may press, the note form and a page of the timeline), read with four
# Core statements and written by one flat template: no ORM objects, no WTForms, no macros, and
# none of the panels later features add (compensation, apology, postmortem, suggestions, abuse).
# Not a page anyone should ship (its forms would drift from the real ones, and it leaves out what
# issues 3 to 6 put on the page); it measures whether issue 2's content alone could meet the
# throughput target, whatever the code looked like.

_owner, _reporter = aliased(User), aliased(User)
_FLOOR_INCIDENT = (
    select(Incident.id, Incident.title, Incident.description, Incident.impact, Incident.cause,
           Incident.resolution, Incident.grade_id, Grade.name.label("grade_name"), Incident.status,
           Incident.channel, Incident.detected_at, Incident.shared_at, Incident.mitigated_at,
           Incident.resolved_at, Incident.closed_at, Incident.affected_count,
           _owner.name.label("owner_name"), _owner.title.label("owner_title"),
           _reporter.name.label("reporter_name"), Category.name.label("category"),
           Category.name_ko.label("category_ko"))
    .join(Grade, Grade.id == Incident.grade_id).join(_owner, _owner.id == Incident.owner_id)
    .join(_reporter, _reporter.id == Incident.reporter_id)
    .outerjoin(Category, Category.id == Incident.category_id)
    .where(Incident.id == bindparam("incident_id")))
_FLOOR_CUSTOMERS = (select(AffectedCustomer.name, AffectedCustomer.contact,
                           AffectedCustomer.reference, AffectedCustomer.impact)
                    .where(AffectedCustomer.incident_id == bindparam("incident_id"))
                    .order_by(AffectedCustomer.id))

_FLOOR_PAGE = app.jinja_env.from_string('''{% extends "base.html" %}
{% block title %}#{{ i.id }} {{ i.title }}{% endblock %}
{% block content %}
<div class="heading"><h1><span class="badge grade-{{ i.grade_id }}">{{ i.grade_name }}</span> #{{ i.id }} {{ i.title }}</h1>
<a class="button" href="/incidents/{{ i.id }}/edit">{{ _("Edit") }}</a></div>
<section class="status-bar"><ol class="steps">{% for s in steps %}<li class="{% if s == i.status %}current{% elif s.step < i.status.step %}done{% endif %}">{{ status_labels[s] }}</li>{% endfor %}</ol>
{% if transitions %}<form method="post" action="/incidents/{{ i.id }}/status" class="status-form">
<input type="hidden" name="csrf_token" value="{{ csrf_token() }}"><input type="hidden" name="expected" value="{{ i.status.value }}">
<div class="field"><label for="note">{{ _("Note") }}</label><textarea id="note" name="note"></textarea></div>
<div class="actions">{% for s in transitions %}<button type="submit" name="status" value="{{ s.value }}">{% if s.step < i.status.step %}{{ _("Reopen") }}{% else %}{{ _("Mark %(status)s", status=status_labels[s]) }}{% endif %}</button>{% endfor %}</div></form>{% endif %}</section>
<div class="columns"><section class="card"><h2>{{ _("Facts") }}</h2><dl class="facts">
<dt>{{ _("Status") }}</dt><dd>{{ status_labels[i.status] }}</dd>
<dt>{{ _("Accountable owner") }}</dt><dd>{{ i.owner_name }} · {{ i.owner_title }}</dd>
<dt>{{ _("Reported by") }}</dt><dd>{{ i.reporter_name }}</dd>
<dt>{{ _("Category") }}</dt><dd>{{ (i.category_ko if ko and i.category_ko else i.category) or "—" }}</dd>
<dt>{{ _("Channel") }}</dt><dd>{{ channel_labels[i.channel] if i.channel else "—" }}</dd>
<dt>{{ _("Detected") }}</dt><dd>{{ i.detected_at|localtime }}</dd>
{% if i.shared_at %}<dt>{{ _("Shared") }}</dt><dd>{{ i.shared_at|localtime }}</dd>{% endif %}
{% if i.mitigated_at %}<dt>{{ _("Mitigated") }}</dt><dd>{{ i.mitigated_at|localtime }}</dd>{% endif %}
{% if i.resolved_at %}<dt>{{ _("Resolved") }}</dt><dd>{{ i.resolved_at|localtime }}</dd>{% endif %}
{% if i.closed_at %}<dt>{{ _("Closed") }}</dt><dd>{{ i.closed_at|localtime }}</dd>{% endif %}
<dt>{{ _("Customers affected") }}</dt><dd>{{ i.affected_count if i.affected_count is not none else "—" }}</dd></dl>
{% if i.description %}<h3>{{ _("Description") }}</h3><div class="markdown">{{ i.description|markdown }}</div>{% endif %}
{% if i.impact %}<h3>{{ _("Customer impact") }}</h3><div class="markdown">{{ i.impact|markdown }}</div>{% endif %}
{% if i.cause %}<h3>{{ _("Cause") }}</h3><div class="markdown">{{ i.cause|markdown }}</div>{% endif %}
{% if i.resolution %}<h3>{{ _("Resolution") }}</h3><div class="markdown">{{ i.resolution|markdown }}</div>{% endif %}</section>
<section class="card"><h2>{{ _("Affected customers") }}</h2>
{% if customers %}<ul class="customers">{% for c in customers %}<li><strong>{{ c.name or "—" }}</strong> {% if c.contact %}· {{ c.contact }}{% endif %} {% if c.reference %}· {{ c.reference }}{% endif %}{% if c.impact %}<div>{{ c.impact }}</div>{% endif %}</li>{% endfor %}</ul>
{% else %}<p class="empty">{{ _("No affected customer recorded.") }}</p>{% endif %}</section></div>
<section class="card"><h2>{{ _("Timeline") }}</h2>
{% if can_write %}<form method="post" action="/incidents/{{ i.id }}/events" class="event-form">
<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<label><input type="radio" name="kind" value="note" checked> {{ _("Note") }}</label><label><input type="radio" name="kind" value="action"> {{ _("Action") }}</label>
<div class="field"><label for="body">{{ _("Entry") }}</label><textarea id="body" name="body" required></textarea></div>
<button type="submit">{{ _("Add to timeline") }}</button></form>{% endif %}
<ol class="timeline" reversed>{% for event in events %}<li class="event event-{{ event.kind.value }}">
<time datetime="{{ event.created_at.isoformat() }}">{{ event.created_at|localtime("short") }}</time>
<span class="actor">{{ event.actor_name if event.actor_id is not none else _("System") }}</span>
<span class="what">{{ describe_event(event) }}</span>{% if event.body %}<div class="body">{{ event.body }}</div>{% endif %}</li>{% endfor %}</ol>
<p class="count">{{ total }}</p></section>
{% endblock %}''')


@app.get("/_bench/floor-page/<int:incident_id>")
def bench_floor_page(incident_id: int):
    session, key = db.session, {"incident_id": incident_id}
    incident = session.execute(_FLOOR_INCIDENT, key).first()
    if incident is None:
        abort(404)
    per_page = app.config["EVENTS_PER_PAGE"]
    return render_template(
        _FLOOR_PAGE, i=incident, customers=session.execute(_FLOOR_CUSTOMERS, key).all(),
        events=session.execute(_TIMELINE_ROWS, {**key, "limit": per_page, "offset": 0}).all(),
        total=session.scalar(_TIMELINE_COUNT, key), steps=list(Status),
        status_labels={s: str(label) for s, label in STATUS_LABELS.items()},
        channel_labels=CHANNEL_LABELS, can_write=current_user.can(Role.agent),
        ko=locale_code() == "ko",
        transitions=[s for s in Status if (role := transition_role(incident.status, s)) is not None
                     and current_user.can(role)])
