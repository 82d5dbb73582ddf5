"""Compensation pages: propose and decide on the incident page, the approval queue,
the delegation report and the authority policy."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from app import bounds, idempotency
from app.auth import role_required
from app.errors import DomainError, ValidationFailed
from app.extensions import db
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.models import Grade, Role
from app.money import digits, format_money, parse_major, to_major
from app.templating import role_label
from incidents import panels, timeline
from incidents import services as incident_services
from incidents.compensation import report, services
from incidents.compensation.forms import TYPE_LABELS, DecisionForm, PeriodForm, ProposeForm
from incidents.compensation.models import APPROVER_ROLES, CompStatus, CompType
from incidents.views import render_detail

bp = Blueprint("compensation", __name__)


@panels.panel(order=30)
def compensation_panel(incident, user, forms) -> dict:
    comps = services.for_incident(incident)
    # No form, currency or limits to look up for readers who cannot propose.
    can_propose = services.can_propose(user, incident)
    deciding = user.can(Role.agent) and any(c.status == CompStatus.proposed for c in comps)
    rules = services.grade_rules(incident.grade) if can_propose or deciding else {}
    actions = {}
    for comp in comps:
        allowed = []
        if user.can(Role.agent):
            if comp.status == CompStatus.proposed and services.may_decide(
                    user, comp, rules[comp.type]):
                allowed += ["approve", "reject"]
            if comp.status == CompStatus.approved:
                allowed.append("pay")
            if comp.status in (CompStatus.proposed, CompStatus.approved):
                allowed.append("cancel")
        actions[comp.id] = allowed
    panel = {"template": "compensation/_panel.html", "compensations": comps, "comp_actions": actions,
             "type_labels": TYPE_LABELS, "customers": {c.id: c for c in incident.customers},
             "can_propose": can_propose}
    if can_propose:
        currency = services.policy_currency()
        form = forms.get("propose_form") or ProposeForm(formdata=None)
        form.customer.choices = [(0, _("— the incident as a whole —"))] + [
            (c.id, c.name or c.reference or c.contact) for c in incident.customers]
        if not form.currency.data:
            form.currency.data = currency
        panel.update(propose_form=form, currency=currency,
                     limits=services.role_limits(user.role, incident.grade, rules))
    return panel


_STATUS_LABELS = {"proposed": _l("proposed"), "approved": _l("approved"), "rejected": _l("rejected"),
                  "paid": _l("paid"), "cancelled": _l("cancelled")}
_ACTION_LABELS = {"approve": _l("Approve"), "reject": _l("Reject"), "pay": _l("Mark paid"),
                  "cancel": _l("Cancel")}


@bp.app_template_global()
def comp_status_label(value: str) -> str:
    return str(_STATUS_LABELS[value])


@bp.app_template_global()
def comp_type_label(value: str) -> str:
    return str(TYPE_LABELS[CompType(value)])


@bp.app_template_global()
def comp_action_label(action: str) -> str:
    return str(_ACTION_LABELS[action])


# --- the timeline ---------------------------------------------------------------------------
# Compensation steps; an event's data holds the type, amount and currency as they were.

def _what(d: dict) -> Markup:
    return timeline.gettext("compensation #%(id)s (%(type)s, %(amount)s)", id=d.get("compensation_id", ""),
                            type=comp_type_label(d.get("type", "")),
                            amount=format_money(d.get("amount"), d.get("currency", "")))


@timeline.describer("compensation_proposed")
def _proposed(d: dict) -> Markup:
    return timeline.included(timeline.gettext("proposed %(what)s", what=_what(d)))


@timeline.describer("compensation_approved")
def _approved(d: dict) -> Markup:
    if d.get("via") == "policy":
        return timeline.included(timeline.gettext(
            "%(what)s was approved automatically by the self-serve policy", what=_what(d)))
    return timeline.included(timeline.gettext("approved %(what)s", what=_what(d)))


@timeline.describer("compensation_rejected")
def _rejected(d: dict) -> Markup:
    return timeline.included(timeline.gettext("rejected %(what)s", what=_what(d)))


@timeline.describer("compensation_paid")
def _paid(d: dict) -> Markup:
    return timeline.included(timeline.gettext("marked %(what)s as paid", what=_what(d)))


@timeline.describer("compensation_cancelled")
def _cancelled(d: dict) -> Markup:
    return timeline.included(timeline.gettext("cancelled %(what)s", what=_what(d)))


@bp.post("/incidents/<int:incident_id>/compensations")
@role_required(Role.agent)
def propose(incident_id: int):
    incident = incident_services.load_for_page(incident_id)
    form = ProposeForm()
    form.customer.choices = [(0, "")] + [(c.id, str(c.id)) for c in incident.customers]
    try:
        if not form.validate_on_submit():
            raise ValidationFailed(_("Some fields need attention."))
        currency = form.currency.data.strip().upper()
        try:
            amount = parse_major(form.amount.data, currency) if len(currency) == 3 else 0
        except (ValueError, KeyError):
            raise ValidationFailed(_("Some fields need attention."), {"amount": _(
                "Give an amount like 30000 (at most %(n)s decimals).",
                n=digits(currency) if len(currency) == 3 else 2)}) from None
        outcome = form.once(current_user.id, "compensation", lambda: services.propose(
            current_user, incident, comp_type=CompType(form.comp_type.data), amount=amount,
            currency=currency, customer_id=form.customer.data or None,
            note=form.note.data or "", approve=form.approve.data).id, incident=incident_id)
    except idempotency.BadKey:
        raise  # no field is at fault: a 400 page, as for the other forms
    except DomainError as err:
        db.session.rollback()
        for name, message in err.fields.items():
            field = {"amount": form.amount, "currency": form.currency, "note": form.note,
                     "customer_id": form.customer}.get(name)
            if field is not None:
                field.errors = [*field.errors, message]
        flash(err.message, "error")
        return render_detail(incident_services.load_for_page(incident_id),
                             err.status, propose_form=form)
    comp = services.get_compensation(outcome.target_id)
    if outcome.replayed:
        flash(_("This proposal was sent before and is recorded as compensation #%(id)s; it was "
                "not proposed twice.", id=comp.id), "info")
    elif comp.status == CompStatus.approved:
        flash(_("Compensation approved (%(how)s): %(amount)s.", amount=format_money(
            comp.amount, comp.currency), how=_("by policy") if comp.approved_via == "policy"
            else _("by you")), "success")
    else:
        flash(_("Proposed %(amount)s; waiting for %(role)s approval.",
                amount=format_money(comp.amount, comp.currency),
                role=role_label(comp.required_role)), "info")
    return redirect(url_for("incidents.detail", incident_id=incident_id) + "#compensation")


_ACTIONS = {"approve": lambda u, c, reason: services.approve(u, c),
            "reject": lambda u, c, reason: services.reject(u, c, reason),
            "pay": lambda u, c, reason: services.pay(u, c, reason),
            "cancel": lambda u, c, reason: services.cancel(u, c, reason)}
_DONE = {"approve": _l("Approved."), "reject": _l("Rejected."), "pay": _l("Marked as paid."),
         "cancel": _l("Cancelled.")}


@bp.post("/compensations/<int:comp_id>/<any(approve, reject, pay, cancel):action>")
@role_required(Role.agent)
def decide(comp_id: int, action: str):
    comp = services.get_compensation(comp_id)
    incident_id = comp.incident_id
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
        return render_detail(incident_services.load_for_page(incident_id), 422)
    try:
        _ACTIONS[action](current_user, comp, form.reason.data or "")
    except DomainError as err:
        db.session.rollback()
        # The inline reason box has no room for field errors, so the message carries them.
        flash(" ".join([err.message, *err.fields.values()]), "error")
        if request.form.get("from") == "queue":
            return approvals(err.status)
        return render_detail(incident_services.load_for_page(incident_id), err.status)
    db.session.commit()
    flash(str(_DONE[action]), "success")
    if request.form.get("from") == "queue":
        return redirect(url_for("compensation.approvals"))
    return redirect(url_for("incidents.detail", incident_id=incident_id) + "#compensation")


@bp.get("/approvals")
@role_required(Role.agent)
def approvals(code: int = 200):
    return render_template("compensation/approvals.html", items=services.queue(current_user),
                           type_labels=TYPE_LABELS, decision_form=DecisionForm(formdata=None)), code


def _period(form: PeriodForm) -> tuple[date, date]:
    return bounds.form_period(form, default_days=90, today=datetime.now(UTC).date())


@bp.get("/reports/delegation")
@role_required(Role.lead)
def delegation():
    form = PeriodForm(request.args)
    form.validate()
    start, end = _period(form)
    groups = services.delegation_report(bounds.day_start(start), bounds.day_end(end))
    currency = services.policy_currency()
    if request.args.get("format") == "csv":
        return Response(report.to_csv(groups, currency), mimetype="text/csv", headers={
            "Content-Disposition": f"attachment; filename=delegation-{start}-{end}.csv"})
    form.start.data, form.end.data = start, end
    return render_template("compensation/delegation.html", form=form, groups=groups,
                           candidates=[g for g in groups if g.candidate], currency=currency,
                           type_labels={t.value: TYPE_LABELS[t] for t in CompType},
                           start=start, end=end)


@bp.route("/admin/authority", methods=["GET", "POST"])
@role_required(Role.admin)
def policy():
    grades = list(db.session.scalars(db.select(Grade).order_by(Grade.rank)))
    currency = services.policy_currency()
    code, errors = 200, {}
    if request.method == "POST":  # CSRFProtect has checked the token, as on every form
        new_currency = (request.form.get("currency") or "").strip().upper()
        rules, errors = [], {}
        for comp_type in CompType:
            for grade in grades:
                values = {}
                for field in ("self_serve", *(r.value for r in APPROVER_ROLES)):
                    name = f"{comp_type.value}.{grade.id}.{field}"
                    raw = (request.form.get(name) or "").strip()
                    try:
                        values[field] = parse_major(raw, new_currency) if raw else None
                    except (ValueError, KeyError):
                        errors[name] = _("Not an amount.")
                rules.append(services.RuleData(comp_type, grade, **values) if len(values) == 4
                             else None)
        submitted = [r for r in rules if r]
        try:
            if errors:
                raise ValidationFailed(_("Some amounts are not numbers; nothing was saved."))
            services.set_policy(current_user, new_currency, submitted)
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
            code = err.status
            # The service names rules by position ("rules.3.lead"); show each on its cell.
            for key, message in err.fields.items():
                parts = key.split(".")
                if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(submitted):
                    data = submitted[int(parts[1])]
                    errors[f"{data.type.value}.{data.grade.id}.{parts[2]}"] = message
        else:
            db.session.commit()
            flash(_("Authority policy saved."), "success")
            return redirect(url_for("compensation.policy"))
    table = {(r.type, r.grade_id): r for r in services.policy_rules()}
    return render_template("compensation/policy.html", grades=grades, types=list(CompType),
                           table=table, currency=currency, errors=errors, type_labels=TYPE_LABELS,
                           roles=[r.value for r in APPROVER_ROLES], to_major=to_major,
                           form_values=request.form if request.method == "POST" else None), code
