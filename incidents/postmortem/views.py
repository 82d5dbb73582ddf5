"""Postmortem editor, action items, suggestions from past playbooks, and making a playbook."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from app import idempotency, templating
from app.auth import apply_errors, role_required
from app.errors import DomainError
from app.extensions import db
from app.i18n import gettext as _
from app.models import Role, User
from app.timeutil import utcnow
from incidents import panels, timeline
from incidents import services as incident_services
from incidents.postmortem import playbook as making
from incidents.postmortem import services
from incidents.postmortem.forms import KIND_LABELS, ActionForm, PlaybookForm, PostmortemForm, StartForm
from incidents.postmortem.models import ActionKind, PostmortemStatus
from incidents.views import render_detail
from playbooks import services as playbook_services

bp = Blueprint("postmortem", __name__)

PM_STATUS = {PostmortemStatus.draft: "draft", PostmortemStatus.in_review: "in_review",
             PostmortemStatus.published: "published"}


def _owners(form: ActionForm) -> None:
    form.owner.choices = [(u.id, f"{u.name} · {u.title}") for u in incident_services.staff_rows()]


@panels.panel(order=10)
def suggestions_panel(incident, user, forms) -> dict | None:
    rows = [s for s in playbook_services.suggestions(incident.id) if s.action != "dismissed"]
    return {"template": "postmortem/_suggestions.html", "suggestions": rows}


@panels.panel(order=70)
def postmortem_panel(incident, user, forms) -> dict:
    pm = services.for_incident(incident.id)
    # The forms (and the owner list) only for those the panel shows them to: agents and up.
    action_form = start_form = None
    if user.can(Role.agent):
        action_form = forms.get("action_form") or ActionForm(formdata=None, owner=incident.owner_id)
        _owners(action_form)
        start_form = StartForm(formdata=None) if pm is None else None
    ready = (pm is not None and pm.status == PostmortemStatus.published
             and incident.status.value == "closed")
    return {"template": "postmortem/_panel.html", "postmortem": pm,
            "actions": services.action_rows(incident.id), "action_form": action_form,
            "start_form": start_form, "kind_labels": KIND_LABELS,
            "ready_for_playbook": ready, "today": utcnow().date()}


@bp.post("/incidents/<int:incident_id>/postmortem/start")
@role_required(Role.agent)
def start(incident_id: int):
    incident = incident_services.load_for_page(incident_id)
    form = StartForm()
    if not form.validate_on_submit():
        return render_detail(incident, 422)
    try:
        services.start(current_user, incident, form.language.data)
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return render_detail(incident_services.load_for_page(incident_id), err.status)
    db.session.commit()
    return redirect(url_for("postmortem.edit", incident_id=incident_id))


@bp.route("/incidents/<int:incident_id>/postmortem", methods=["GET", "POST"])
def edit(incident_id: int):
    pm = services.get_for_incident(incident_id)
    form = PostmortemForm(formdata=None, body=pm.body, version=str(pm.version))
    code = 200
    if request.method == "POST":
        if not current_user.can(Role.agent):
            return render_template("error.html", status=403, message=""), 403
        form = PostmortemForm()
        if form.validate_on_submit():
            try:
                services.save(current_user, pm, form.body.data, expected_version=int(form.version.data))
            except DomainError as err:
                db.session.rollback()
                apply_errors(form, err)
                code = err.status
            else:
                db.session.commit()
                flash(_("Postmortem saved."), "success")
                return redirect(url_for("postmortem.edit", incident_id=incident_id))
        else:
            code = 422
        pm = services.get_for_incident(incident_id)
    transitions = [t for (s, t), role in services.TRANSITIONS.items()
                   if s == pm.status and current_user.can(role)]
    if pm.unpublished_changes and current_user.can(services.PUBLISHER):
        transitions.insert(0, PostmortemStatus.published)
    # Published work is changed by those who may publish it; the others read it.
    editable = current_user.can(Role.agent) and (
        pm.status != PostmortemStatus.published or current_user.can(services.PUBLISHER))
    return render_template("postmortem/edit.html", pm=pm, form=form, transitions=transitions,
                           incident=pm.incident, editable=editable,
                           versions=services.versions(pm), blame=services.blame_findings(pm),
                           unfilled=services.unfilled_sections(pm.body)), code


@bp.get("/incidents/<int:incident_id>/postmortem/versions/<int:number>")
def version(incident_id: int, number: int):
    pm = services.get_for_incident(incident_id)
    return render_template("postmortem/version.html", pm=pm, incident=pm.incident,
                           version=services.get_version(pm, number))


@bp.post("/incidents/<int:incident_id>/postmortem/status")
@role_required(Role.agent)
def status(incident_id: int):
    pm = services.get_for_incident(incident_id)
    try:
        services.set_status(current_user, pm, PostmortemStatus(request.form.get("status", "")))
    except (DomainError, ValueError) as err:
        db.session.rollback()
        flash(getattr(err, "message", _("Unknown status.")), "error")
        return redirect(url_for("postmortem.edit", incident_id=incident_id)), 303
    db.session.commit()
    flash(_("Postmortem is now %(status)s.", status=pm_status_label(pm.status.value)), "success")
    return redirect(url_for("postmortem.edit", incident_id=incident_id))


@bp.app_template_global()
def pm_status_label(value: str) -> str:
    labels = {"draft": _("Draft"), "in_review": _("In review"), "published": _("Published")}
    return labels.get(value, value)


# --- the timeline ---------------------------------------------------------------------------

@timeline.describer("postmortem_saved")
def _saved(d: dict) -> Markup:
    if d.get("created"):
        return timeline.gettext("started the postmortem")
    return timeline.gettext("saved the postmortem")


@timeline.describer("postmortem_status")
def _status(d: dict) -> Markup:
    if d.get("from") == d.get("to") == "published":
        return timeline.gettext("published version %(n)s of the postmortem", n=d.get("version"))
    return timeline.gettext("moved the postmortem to %(status)s", status=pm_status_label(d.get("to", "")))


@timeline.describer("action_item_added")
def _item_added(d: dict) -> Markup:
    return timeline.gettext("added an action item")


@timeline.describer("action_item_done")
def _item_done(d: dict) -> Markup:
    return timeline.gettext("completed an action item")


@timeline.describer("playbook_made")
def _playbook_made(d: dict) -> Markup:
    text = (timeline.gettext("made a playbook from this incident") if d.get("created")
            else timeline.gettext("added this incident to a playbook as a recurrence"))
    return Markup('%s (<a href="%s">#%s</a>)') % (
        text, url_for("playbooks.detail", playbook_id=d["playbook_id"]), d["playbook_id"])


@bp.post("/incidents/<int:incident_id>/actions")
@role_required(Role.agent)
def add_action(incident_id: int):
    incident = incident_services.load_for_page(incident_id)
    form = ActionForm()
    _owners(form)
    if not form.validate_on_submit():
        return render_detail(incident, 422, action_form=form)
    try:
        outcome = form.once(current_user.id, "action", lambda: services.add_action(
            current_user, incident, title=form.title.data,
            owner=db.session.get(User, form.owner.data), kind=ActionKind(form.kind.data),
            due_date=form.due_date.data).id, incident=incident_id)
    except idempotency.BadKey:
        raise  # no field is at fault: a 400 page, as for the other forms
    except DomainError as err:
        db.session.rollback()
        apply_errors(form, err)
        return render_detail(incident_services.load_for_page(incident_id), err.status,
                             action_form=form)
    if outcome.replayed:
        flash(_("This action item was sent before and is on the list already; it was not added "
                "twice."), "info")
    else:
        flash(_("Action item added."), "success")
    return redirect(url_for("incidents.detail", incident_id=incident_id) + "#postmortem")


@bp.post("/actions/<int:item_id>/done")
@role_required(Role.agent)
def complete(item_id: int):
    item = services.get_action(item_id)
    try:
        services.complete_action(current_user, item)
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
    else:
        db.session.commit()
        flash(_("Marked done."), "success")
    back = request.form.get("next")
    if back == "list":
        # Back to the page of the list the item was on, not its first page.
        page = request.form.get("page", "")
        page = int(page) if page.isascii() and page.isdigit() and len(page) <= 6 else 1
        # Not past the end when the item was the last one on the last page.
        page = min(page, services.open_action_pages(current_app.config["ACTIONS_PER_PAGE"]))
        return redirect(url_for("postmortem.actions", page=page if page > 1 else None))
    return redirect(url_for("incidents.detail", incident_id=item.incident_id) + "#postmortem")


@bp.get("/actions")
def actions():
    today = utcnow().date()
    page = services.open_actions_page(today, request.args.get("page", 1, type=int),
                                      current_app.config["ACTIONS_PER_PAGE"])
    return render_template("postmortem/actions.html", page=page, today=today,
                           kind_labels=KIND_LABELS, can_close=current_user.can(Role.agent),
                           detail_url=templating.url_prefix("incidents.detail", "incident_id"))


def _form_data(form: PlaybookForm, proposal) -> playbook_services.PlaybookData:
    data = proposal.data
    for name in ("title", "summary", "symptoms", "steps", "authority", "compensation", "message",
                 "escalation", "prevention"):
        setattr(data, name, getattr(form, name).data or "")
    data.tags = [t for t in (form.tags.data or "").split(",") if t.strip()]
    return data


@bp.route("/incidents/<int:incident_id>/playbook", methods=["GET", "POST"])
@role_required(Role.lead)
def make_playbook(incident_id: int):
    incident = incident_services.load_for_page(incident_id)
    target_arg = request.values.get("target", "")
    try:
        proposal = making.propose(incident, int(target_arg) if target_arg.isdigit() else None,
                                  new=target_arg == "new")
    except DomainError as err:
        flash(err.message, "error")
        return render_detail(incident, err.status)
    form = PlaybookForm(formdata=None, obj=proposal.data,
                        target=str(proposal.target.id) if proposal.target else "new")
    # Set after: with `obj`, WTForms ignores a keyword for a field the object also has, and
    # the tags field showed the Python list ("['payment', 'chat']").
    form.tags.data = ", ".join(proposal.data.tags)
    removed, code = proposal.removed, 200
    if request.method == "POST" and request.form.get("confirm"):
        form = PlaybookForm()
        if form.validate_on_submit():
            data = _form_data(form, proposal)
            # Anything typed into the form is cleaned too; if that removed something new,
            # show it and ask again: the author always sees what was removed.
            # Known data of this incident and, for a recurrence, of the playbook's earlier
            # sources: publishing removes both, so both must be shown before it does.
            known = (making.pm_services.customer_pii(incident)
                     + playbook_services.known_pii(proposal.target))
            cleaned, more = playbook_services.redacted(data, known)
            if more:
                form = PlaybookForm(formdata=None, obj=cleaned, target=form.target.data)
                form.tags.data = ", ".join(cleaned.tags)
                removed = more
                flash(_("Personal data was removed from what you typed. Check and confirm again."),
                      "info")
            else:
                try:
                    playbook, _gone, created = making.make(current_user, incident, data,
                                                           proposal.target)
                except DomainError as err:
                    db.session.rollback()
                    apply_errors(form, err)
                    code = err.status
                else:
                    db.session.commit()
                    flash(_("Playbook published.") if created else
                          _("Added to the playbook as a recurrence."), "success")
                    return redirect(url_for("playbooks.detail", playbook_id=playbook.id))
        else:
            code = 422
    return render_template("postmortem/make_playbook.html", incident=incident, form=form,
                           proposal=proposal, removed=removed), code
