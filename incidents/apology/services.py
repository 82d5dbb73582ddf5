"""Apology rules: draft from what may be told, edit as new versions, approve by the right role,
send; a letter the check finds an error in is never approved, exported or sent."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import selectinload

from app.errors import Conflict, Forbidden, NotFound, StaleEdit, ValidationFailed
from app.extensions import db
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.models import Role, User
from app.textcheck import bad_text
from app.timeutil import utcnow
from incidents.apology import check as apology_check
from incidents.apology import codes, drafting
from incidents.apology.models import ApologyLetter, ApologyVersion, Audience, LetterStatus
from incidents.compensation.models import Compensation, CompStatus
from incidents.escalation.services import on_duty
from incidents.models import AffectedCustomer, EventKind, Incident
from incidents.services import record_event, require_role
from incidents.services import updated_hooks as incident_updated_hooks

BODY_MAX = 50_000
CHANNELS = ("email", "sms", "chat", "phone", "post", "website", "social", "in_person")

# Later features (postmortem action items) add "what will change" lines here.
ChangeSource = Callable[[Incident, str], list[str]]
change_sources: list[ChangeSource] = []

FINDING_TITLES = {
    "placeholder_left": _l("Placeholder left"), "no_named_signatory": _l("No named signatory"),
    "collective_signature": _l("Collective signature"), "contradiction": _l("Contradiction"),
    "missing_apology": _l("No apology"), "conditional_apology": _l("Conditional apology"),
    "blames_customer": _l("Blames the customer"), "blames_employee": _l("Points at an employee"),
    "missing_facts": _l("Facts missing"), "missing_cause": _l("Cause missing"),
    "missing_remedy": _l("Remedy missing"), "missing_prevention": _l("Prevention missing"),
    "missing_contact": _l("Contact missing"), "vague_promise": _l("Vague promise")}


def finding_title(code: str) -> str:
    return str(FINDING_TITLES.get(code, code))


def _severity(finding: dict) -> str:
    # What a code weighs is decided in codes.SEVERITY, also for versions saved before it was.
    return codes.SEVERITY.get(finding.get("code"), finding.get("severity", codes.ERROR))


def error_codes(version: ApologyVersion) -> list[str]:
    """The findings of `version` that block approval, export and sending: no one may wave them
    through."""
    return list(dict.fromkeys(f["code"] for f in version.findings if _severity(f) == codes.ERROR))


def warning_codes(version: ApologyVersion) -> list[str]:
    """The findings a lead or above may approve despite, giving a reason."""
    return list(dict.fromkeys(f["code"] for f in version.findings
                              if _severity(f) != codes.ERROR))


def _titles(found: list[str]) -> str:
    return ", ".join(finding_title(code) for code in found)


def _errors_message(errors: list[str], action: str) -> str:
    messages = {
        "approve": _("This letter cannot be approved while the check finds errors: %(findings)s. "
                     "Errors cannot be overridden; fix the letter and save it.",
                     findings=_titles(errors)),
        "export": _("This letter cannot be exported while the check finds errors: %(findings)s. "
                    "Fix the letter and save it first.", findings=_titles(errors)),
        "send": _("This letter cannot be sent while the check finds errors: %(findings)s. Fix "
                  "the letter, save it and have it approved again.", findings=_titles(errors)),
    }
    return messages[action]


def refuse_errors(version: ApologyVersion, action: str) -> None:
    """Conflict (409), naming the findings, when the check found an error in `version`;
    `action` is "approve", "export" or "send"."""
    errors = error_codes(version)
    if errors:
        raise Conflict(_errors_message(errors, action), findings=errors)


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


# --- who signs ---------------------------------------------------------------------------------
#
# The letter is signed by the person who answers for the remedy: the manager (or admin) who
# approved a compensation above the lead's limit, else the incident's owner; never a junior
# agent on a Red incident, whose letter the lead on duty signs (else the longest-serving
# active lead, else a manager). A public notice for a Red incident is also signed, first, by
# a manager: the one on duty, else the longest-serving active manager, else an admin.

def _can_sign(user: User | None) -> bool:
    return user is not None and user.active and user.role != Role.viewer


def _senior(least: Role, now: datetime) -> User | None:
    """Who stands in for a role: the one on duty, else the longest-serving active holder of
    that role, then of the roles above it."""
    for role in (Role.lead, Role.manager, Role.admin):
        if not role.at_least(least):
            continue
        person = on_duty(role, now) if role != Role.admin else None
        if _can_sign(person) and person.role.at_least(least):
            return person
        person = db.session.scalar(select(User).where(User.role == role, User.active.is_(True))
                                   .order_by(User.id).limit(1))
        if person is not None:
            return person
    return None


def answerer(incident: Incident, compensations: list[Compensation], now: datetime) -> User:
    """The person who answers for the remedy of a letter offering `compensations`."""
    above_lead = [c for c in compensations if c.required_role.rank > Role.lead.rank
                  and _can_sign(c.approved_by)]
    if above_lead:
        return max(above_lead, key=lambda c: (c.amount, c.id)).approved_by
    owner = incident.owner
    if _grave(incident) and not owner.role.at_least(Role.lead):
        return _senior(Role.lead, now) or owner
    return owner


def default_signers(incident: Incident, audience: Audience, compensations: list[Compensation],
                    now: datetime) -> tuple[list[User], User]:
    """(who signs, in the order they sign; who the customer may contact)."""
    contact = answerer(incident, compensations, now)
    signers = [contact]
    if audience == Audience.public and _grave(incident) and not contact.role.at_least(Role.manager):
        senior = _senior(Role.manager, now)
        if senior is not None:
            signers.insert(0, senior)
    return signers, contact


def _signatory(s: dict) -> drafting.Signatory:
    return drafting.Signatory(s["name"], s["title"], s["email"])


def resign(body: str, language: str, audience: Audience, before: list[dict],
           after: list[dict]) -> str:
    """`body` signed by `after` instead of `before`, when it ends with the signature the draft
    wrote for `before`; a signature written by hand is left as it is (the check and the
    approval rules then see whether it names the signatories). In a letter to a customer the
    contact paragraph follows: "write to me" is said only by the first signatory."""
    old = drafting.signature_block([_signatory(s) for s in before], language, audience.value)
    new = drafting.signature_block([_signatory(s) for s in after], language, audience.value)
    text = body.rstrip("\n")
    if old == new or not text.endswith(old):
        return body
    head = text[:-len(old)]
    if head and not head.endswith("\n"):
        return body  # the old signature is only the end of a longer line
    if audience == Audience.customer:
        head = _recontact(head, language, before, after)
    return head + new + "\n"


def _recontact(text: str, language: str, before: list[dict], after: list[dict]) -> str:
    """The draft's contact paragraph for the new first signatory: the contact the old first
    signatory wrote as "write to me" is named instead, and a named contact who now signs first
    says "write to me". A paragraph written by hand is left as it is."""
    first_before = before[0] if before else None
    first_after = after[0] if after else None
    people = {s["email"]: s for s in (*before, *after)}
    for email, person in people.items():
        contact = _signatory(person)
        me = drafting.contact_paragraph(contact, language, signs=True)
        named = drafting.contact_paragraph(contact, language, signs=False)
        signs_now = first_after is not None and first_after["email"] == email
        signed_before = first_before is not None and first_before["email"] == email
        if signed_before and not signs_now and me in text:
            return text.replace(me, named, 1)
        if signs_now and not signed_before and named in text:
            return text.replace(named, me, 1)
    return text


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
    remedies = _remedies(incident, audience, customer_id)
    people, contact = default_signers(incident, audience, remedies, now)
    signers = [signatory_dict(u) for u in people]
    changes = [line for source in change_sources for line in source(incident, language)]
    facts = drafting.gather(
        incident, audience=audience.value, language=language, customer=customer,
        compensations=remedies, changes=changes,
        signatories=[_signatory(s) for s in signers],
        contact=_signatory(signatory_dict(contact)),
        today=drafting.local(now).date())
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
    that is edited goes back to draft: what is sent is always what was approved. Changed
    signatories re-sign the letter when it still ends with the signature the draft wrote."""
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
    if signers != current.signatories:
        body = resign(body, letter.language, letter.audience, current.signatories, signers)
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


# A line of prose ends a sentence or leads into the signature ("With my sincere apologies,");
# the lines after the last of them are the signature block.
_PROSE_END = re.compile(r"[.!?,:;。…]\s*$")
_INTRO_LINES = 3


def signature_block(body: str) -> str:
    """The lines that sign `body`: those after its last line of prose, plus its first lines,
    where a speaker may introduce themselves ("카카오 각자대표 홍길동입니다")."""
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    end = len(lines)
    while end and not _PROSE_END.search(lines[end - 1]) and not lines[end - 1].startswith("- "):
        end -= 1
    return "\n".join(lines[:_INTRO_LINES] + lines[end:])


def _printed(signatory: dict, block: str) -> bool:
    return signatory["name"] in block and (not signatory["title"] or signatory["title"] in block)


def approval_problems(letter: ApologyLetter) -> list[str]:
    """What stops approval regardless of the check's findings: nobody signs, someone signs
    who is not named in the letter, or a Red public notice has no manager signing."""
    problems = []
    signers = letter.current.signatories
    if not signers:
        problems.append(_("A letter cannot be approved without a named signatory."))
    block = signature_block(letter.current.body)
    for signer in signers:
        if not _printed(signer, block):
            problems.append(_("%(name)s (%(title)s) signs this letter but is not named in it: "
                              "print their name and job title in the signature.",
                              name=signer["name"], title=signer["title"]))
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
    # Everything that blocks, said at once: the signatories and the check's errors.
    problems, errors = approval_problems(letter), error_codes(letter.current)
    if problems or errors:
        said = problems + ([_errors_message(errors, "approve")] if errors else [])
        raise Conflict(" ".join(said), problems=problems, findings=errors)
    reason = (override_reason or "").strip()
    if bad_text(reason) or len(reason) > 5000:
        raise ValidationFailed(_("The reason cannot be saved."), {"override_reason": _("Too long.")})
    warnings = warning_codes(letter.current)
    if warnings and not actor.can(Role.lead):
        raise Forbidden(_("Only a lead or above may approve a letter despite warnings."))
    if warnings and not reason:
        raise Conflict(_("The check has warnings: %(findings)s. Fix them, or give a reason to "
                         "approve anyway.", findings=_titles(warnings)), findings=warnings)
    now = now or utcnow()
    letter.status, letter.approved_by, letter.approved_at = LetterStatus.approved, actor, now
    letter.approved_version = letter.current.number
    letter.override_reason = reason if warnings else ""
    db.session.flush()
    record_event(letter.incident, actor, EventKind.apology_approved, letter.override_reason, at=now,
                 data={"letter_id": letter.id, "version": letter.approved_version,
                       "overridden": warnings})
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
    # A letter approved before errors could no longer be overridden is held back too.
    refuse_errors(letter.current, "send")
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
