"""Apology rules: draft from facts, edit as new versions, approve by the right role, send."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import selectinload

from app.errors import Conflict, Forbidden, NotFound, StaleEdit, ValidationFailed
from app.extensions import db
from app.i18n import gettext as _
from app.models import Role, User
from app.textcheck import bad_text
from app.timeutil import utcnow
from incidents.apology import check as apology_check
from incidents.apology import drafting
from incidents.apology.models import ApologyLetter, ApologyVersion, Audience, LetterStatus
from incidents.compensation.models import Compensation, CompStatus
from incidents.models import AffectedCustomer, EventKind, Incident
from incidents.services import record_event, require_role
from incidents.services import updated_hooks as incident_updated_hooks

BODY_MAX = 50_000
CHANNELS = ("email", "sms", "chat", "phone", "post", "website", "social", "in_person")

# Later features (postmortem action items) add "what will change" lines here.
ChangeSource = Callable[[Incident, str], list[str]]
change_sources: list[ChangeSource] = []


def get_letter(letter_id: int) -> ApologyLetter:
    letter = db.session.get(ApologyLetter, letter_id)
    if letter is None:
        raise NotFound(_("Apology letter %(id)s does not exist.", id=letter_id))
    return letter


def signatory_dict(user: User) -> dict:
    return {"user_id": user.id, "name": user.name, "title": user.title, "email": user.email}


def findings_for(text: str, language: str, signatories: list[dict]) -> list[dict]:
    people = [apology_check.Person(s["name"], s["title"]) for s in signatories]
    return [f.as_dict() for f in apology_check.check(text, language, people)]


def _remedies(incident: Incident, audience: Audience, customer_id: int | None) -> list[Compensation]:
    query = select(Compensation).where(Compensation.incident_id == incident.id,
                                       Compensation.status.in_((CompStatus.approved, CompStatus.paid)))
    if audience == Audience.customer:
        query = query.where(Compensation.customer_id == customer_id)
    return list(db.session.scalars(query.order_by(Compensation.id)))


def _signers(emails: list[str]) -> list[User]:
    found = []
    for email in dict.fromkeys(e.strip().lower() for e in emails):
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None or not user.active or user.role == Role.viewer:
            raise ValidationFailed(_("Unknown signatory."), {"signatory_emails": _(
                "%(email)s is not an active member of staff who can sign.", email=email)})
        found.append(user)
    return found


def _body(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed(_("The letter is empty."), {"body": _("Write the letter.")})
    if len(text) > BODY_MAX or bad_text(text):
        raise ValidationFailed(_("The letter cannot be saved."), {"body": _(
            "At most %(n)s ordinary characters.", n=BODY_MAX)})
    # Browsers send a textarea with CRLF and the API strips outer whitespace: store one form
    # (as drafts are rendered), so saving unchanged text really is unchanged.
    return text.replace("\r\n", "\n").replace("\r", "\n").strip() + "\n"


def draft(actor: User, incident: Incident, *, audience: Audience, language: str,
          customer_id: int | None = None, now: datetime | None = None) -> ApologyLetter:
    require_role(actor, Role.agent)
    if language not in drafting.LANGUAGES:
        raise ValidationFailed(_("Unknown language."), {"language": _("Use ko or en.")})
    customer = None
    if audience == Audience.customer:
        customer = next((c for c in incident.customers if c.id == customer_id), None)
        if customer is None:
            raise ValidationFailed(_("Choose the customer this letter is for."), {
                "customer_id": _("Give one of the affected customers of incident %(id)s.",
                                 id=incident.id)})
    elif customer_id is not None:
        raise ValidationFailed(_("A public notice is not for one customer."),
                               {"customer_id": _("Leave it empty for a public notice.")})
    now = now or utcnow()
    signers = [signatory_dict(incident.owner)]
    changes = [line for source in change_sources for line in source(incident, language)]
    facts = drafting.gather(
        incident, audience=audience.value, language=language, customer=customer,
        compensations=_remedies(incident, audience, customer_id), changes=changes,
        signatories=[drafting.Signatory(s["name"], s["title"], s["email"]) for s in signers])
    body = drafting.render(facts)
    letter = ApologyLetter(incident=incident, audience=audience, customer=customer,
                           language=language, status=LetterStatus.draft, created_by=actor,
                           created_at=now, senior_signer_required=False)
    _raise_bar(letter)
    letter.versions.append(ApologyVersion(number=1, body=body, signatories=signers,
                                          findings=findings_for(body, language, signers),
                                          created_by=actor, created_at=now))
    db.session.add(letter)
    db.session.flush()
    record_event(incident, actor, EventKind.apology_drafted, at=now, data={
        "letter_id": letter.id, "audience": audience.value, "language": language})
    db.session.flush()
    return letter


def edit(actor: User, letter: ApologyLetter, body: str, signatory_emails: list[str] | None = None,
         expected_version: int | None = None, now: datetime | None = None) -> ApologyLetter:
    """Save a new version (unchanged text and signers save nothing). An approved letter
    that is edited goes back to draft: what is sent is always what was approved."""
    require_role(actor, Role.agent)
    if letter.status == LetterStatus.sent:
        raise Conflict(_("This letter was already sent; write a new one instead of editing it."))
    current = letter.current
    if expected_version is not None and expected_version != current.number:
        raise StaleEdit(_("Someone saved version %(n)s while you were editing. Your text was not "
                          "saved; copy it, reload, and apply it again.", n=current.number))
    body = _body(body)
    signers = ([signatory_dict(u) for u in _signers(signatory_emails)]
               if signatory_emails is not None else current.signatories)
    if body == current.body and signers == current.signatories:
        return letter
    now = now or utcnow()
    letter.versions.append(ApologyVersion(
        number=current.number + 1, body=body, signatories=signers,
        findings=findings_for(body, letter.language, signers), created_by=actor, created_at=now))
    reopened = letter.status == LetterStatus.approved
    if reopened:
        letter.status, letter.approved_by, letter.approved_at = LetterStatus.draft, None, None
        letter.approved_version, letter.override_reason = None, ""
    db.session.flush()
    record_event(letter.incident, actor, EventKind.apology_edited, at=now, data={
        "letter_id": letter.id, "version": current.number + 1, "reopened": reopened})
    db.session.flush()
    return letter


def _role_for(audience: Audience) -> Role:
    return Role.manager if audience == Audience.public else Role.lead


def _grave(incident: Incident) -> bool:
    return incident.grade.name.lower() == "red"


def approver_role(letter: ApologyLetter) -> Role:
    """The least role that may approve `letter` now, never less than was asked when it was
    drafted (or since, while it waited)."""
    needed = _role_for(letter.audience)
    floor = letter.required_role or needed
    return floor if floor.rank >= needed.rank else needed


def needs_senior_signer(letter: ApologyLetter) -> bool:
    """A public notice for a Red incident is also signed by a manager or admin; once asked,
    lowering the grade before approval does not take that back."""
    return letter.audience == Audience.public and (letter.senior_signer_required
                                                   or _grave(letter.incident))


def _raise_bar(letter: ApologyLetter) -> None:
    letter.required_role = approver_role(letter)
    letter.senior_signer_required = needs_senior_signer(letter)


def approval_problems(letter: ApologyLetter) -> list[str]:
    """What stops approval regardless of the check's findings."""
    problems = []
    signers = letter.current.signatories
    if not signers:
        problems.append(_("A letter cannot be approved without a named signatory."))
    if needs_senior_signer(letter):
        ids = [s["user_id"] for s in signers]
        seniors = db.session.scalars(select(User).where(User.id.in_(ids), User.role.in_(
            (Role.manager, Role.admin)))).all() if ids else []
        if not seniors:
            problems.append(_("A public notice for a Red incident must also be signed by a "
                              "manager or admin."))
    return problems


def approve(actor: User, letter: ApologyLetter, override_reason: str = "",
            now: datetime | None = None) -> ApologyLetter:
    needed = approver_role(letter)
    if not actor.can(needed):
        raise Forbidden(_("Only a %(role)s or above may approve this letter.", role=needed.value))
    if letter.status != LetterStatus.draft:
        raise Conflict(_("This letter is already %(status)s.", status=letter.status.value))
    problems = approval_problems(letter)
    if problems:
        raise Conflict(" ".join(problems), problems=problems)
    errors = [f["code"] for f in letter.current.findings if f["severity"] == apology_check.ERROR]
    reason = (override_reason or "").strip()
    if errors and not reason:
        raise Conflict(_("The check found problems (%(codes)s). Fix them, or give a reason to "
                         "approve anyway.", codes=", ".join(errors)), findings=errors)
    if bad_text(reason) or len(reason) > 5000:
        raise ValidationFailed(_("The reason cannot be saved."), {"override_reason": _("Too long.")})
    now = now or utcnow()
    letter.status, letter.approved_by, letter.approved_at = LetterStatus.approved, actor, now
    letter.approved_version = letter.current.number
    letter.override_reason = reason if errors else ""
    db.session.flush()
    record_event(letter.incident, actor, EventKind.apology_approved, letter.override_reason, at=now,
                 data={"letter_id": letter.id, "version": letter.approved_version,
                       "overridden": errors})
    db.session.flush()
    return letter


def mark_sent(actor: User, letter: ApologyLetter, channel: str,
              now: datetime | None = None) -> ApologyLetter:
    require_role(actor, Role.agent)
    if channel not in CHANNELS:
        raise ValidationFailed(_("Unknown channel."), {"channel": _("Use one of: %(list)s.",
                                                                    list=", ".join(CHANNELS))})
    if letter.status != LetterStatus.approved:
        raise Conflict(_("Only an approved letter can be sent; this one is %(status)s.",
                         status=letter.status.value))
    now = now or utcnow()
    letter.status, letter.sent_by, letter.sent_at, letter.sent_channel = (
        LetterStatus.sent, actor, now, channel)
    db.session.flush()
    record_event(letter.incident, actor, EventKind.apology_sent, at=now, data={
        "letter_id": letter.id, "channel": channel, "version": letter.approved_version})
    db.session.flush()
    return letter


def _on_incident_updated(actor, incident: Incident, before: dict, extra: dict, now) -> None:
    """A graver grade raises the bar for letters still waiting for approval."""
    if before["grade"] != incident.grade.name:
        for letter in db.session.scalars(select(ApologyLetter).where(
                ApologyLetter.incident_id == incident.id,
                ApologyLetter.status == LetterStatus.draft)):
            _raise_bar(letter)
        db.session.flush()


incident_updated_hooks.append(_on_incident_updated)


# The incident page's list of letters, built once: each letter's customer and number of
# versions, as plain rows.
_LETTER_ROWS = (
    select(ApologyLetter.id, ApologyLetter.audience, ApologyLetter.language, ApologyLetter.status,
           ApologyLetter.customer_id, AffectedCustomer.name.label("customer_name"),
           AffectedCustomer.reference.label("customer_reference"),
           select(func.count(ApologyVersion.id)).where(ApologyVersion.letter_id == ApologyLetter.id)
           .scalar_subquery().label("version_count"))
    .outerjoin(AffectedCustomer, ApologyLetter.customer_id == AffectedCustomer.id)
    .where(ApologyLetter.incident_id == bindparam("incident_id")).order_by(ApologyLetter.id))


def letter_rows(incident_id: int) -> list:
    """for_incident() as plain rows of what the incident page shows."""
    return db.session.execute(_LETTER_ROWS, {"incident_id": incident_id}).all()


def for_incident(incident: Incident) -> list[ApologyLetter]:
    # The incident page lists each letter's customer and version count: load them with the
    # letters, not one query per letter.
    return list(db.session.scalars(select(ApologyLetter).where(
        ApologyLetter.incident_id == incident.id).order_by(ApologyLetter.id)
        .options(selectinload(ApologyLetter.versions), selectinload(ApologyLetter.customer))))
