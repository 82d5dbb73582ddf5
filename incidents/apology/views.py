"""Apology pages: write from the incident, edit with live findings, approve, send, export."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from app import idempotency
from app.auth import apply_errors, role_required
from app.errors import DomainError
from app.extensions import db
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.models import Role, User
from app.textcheck import bad_text
from incidents import panels, timeline
from incidents import services as incident_services
from incidents.apology import check, export, report, services
from incidents.apology.forms import CHANNEL_LABELS, ApproveForm, DraftForm, EditForm, SentForm
from incidents.apology.models import Audience, LetterStatus
from incidents.views import render_detail

bp = Blueprint("apology", __name__)

_STATUS = {LetterStatus.draft: _l("Draft"), LetterStatus.approved: _l("Approved"),
           LetterStatus.sent: _l("Sent")}
_AUDIENCE = {Audience.customer: _l("Letter to a customer"), Audience.public: _l("Public notice")}


@bp.app_template_global()
def letter_status_label(status: LetterStatus) -> str:
    return str(_STATUS[status])


@bp.app_template_global()
def audience_label(audience: Audience) -> str:
    return str(_AUDIENCE[audience])


@bp.app_template_global()
def finding_title(code: str) -> str:
    return services.finding_title(code)


# --- the timeline ---------------------------------------------------------------------------
# Apology steps, each linked to the letter.

def _link(d: dict, text: Markup) -> Markup:
    return Markup('(<a href="%s">%s</a>)') % (url_for("apology.detail", letter_id=d["letter_id"]), text)


@timeline.describer("apology_drafted")
def _drafted(d: dict) -> Markup:
    language = "한국어" if d.get("language") == "ko" else "English"
    return timeline.included(timeline.gettext("drafted an apology") + " " + _link(d, language))


@timeline.describer("apology_edited")
def _edited(d: dict) -> Markup:
    text = (timeline.gettext("saved version %(n)s of an apology", n=d.get("version", "")) + " "
            + _link(d, timeline.gettext("open")))
    if d.get("reopened"):
        text += " — " + timeline.gettext("back to draft for approval")
    return timeline.included(text)


@timeline.describer("apology_approved")
def _approved(d: dict) -> Markup:
    text = (timeline.gettext("approved version %(n)s of an apology", n=d.get("version", "")) + " "
            + _link(d, timeline.gettext("open")))
    if d.get("overridden"):
        codes = ", ".join(str(code) for code in d["overridden"])
        text += Markup(" — <strong>%s</strong>") % timeline.gettext("despite findings: %(codes)s",
                                                                     codes=codes)
    return timeline.included(text)


@timeline.describer("apology_sent")
def _sent(d: dict) -> Markup:
    return timeline.included(timeline.gettext("sent an apology") + " " + _link(d, timeline.gettext("open")))


@bp.app_template_global()
def element_label(element: str) -> str:
    return str(check.ELEMENT_LABELS[element])


@bp.app_template_global()
def finding_message(code: str) -> str:
    """Findings are stored with their code; the message is shown in the reader's language."""
    from incidents.apology.check import MESSAGES

    return str(MESSAGES.get(code, code))


@panels.panel(order=50)
def apology_panel(incident, user, forms) -> dict:
    form = None
    if user.can(Role.agent):  # the only readers the panel offers the draft form to
        form = forms.get("draft_form") or DraftForm(formdata=None)
        form.customer.choices = [(c.id, c.name or c.reference or c.contact)
                                 for c in incident.customers]
    return {"template": "apology/_panel.html", "letters": services.letter_rows(incident.id),
            "draft_form": form}


def _signer_choices(form: EditForm) -> None:
    form.signatories.choices = [(u.email, f"{u.name} · {u.title}")
                                for u in incident_services.staff_rows()]


@bp.post("/incidents/<int:incident_id>/apologies")
@role_required(Role.agent)
def create(incident_id: int):
    incident = incident_services.load_for_page(incident_id)
    form = DraftForm()
    form.customer.choices = [(c.id, str(c.id)) for c in incident.customers]
    if not form.validate_on_submit() and form.audience.data == "customer":
        flash(_("Choose the customer this letter is for."), "error")
        return render_detail(incident, 422, draft_form=form)
    try:
        outcome = form.once(current_user.id, "apology", lambda: services.draft(
            current_user, incident, audience=Audience(form.audience.data),
            language=form.language.data,
            customer_id=form.customer.data if form.audience.data == "customer" else None).id,
            incident=incident_id)
    except idempotency.BadKey:
        raise  # no field is at fault: a 400 page, as for the other forms
    except (DomainError, ValueError) as err:
        db.session.rollback()
        flash(getattr(err, "message", _("Choose who the letter is for.")), "error")
        return render_detail(incident_services.load_for_page(incident_id), 422, draft_form=form)
    if outcome.replayed:
        flash(_("This draft was asked for before; here is the letter it made, not a second one."),
              "info")
    return redirect(url_for("apology.detail", letter_id=outcome.target_id))


def _page(letter, code=200, form: EditForm | None = None, version_number: int | None = None):
    version = letter.current
    if version_number is not None:
        version = next((v for v in letter.versions if v.number == version_number), None)
        if version is None:
            abort(404)
    if form is None:
        form = EditForm(formdata=None, body=version.body, version=str(letter.current.number),
                        signatories=[s["email"] for s in version.signatories])
    _signer_choices(form)
    return render_template(
        "apology/detail.html", letter=letter, version=version, form=form,
        approve_form=ApproveForm(formdata=None), sent_form=SentForm(formdata=None),
        review=_review(version.body, letter.language, version.signatories, version.findings),
        problems=services.approval_problems(letter), approver=services.approver_role(letter),
        errors=services.error_codes(letter.current),
        warnings=services.warning_codes(letter.current), channel_labels=CHANNEL_LABELS), code


@bp.get("/apologies/<int:letter_id>")
def detail(letter_id: int):
    return _page(services.get_letter(letter_id),
                 version_number=request.args.get("version", type=int))


@bp.post("/apologies/<int:letter_id>")
@role_required(Role.agent)
def edit(letter_id: int):
    letter = services.get_letter(letter_id)
    form = EditForm()
    _signer_choices(form)
    if not form.validate_on_submit():
        return _page(letter, 422, form)
    try:
        services.edit(current_user, letter, form.body.data, form.signatories.data,
                      expected_version=int(form.version.data))
    except (DomainError, ValueError) as err:
        db.session.rollback()
        if not isinstance(err, DomainError):
            abort(400)
        apply_errors(form, err)
        return _page(services.get_letter(letter_id), err.status, form)
    db.session.commit()
    flash(_("Saved as version %(n)s.", n=letter.current.number), "success")
    return redirect(url_for("apology.detail", letter_id=letter_id))


def _act(letter_id: int, action):
    letter = services.get_letter(letter_id)
    try:
        action(letter)
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return _page(services.get_letter(letter_id), err.status)
    db.session.commit()
    return redirect(url_for("apology.detail", letter_id=letter_id))


@bp.post("/apologies/<int:letter_id>/approve")
@role_required(Role.lead)
def approve(letter_id: int):
    form = ApproveForm()
    if not form.validate_on_submit():
        abort(400)
    return _act(letter_id, lambda letter: services.approve(current_user, letter,
                                                           form.override_reason.data or ""))


@bp.post("/apologies/<int:letter_id>/sent")
@role_required(Role.agent)
def sent(letter_id: int):
    form = SentForm()
    if not form.validate_on_submit():
        abort(400)
    return _act(letter_id, lambda letter: services.mark_sent(current_user, letter, form.channel.data))


@bp.get("/apologies/<int:letter_id>/diff")
def diff(letter_id: int):
    letter = services.get_letter(letter_id)
    numbers = {v.number: v for v in letter.versions}
    newest = letter.current.number
    b = request.args.get("b", newest, type=int)
    a = request.args.get("a", max(1, b - 1), type=int)
    if a not in numbers or b not in numbers:
        abort(404)
    return render_template("apology/diff.html", letter=letter, a=numbers[a], b=numbers[b],
                           rows=export.diff_rows(numbers[a].body, numbers[b].body))


@bp.get("/apologies/<int:letter_id>/export.<any(md, txt, html, eml):fmt>")
def download(letter_id: int, fmt: str):
    letter = services.get_letter(letter_id)
    version = letter.current
    try:
        export.check_exportable(letter, version)
    except DomainError as err:
        flash(err.message, "error")
        return _page(letter, err.status)
    name = f"apology-{letter.incident_id}-{letter.id}-v{version.number}"
    if fmt == "md":
        return Response(version.body, mimetype="text/markdown",
                        headers={"Content-Disposition": f"attachment; filename={name}.md"})
    if fmt == "txt":
        return Response(export.to_text(version.body), mimetype="text/plain",
                        headers={"Content-Disposition": f"attachment; filename={name}.txt"})
    if fmt == "html":
        return export.to_html(letter, version)
    if letter.audience != Audience.customer:
        abort(404, _("Only a letter to one customer can be exported as an e-mail."))
    return Response(export.to_eml(letter, version), mimetype="message/rfc822",
                    headers={"Content-Disposition": f"attachment; filename={name}.eml"})


def _review(text: str, language: str, signatories: list[dict],
            findings: list[dict] | None = None) -> dict:
    """What the check panel shows of `text`. A saved version's own `findings` are shown, not
    fresh ones: they are what approval and export go by; where each part is comes fresh."""
    found = report.report(text, language, signatories)
    findings = found.findings if findings is None else findings
    return {"text": text, "findings": findings, "rows": report.checklist(found),
            "pieces": report.pieces(text, found.elements, findings)}


@bp.post("/apologies/check")
@role_required(Role.agent)
def live_check():
    """Findings and the parts of a good apology for text being typed, as data and as the
    panel's HTML (the letter page calls this; CSRF token in a header). Spans count code
    points, as Python does."""
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}
    text, language = data.get("text"), data.get("language", "ko")
    if not isinstance(text, str) or len(text) > services.BODY_MAX or bad_text(text):
        return jsonify(error={"code": "validation_failed", "message": _("Send the letter text.")}), 422
    if language not in ("ko", "en"):
        return jsonify(error={"code": "validation_failed", "message": _("Use ko or en.")}), 422
    emails = data.get("signatory_emails") or []
    if not isinstance(emails, list) or len(emails) > 20:
        return jsonify(error={"code": "validation_failed",
                              "message": _("Send the signatories as a list of e-mail addresses.")}), 422
    signers = db.session.scalars(select(User).where(User.email.in_(
        [e.strip().lower() for e in emails if isinstance(e, str)]))).all() if emails else []
    review = _review(text, language, [services.signatory_dict(u) for u in signers])
    return jsonify(
        findings=[{**f, "title": finding_title(f["code"])} for f in review["findings"]],
        elements={row.element: [list(span) for span in row.spans] for row in review["rows"]},
        html={name: render_template(f"apology/_{name}.html", review=review)
              for name in ("findings", "elements", "mirror")})
