"""Turning a closed incident with a published postmortem into a playbook (or a new
version of the playbook for its kind): the letter to the future team."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import url_for
from flask_babel import force_locale
from sqlalchemy import select

from app import search
from app.errors import Conflict
from app.extensions import db
from app.i18n import gettext as _
from app.models import Role, User
from app.money import format_money
from app.templating import role_label
from incidents import services as incident_services
from incidents.apology.models import ApologyLetter, LetterStatus
from incidents.compensation import services as comp_services
from incidents.compensation.forms import TYPE_LABELS
from incidents.compensation.models import Compensation, CompStatus
from incidents.models import EventKind, Incident, Status, TimelineEvent
from incidents.postmortem import services as pm_services
from incidents.postmortem.models import ActionStatus, PlaybookSource, PostmortemStatus
from incidents.services import record_event
from playbooks import services as playbook_services
from playbooks.models import Playbook, PlaybookStatus


def sources(playbook: Playbook) -> list[Incident]:
    return list(db.session.scalars(select(Incident).join(PlaybookSource).where(
        PlaybookSource.playbook_id == playbook.id).order_by(PlaybookSource.added_at)))


def _pii_of_sources(playbook: Playbook) -> list[str]:
    return [v for incident in sources(playbook) for v in pm_services.customer_pii(incident)]


def _source_links(playbook: Playbook) -> list[tuple[str, str]]:
    return [(f"#{i.id} {i.title}", url_for("incidents.detail", incident_id=i.id))
            for i in sources(playbook)]


def _forget_new_customer(actor, incident: Incident, customer, now) -> None:
    """A customer recorded after publishing: the published postmortem is indexed again
    without them, and the playbooks made from the incident are scrubbed of them."""
    pm = pm_services.for_incident(incident.id)
    if pm is not None and pm.status == PostmortemStatus.published:
        search.enqueue(pm_services.DOC_TYPE, pm.id)
    for playbook in db.session.scalars(select(Playbook).join(PlaybookSource).where(
            PlaybookSource.incident_id == incident.id)):
        playbook_services.scrub(playbook, _pii_of_sources(playbook), now=now)


playbook_services.pii_sources.append(_pii_of_sources)
playbook_services.source_providers.append(_source_links)
incident_services.customer_hooks.append(_forget_new_customer)


def section(markdown: str, names: tuple[str, ...]) -> str:
    """The text under a `## name` heading of the postmortem, without hint lines."""
    pattern = re.compile(r"^##\s*(.+?)\s*$", re.MULTILINE)
    heads = list(pattern.finditer(markdown))
    for i, head in enumerate(heads):
        if head.group(1).strip().lower() in {n.lower() for n in names}:
            end = heads[i + 1].start() if i + 1 < len(heads) else len(markdown)
            text = markdown[head.end():end].strip()
            lines = [ln for ln in text.splitlines() if not re.fullmatch(r"\s*_.*_\s*", ln)]
            return "\n".join(lines).strip()
    return ""


def _authority_text(incident: Incident, language: str) -> str:
    currency = comp_services.policy_currency()
    lines = []
    with force_locale(language):
        for comp_type, (agent_limit, self_serve) in comp_services.role_limits(
                Role.agent, incident.grade).items():
            if agent_limit is None and self_serve is None:
                continue
            what = str(TYPE_LABELS[comp_type])
            parts = []
            if agent_limit is not None:
                parts.append(_("an agent may approve up to %(amount)s",
                               amount=format_money(agent_limit, currency)))
            if self_serve is not None:
                parts.append(_("up to %(amount)s is approved automatically",
                               amount=format_money(self_serve, currency)))
            lines.append(f"- {what}: {', '.join(parts)}")
    return "\n".join(lines)


def _compensation_text(comps, language: str) -> str:
    with force_locale(language):  # "Coupon or discount", not the stored "coupon"
        return "\n".join(f"- {TYPE_LABELS[c.type]}: {format_money(c.amount, c.currency)}"
                         for c in comps)


@dataclass
class Proposal:
    data: playbook_services.PlaybookData
    target: Playbook | None
    candidates: list[Playbook]
    removed: list


def _content(incident: Incident, language: str) -> playbook_services.PlaybookData:
    pm = pm_services.get_for_incident(incident.id)
    names = {k: (pm_services.SECTIONS["en"][i], pm_services.SECTIONS["ko"][i])
             for i, k in enumerate(["summary", "impact", "timeline", "cause", "factors", "well",
                                    "badly", "lucky", "actions", "letter"])}
    actions = db.session.scalars(select(TimelineEvent).where(
        TimelineEvent.incident_id == incident.id, TimelineEvent.kind == EventKind.action)
        .order_by(TimelineEvent.created_at))
    numbered = "\n".join(f"{i}. {e.body}" for i, e in enumerate(actions, start=1))
    published = pm.published_body or ""  # never a change a lead has not published
    letter = section(published, names["letter"])
    # A blank line between: without it Markdown runs the numbered steps into the letter.
    steps = [part for part in (letter, numbered) if part]
    comps = db.session.scalars(select(Compensation).where(
        Compensation.incident_id == incident.id,
        Compensation.status.in_((CompStatus.approved, CompStatus.paid))))
    message = db.session.scalar(select(ApologyLetter).where(
        ApologyLetter.incident_id == incident.id,
        ApologyLetter.status.in_((LetterStatus.approved, LetterStatus.sent)))
        .order_by(ApologyLetter.id.desc()).limit(1))
    items = pm_services.actions_for(incident.id)
    done = "완료" if language == "ko" else "done"
    still_open = "진행 중" if language == "ko" else "open"
    with force_locale(language):
        escalation = _("%(grade)s: the %(role)s on duty; this time %(name)s (%(title)s) owned it.",
                       grade=incident.grade.name, role=role_label(incident.grade.notified_role),
                       name=incident.owner.name, title=incident.owner.title)
    return playbook_services.PlaybookData(
        title=incident.title,
        summary=section(published, names["summary"]) or incident.description,
        symptoms="\n\n".join(t for t in (incident.description, incident.impact) if t),
        steps="\n\n".join(steps) or incident.resolution,
        authority=_authority_text(incident, language),
        compensation=_compensation_text(comps, language),
        message=message.current.body if message else "",
        escalation=escalation,
        prevention="\n".join(f"- [{done if i.status == ActionStatus.done else still_open}] {i.title}"
                             for i in items),
        tags=[t for t in (incident.category.slug if incident.category else "",
                          incident.channel.value if incident.channel else "") if t],
        language=language, grade=incident.grade, category=incident.category)


def _check_ready(incident: Incident) -> None:
    pm = pm_services.for_incident(incident.id)
    if incident.status != Status.closed or pm is None or pm.status != PostmortemStatus.published:
        raise Conflict(_("A playbook is made from a closed incident with a published postmortem."))
    already = db.session.scalar(select(PlaybookSource).where(PlaybookSource.incident_id == incident.id))
    if already is not None:
        raise Conflict(_("This incident is already part of playbook #%(id)s.",
                         id=already.playbook_id))


def candidates(incident: Incident) -> list[Playbook]:
    """Published playbooks of the same kind: same category, or a strong text match."""
    hits = playbook_services.similar(f"{incident.title}\n{incident.description}", limit=5)
    found = [db.session.get(Playbook, h.id) for h in hits]
    same = [p for p in found if p is not None and p.status == PlaybookStatus.published
            and (incident.category_id is None or p.category_id == incident.category_id)]
    return same[:3]


def propose(incident: Incident, target_id: int | None = None, new: bool = False) -> Proposal:
    """What would be published, already cleaned, and what was removed. Writes nothing."""
    _check_ready(incident)
    pm = pm_services.get_for_incident(incident.id)
    data = _content(incident, pm.language)
    options = candidates(incident)
    target = None
    if target_id is not None:
        target = playbook_services.get(target_id)
    elif not new and options:
        target = options[0]
    if target is not None:
        data = _merge(target, data, incident)
    known = pm_services.customer_pii(incident) + (playbook_services.known_pii(target) if target else [])
    cleaned, removed = playbook_services.redacted(data, known)
    return Proposal(cleaned, target, options, removed)


def _merge(target: Playbook, new: playbook_services.PlaybookData, incident: Incident):
    """A recurrence keeps the playbook's text and adds what this incident taught."""
    def join(old: str, add: str) -> str:
        if not add or add.strip() in old:
            return old
        return f"{old}\n\n{add}".strip()
    # Not "#12 title": at the start of a Markdown line "#12" renders as a heading.
    label = f"{incident.title} (#{incident.id})"
    return playbook_services.PlaybookData(
        title=target.title, summary=join(target.summary, f"- {label}"),
        symptoms=join(target.symptoms, new.symptoms), steps=join(target.steps, new.steps),
        authority=new.authority or target.authority,
        compensation=join(target.compensation, new.compensation),
        message=target.message or new.message, escalation=target.escalation or new.escalation,
        prevention=join(target.prevention, new.prevention),
        tags=list(dict.fromkeys([*(target.tags or []), *new.tags])), language=target.language,
        grade=target.grade or new.grade, category=target.category or new.category)


def make(actor: User, incident: Incident, data: playbook_services.PlaybookData,
         target: Playbook | None) -> tuple[Playbook, list, bool]:
    """Publish `data` as a new playbook or a new version of `target`; returns
    (playbook, what was removed, created?)."""
    _check_ready(incident)
    playbook_services.require_first_steps(data)
    known = pm_services.customer_pii(incident)
    if target is None:
        playbook, removed = playbook_services.publish_new(
            actor, data, known=known, note=_("from incident #%(id)s", id=incident.id))
        created = True
    else:
        playbook, removed = playbook_services.revise(
            actor, target, data, known=known, recurrence=True,
            note=_("recurrence: incident #%(id)s", id=incident.id))
        created = False
    db.session.add(PlaybookSource(playbook=playbook, incident=incident,
                                  playbook_version=playbook.version))
    record_event(incident, actor, EventKind.playbook_made,
                 data={"playbook_id": playbook.id, "version": playbook.version, "created": created})
    db.session.flush()
    return playbook, removed, created
