"""Inbox, duty rota page, and the abusive-customer panel on the incident page."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from wtforms import DateTimeLocalField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app import bounds
from app.auth import prefetched, role_required, user_extra
from app.errors import DomainError
from app.extensions import db
from app.forms import Form, storable
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.i18n import ngettext, select_timezone, timezones
from app.models import Role, User
from app.templating import role_label_value
from app.timeutil import utcnow
from incidents import panels, timeline
from incidents import services as incident_services
from incidents.escalation import rota, services
from incidents.escalation.models import DUTY_ROLES, AbuseOutcome, Shift
from incidents.views import render_detail

bp = Blueprint("escalation", __name__)

DAY_LABELS = {"mon": _l("Mon"), "tue": _l("Tue"), "wed": _l("Wed"), "thu": _l("Thu"),
              "fri": _l("Fri"), "sat": _l("Sat"), "sun": _l("Sun")}
OUTCOME_LABELS = {AbuseOutcome.concede: _l("Concede (give what was asked, to save time)"),
                  AbuseOutcome.hold: _l("Hold the line"),
                  AbuseOutcome.part_ways: _l("Part ways (end the relationship)")}
KIND_LABELS = {"threat": _l("Threat"), "extortion": _l("Extortion"), "harassment": _l("Harassment"),
               "insult": _l("Insult"), "other": _l("Other")}


@bp.app_template_global()
def abuse_outcome_label(value: str) -> str:
    return str(OUTCOME_LABELS[AbuseOutcome(value)])


# --- the timeline ---------------------------------------------------------------------------

@timeline.describer("notification")
def _notification(d: dict) -> Markup:
    return timeline.gettext("notified %(name)s", name=d.get("name") or d.get("user", ""))


@timeline.describer("escalation")
def _escalation(d: dict) -> Markup:
    return timeline.gettext("not shared in time: escalated to the %(role)s on duty",
                            role=role_label_value(d.get("role", "")))


@timeline.describer("abuse_flagged")
def _abuse_flagged(d: dict) -> Markup:
    return timeline.gettext(
        "flagged an abusive customer; %(agent)s was taken off and %(lead)s took the case",
        agent=d.get("previous_owner_name", ""), lead=d.get("lead_name", ""))


@timeline.describer("abuse_outcome")
def _abuse_outcome(d: dict) -> Markup:
    return timeline.gettext("recorded the decision on the abusive customer: %(outcome)s",
                            outcome=abuse_outcome_label(d.get("outcome", "")))


class ShiftForm(Form):
    user = SelectField(_l("Person"), coerce=int, validators=[InputRequired()])
    role = SelectField(_l("Duty"), choices=[("lead", _l("Lead on duty")),
                                            ("manager", _l("Manager on duty"))])
    days = SelectMultipleField(_l("Days"), choices=[(d, DAY_LABELS[d]) for d in rota.DAYS],
                               validators=[InputRequired()])
    start = StringField(_l("From (HH:MM)"), default="09:00", validators=[InputRequired(), Length(max=5)])
    end = StringField(_l("To (HH:MM, 24:00 allowed)"), default="18:00",
                      validators=[InputRequired(), Length(max=5)],
                      description=_l("An end before the start runs past midnight."))
    timezone = SelectField(_l("Time zone"), validators=[InputRequired()])


class OverrideForm(Form):
    user = SelectField(_l("Person"), coerce=int, validators=[InputRequired()])
    role = SelectField(_l("Duty"), choices=[("lead", _l("Lead on duty")),
                                            ("manager", _l("Manager on duty"))])
    start = DateTimeLocalField(_l("From"), validators=[InputRequired()])
    end = DateTimeLocalField(_l("To"), validators=[InputRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500), storable])


class OutcomeForm(Form):
    # Own ids: the incident page also has the status form's "note" and a "compensation" section.
    outcome = SelectField(_l("Decision"), choices=[(o.value, OUTCOME_LABELS[o]) for o in AbuseOutcome],
                          id="abuse-outcome")
    compensation = SelectField(_l("Compensation given"), coerce=int, validators=[Optional()],
                               id="abuse-compensation")
    note = TextAreaField(_l("Note (for part ways: the message sent)"),
                         validators=[Length(max=5000), storable], id="abuse-note")


def _people(form) -> None:
    users = db.session.scalars(select(User).where(User.active.is_(True), User.role.in_(
        (Role.lead, Role.manager, Role.admin))).order_by(User.name))
    form.user.choices = [(u.id, f"{u.name} · {u.title}") for u in users]


@panels.panel(order=5)
def abuse_panel(incident, user, forms) -> dict | None:
    case = services.abuse_case(incident.id)
    if case is None:
        return None
    from incidents.compensation.services import for_incident

    form = None
    if not case.outcome and user.can(Role.lead):  # the only readers offered the decision
        form = forms.get("outcome_form") or OutcomeForm(formdata=None)
        form.compensation.choices = [(0, _("— none —"))] + [
            (c.id, f"#{c.id} {c.type.value} {c.amount} {c.currency}") for c in for_incident(incident)]
    return {"template": "escalation/_abuse.html", "case": case, "outcome_form": form,
            "kind_labels": KIND_LABELS, "outcome_labels": OUTCOME_LABELS}


@bp.post("/incidents/<int:incident_id>/abuse-outcome")
@role_required(Role.lead)
def abuse_outcome(incident_id: int):
    incident = incident_services.load_for_page(incident_id)
    try:
        services.record_outcome(current_user, incident, request.form.get("outcome", ""),
                                request.form.get("note", ""),
                                bounds.id_or_none(request.form.get("compensation", "")))
    except DomainError as err:
        db.session.rollback()
        flash(err.message + " " + " ".join(err.fields.values()), "error")
        return render_detail(incident_services.load_for_page(incident_id), err.status)
    db.session.commit()
    flash(_("Decision recorded."), "success")
    return redirect(url_for("incidents.detail", incident_id=incident_id))


@bp.get("/inbox")
def inbox():
    unread_only = request.args.get("show") == "unread"
    page = services.inbox_page(current_user, request.args.get("page", 1, type=int),
                               current_app.config["INBOX_PER_PAGE"], unread_only=unread_only)
    return render_template("escalation/inbox.html", page=page, unread_only=unread_only,
                           newest=services.newest_notification_id(current_user))


@bp.post("/inbox/<int:note_id>/ack")
@role_required(Role.agent)
def acknowledge(note_id: int):
    note = services.get_notification(current_user, note_id)
    try:
        services.acknowledge(current_user, note)
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("escalation.inbox"))
    db.session.commit()
    flash(_("Acknowledged."), "success")
    return redirect(url_for("incidents.detail", incident_id=note.incident_id))


@bp.post("/inbox/read")
def read_all():
    upto = request.form.get("upto", "")
    # ASCII digits that fit a database integer; the form only ever sends a notification's id.
    if not (upto.isascii() and upto.isdigit() and len(upto) <= 18):
        abort(400, description=_("This form does not say which notifications you saw. Open the "
                                 "inbox again and press Mark all read there."))
    count = services.mark_read(current_user, int(upto))
    db.session.commit()
    flash(ngettext("%(num)s notification marked read.", "%(num)s notifications marked read.",
                   count), "success")
    return redirect(url_for("escalation.inbox"))


def _local(value: datetime) -> datetime:
    from zoneinfo import ZoneInfo

    return value.replace(tzinfo=ZoneInfo(select_timezone()))


@bp.route("/oncall", methods=["GET", "POST"])
def oncall():
    shift_form, override_form = ShiftForm(prefix="shift"), OverrideForm(prefix="override")
    for form in (shift_form, override_form):
        _people(form)
    shift_form.timezone.choices = [(z, z) for z in timezones()]
    if request.method == "GET":
        shift_form.timezone.data = select_timezone()
    code = 200
    if request.method == "POST":
        if not current_user.can(Role.lead):
            return render_template("error.html", status=403, message=""), 403
        try:
            if "shift-submit" in request.form and shift_form.validate_on_submit():
                services.add_shift(current_user, db.session.get(User, shift_form.user.data),
                                   days=shift_form.days.data, start=shift_form.start.data,
                                   end=shift_form.end.data, timezone=shift_form.timezone.data,
                                   role=Role(shift_form.role.data))
            elif "override-submit" in request.form and override_form.validate_on_submit():
                services.add_override(current_user, db.session.get(User, override_form.user.data),
                                      role=Role(override_form.role.data),
                                      start=_local(override_form.start.data),
                                      end=_local(override_form.end.data),
                                      note=override_form.note.data or "")
            elif "remove" in request.form:
                services.remove_shift(current_user, bounds.id_or_none(request.form["remove"]) or 0)
            else:
                raise DomainError(_("Some fields need attention."))
        except (DomainError, ValueError) as err:
            db.session.rollback()
            fields = getattr(err, "fields", {})
            flash(" ".join([getattr(err, "message", str(err)), *fields.values()]), "error")
            code = getattr(err, "status", 422) if getattr(err, "status", 400) != 400 else 422
        else:
            db.session.commit()
            flash(_("Rota saved."), "success")
            return redirect(url_for("escalation.oncall"))
    now = utcnow()
    start = now.replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(days=14)
    rows = {}
    for role in DUTY_ROLES:
        intervals, gap_list, users = services.schedule(role, start, end)
        rows[role.value] = {"now": services.on_duty(role, now), "intervals": intervals,
                            "gaps": gap_list, "gap_hours": len(rota.gap_hours(gap_list)),
                            "users": users}
    shifts = db.session.scalars(select(Shift).order_by(Shift.role, Shift.id))
    return render_template("escalation/oncall.html", rows=rows, shifts=shifts,
                           shift_form=shift_form, override_form=override_form,
                           day_labels=DAY_LABELS, window=(start, end)), code


@user_extra("unread_notifications")
def _unread_with_user():
    return services.unread_count_column()


def init_app(app) -> None:
    @app.context_processor
    def _unread():
        if current_user is not None and current_user.is_authenticated:
            count = prefetched("unread_notifications", current_user)
            if count is None:
                count = services.unread_count(current_user)
            return {"unread_notifications": count}
        return {"unread_notifications": 0}

    @app.after_request
    def _escalate(response):
        if request.endpoint and not request.path.startswith("/static"):
            try:
                services.maybe_run(current_app._get_current_object())
            except Exception:  # noqa: BLE001 - never fail a request over the background check
                db.session.rollback()
                current_app.logger.exception("escalation check failed")
        return response
