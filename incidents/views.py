"""Incident pages: list, open, detail, edit, and the actions on an incident."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app import idempotency, templating
from app.auth import apply_errors, role_required
from app.errors import DomainError
from app.extensions import db
from app.i18n import gettext as _
from app.i18n import locale_code, select_timezone
from app.models import Category, Grade, Role, User, localized
from app.timeutil import utcnow
from incidents import panels, services, timeline
from incidents.forms import (
    CHANNEL_LABELS,
    STATUS_LABELS,
    CustomerForm,
    EventForm,
    FilterForm,
    IncidentEditForm,
    IncidentForm,
    NewIncidentForm,
    StatusForm,
)
from incidents.models import Channel, EventKind, Incident, Status
from playbooks import services as playbook_services

bp = Blueprint("incidents", __name__, url_prefix="/incidents")
root = Blueprint("root", __name__)
bp.add_app_template_global(timeline.describe_event)


@root.get("/")
def home():
    return redirect(url_for("dashboard.index"))


def _fill_choices(form: IncidentForm, incident: Incident | None = None) -> list[Grade]:
    grades = templating.grades()
    locale = locale_code()
    form.grade.choices = [(g.id, g.name) for g in grades]
    form.owner.choices = [(u.id, f"{u.name} · {u.title}")
                          for u in services.staff_rows(incident.owner_id if incident else None)]
    form.category.choices = [(0, _("— not set —"))] + [
        (c.id, localized(locale, c.name, c.name_ko))
        for c in services.category_rows(incident.category_id if incident else None)]
    if isinstance(form, IncidentEditForm):
        form.responders.choices = [(u.id, f"{u.name} · {u.title}") for u in services.staff_rows()]
    return grades


def _local_to_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=ZoneInfo(select_timezone()))


def _users(ids: list[int]) -> list[User]:
    """The users of `ids`, in that order, in one statement rather than one each."""
    found = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]


def _form_changes(form: IncidentForm) -> dict:
    """Plain values for the service, from a validated form."""
    changes = {
        "title": form.title.data, "description": form.description.data or "",
        "grade": db.session.get(Grade, form.grade.data),
        "owner": db.session.get(User, form.owner.data),
        "category": db.session.get(Category, form.category.data) if form.category.data else None,
        "channel": Channel(form.channel.data) if form.channel.data else None,
        "detected_at": _local_to_utc(form.detected_at.data),
        "impact": form.impact.data or "", "affected_count": form.affected_count.data,
        "abusive_customer": form.abusive_customer.data, "one_stop": form.one_stop.data,
    }
    if isinstance(form, IncidentEditForm):
        changes.update(cause=form.cause.data or "", resolution=form.resolution.data or "",
                       responders=_users(form.responders.data or []),
                       public_cause_due=form.public_cause_due.data,
                       **{name: getattr(form, name).data or "" for name in services.PUBLIC_TEXTS})
    return changes


def _status_labels() -> dict[Status, str]:
    # Translated once here rather than each time a page's rows or steps show one.
    return {status: str(label) for status, label in STATUS_LABELS.items()}


def _customer_data(form) -> services.CustomerData | None:
    data = services.CustomerData(form.customer_name.data or "", form.customer_contact.data or "",
                                 form.customer_reference.data or "", form.customer_impact.data or "")
    return data if any(value.strip() for value in vars(data).values()) else None


@bp.get("/")
def index():
    form = FilterForm(request.args)
    locale = locale_code()
    grades = templating.grades()
    form.status.choices = [("open", _("Open")), ("all", _("All"))] + [
        (s.value, STATUS_LABELS[s]) for s in Status]
    form.grade.choices = [("", _("Any grade"))] + [(g.name, g.name) for g in grades]
    categories = services.category_rows()
    form.category.choices = [("", _("Any category"))] + [
        (c.slug, localized(locale, c.name, c.name_ko)) for c in categories]
    people = services.staff_rows()
    form.owner.choices = [("", _("Anyone")), ("me", _("Me"))] + [(u.email, u.name) for u in people]
    form.validate()
    owner_key = request.args.get("owner", "")
    f = services.IncidentFilter(
        status=request.args.get("status") if form.status.data and not form.status.errors else "open",
        grade_id=next((g.id for g in grades if g.name == request.args.get("grade")), None),
        category_id=next((c.id for c in categories if c.slug == request.args.get("category")),
                         None),
        owner_id=current_user.id if owner_key == "me" else next(
            (u.id for u in people if u.email == owner_key), None),
        q=form.q.data or "" if not form.q.errors else "")
    page = services.incident_list_page(f, request.args.get("page", 1, type=int),
                                       current_app.config["INCIDENTS_PER_PAGE"])
    now = utcnow()
    return render_template("incidents/index.html", form=form, page=page,
                           late={row.id: services.list_overdue(row, now) for row in page.items},
                           detail_url=templating.url_prefix("incidents.detail", "incident_id"),
                           status_labels=_status_labels())


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.agent)
def create():
    form = NewIncidentForm()
    grades = _fill_choices(form)
    if request.method == "GET":
        form.owner.data = current_user.id
        form.grade.data = next((g.id for g in grades if g.name == "Blue"), grades[-1].id)
    if form.validate_on_submit():
        changes = _form_changes(form)
        customer = _customer_data(form)

        def open_incident() -> int:
            incident = services.create_incident(current_user, customers=[customer] if customer else [],
                                                abuse_kind=form.abuse_kind.data, **changes)
            playbook_services.record_suggestions(incident.id, f"{incident.title}\n{incident.description}")
            return incident.id

        try:
            outcome = form.once(current_user.id, "incident", open_incident)
        except idempotency.BadKey:
            raise  # no field of the form is at fault: a 400 page, as for the timeline's form
        except DomainError as err:
            db.session.rollback()
            apply_errors(form, err)
        else:
            if outcome.replayed:
                flash(_("This form was sent before and opened incident #%(id)s then; it was not "
                        "opened twice.", id=outcome.target_id), "info")
            else:
                flash(_("Incident #%(id)s opened.", id=outcome.target_id), "success")
            return redirect(url_for("incidents.detail", incident_id=outcome.target_id))
    return render_template("incidents/create.html", form=form, grades=grades), \
        422 if form.errors else 200


def render_detail(incident: Incident, code: int = 200, **forms):
    """The incident page; `forms` re-displays a form that failed, with what was typed."""
    page = services.timeline_page(incident, request.args.get("page", 1, type=int),
                                  current_app.config["EVENTS_PER_PAGE"])
    can_write = current_user.can(Role.agent)
    transitions = services.allowed_transitions(current_user, incident)
    # Each form only for the readers the page shows it to.
    shown = {"event_form": (EventForm, can_write), "customer_form": (CustomerForm, can_write),
             "status_form": (StatusForm, bool(transitions))}
    own = {name: forms.get(name) or form(formdata=None)
           for name, (form, show) in shown.items() if show}
    return render_template(
        "incidents/detail.html", incident=incident, events=page, transitions=transitions,
        overdue=services.overdue(incident), status_labels=_status_labels(),
        channel_labels=CHANNEL_LABELS, can_write=can_write,
        panels=panels.render(incident, current_user, forms), **own), code


@bp.get("/<int:incident_id>")
def detail(incident_id: int):
    return render_detail(services.load_for_page(incident_id))


@bp.route("/<int:incident_id>/edit", methods=["GET", "POST"])
@role_required(Role.agent)
def edit(incident_id: int):
    incident = services.load_for_page(incident_id)
    form = IncidentEditForm(obj=incident)
    if not request.form.get("detected_at"):
        # Empty means "keep": never the stored UTC value re-read as local time.
        form.detected_at.data = None
    grades = _fill_choices(form, incident)
    if request.method == "GET":
        form.grade.data, form.owner.data = incident.grade_id, incident.owner_id
        form.category.data = incident.category_id or 0
        form.channel.data = incident.channel.value if incident.channel else ""
        form.responders.data = [u.id for u in incident.responders]
        form.version.data = str(incident.version)
    code = 200
    if form.validate_on_submit():
        changes = _form_changes(form)
        if changes["detected_at"] is None:
            changes.pop("detected_at")
        try:
            services.update_incident(current_user, incident, changes,
                                     expected_version=int(form.version.data),
                                     abuse_kind=form.abuse_kind.data)
        except DomainError as err:
            db.session.rollback()
            apply_errors(form, err)
            code = err.status
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("incidents.detail", incident_id=incident.id))
    elif request.method == "POST":
        code = 422
    return render_template("incidents/edit.html", form=form, grades=grades,
                           incident=incident), code


def _back(incident_id: int):
    return redirect(url_for("incidents.detail", incident_id=incident_id))


@bp.post("/<int:incident_id>/status")
@role_required(Role.agent)
def status(incident_id: int):
    incident = services.load_for_page(incident_id)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.change_status(current_user, incident, Status(form.status.data),
                               form.note.data or "", expected=Status(form.expected.data))
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return render_detail(services.load_for_page(incident_id), err.status, status_form=form)
    db.session.commit()
    flash(_("Status is now %(status)s.", status=STATUS_LABELS[incident.status]), "success")
    return _back(incident_id)


@bp.post("/<int:incident_id>/events")
@role_required(Role.agent)
def add_event(incident_id: int):
    incident = services.load_for_page(incident_id)
    form = EventForm()
    if not form.validate_on_submit():
        return render_detail(incident, 422, event_form=form)
    outcome = form.once(current_user.id, "event",
                        lambda: services.add_event(current_user, incident, EventKind(form.kind.data),
                                                   form.body.data).id, incident=incident_id)
    if outcome.replayed:
        flash(_("This entry was sent before and is on the timeline already; it was not added "
                "twice."), "info")
    return _back(incident_id)


@bp.post("/<int:incident_id>/customers")
@role_required(Role.agent)
def add_customer(incident_id: int):
    incident = services.load_for_page(incident_id)
    form = CustomerForm()
    data = _customer_data(form) if form.validate_on_submit() else None
    if data is None:
        if not form.errors:
            form.customer_name.errors = [_("Give at least a name, contact or reference.")]
        return render_detail(incident, 422, customer_form=form)
    outcome = form.once(current_user.id, "customer",
                        lambda: services.add_customer(current_user, incident, data).id,
                        incident=incident_id)
    if outcome.replayed:
        flash(_("This customer was sent before and is recorded already; they were not added "
                "twice."), "info")
    else:
        flash(_("Customer added."), "success")
    return _back(incident_id)
