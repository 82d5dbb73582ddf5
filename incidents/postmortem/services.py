"""Postmortem and action-item rules; postmortems feed search once published."""

from __future__ import annotations

import re
from datetime import date, datetime

from flask_babel import force_locale
from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import joinedload

from app import search
from app.errors import Conflict, Forbidden, NotFound, StaleEdit, ValidationFailed
from app.extensions import db
from app.i18n import gettext as _
from app.i18n import localtime
from app.models import Role, User
from app.pagination import paginate_rows
from app.templating import role_label
from app.textcheck import bad_text
from app.timeutil import utcnow
from incidents.apology import check as apology_check
from incidents.apology import drafting
from incidents.apology import services as apology_services
from incidents.models import EventKind, Incident, TimelineEvent
from incidents.postmortem.models import (
    ActionItem,
    ActionKind,
    ActionStatus,
    Postmortem,
    PostmortemStatus,
    PostmortemVersion,
)
from incidents.services import close_check, record_event, require_role
from incidents.timeline import describe_event

DOC_TYPE = "postmortem"
BODY_MAX = 100_000

SECTIONS = {
    "en": ["Summary", "Customer impact", "Timeline", "Root cause", "Contributing factors",
           "What went well", "What went badly", "Where we got lucky", "Action items",
           "Letter to the future team"],
    "ko": ["요약", "고객 영향", "타임라인", "근본 원인", "기여 요인", "잘된 점", "아쉬운 점",
           "운이 좋았던 점", "후속 조치", "미래의 팀에게 보내는 편지"],
}
HINTS = {
    "en": {"Summary": "What happened, in three sentences.",
           "Root cause": "Which process let this happen? (Blameless: processes, not people.)",
           "Letter to the future team": "Dear future team: when this happens again, do this first..."},
    "ko": {"요약": "무슨 일이 있었는지 세 문장으로 적어 주세요.",
           "근본 원인": "어떤 절차가 이 일을 허용했나요? (사람이 아니라 절차를 봅니다.)",
           "미래의 팀에게 보내는 편지": "미래의 팀에게: 이 일이 다시 생기면 먼저 이렇게 하세요..."},
}

# A published postmortem replaces every prompt of the template (HINTS), wherever it is; a
# section that held one is not left empty either: deleting a prompt is not answering it. (An
# author who renamed or dropped such a section wrote it elsewhere, and is not asked for it.)
REQUIRED = {language: tuple(hints) for language, hints in HINTS.items()}
_HEADING = re.compile(r"^##[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def unfilled_sections(body: str) -> list[str]:
    """The sections of `body` (a postmortem's Markdown) still holding a template prompt
    ("_What happened, in three sentences._"), or required and empty, in order."""
    prompts = {f"_{hint}_" for hints in HINTS.values() for hint in hints.values()}
    required = {name.lower() for names in REQUIRED.values() for name in names}
    heads = list(_HEADING.finditer(body))
    parts = [("", body[:heads[0].start()] if heads else body)]
    parts += [(head.group(1).strip(), body[head.end():heads[i + 1].start()
                                           if i + 1 < len(heads) else len(body)])
              for i, head in enumerate(heads)]
    found = []
    for name, text in parts:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        written = [line for line in lines if line not in prompts]
        if len(written) < len(lines) or (name.lower() in required and not written):
            found.append(name or "—")
    return list(dict.fromkeys(found))


def _refuse_unfilled(pm: Postmortem) -> None:
    unfilled = unfilled_sections(pm.body)
    if unfilled:
        raise Conflict(_("This postmortem cannot be published until every template prompt is "
                         "replaced and no required section is empty: %(sections)s.",
                         sections=", ".join(unfilled)), sections=unfilled)


def people_names(incident: Incident) -> list[str]:
    """Everyone a postmortem of `incident` might name: the staff who reported, owned, answered,
    acted on the timeline or own an action item, and its customers."""
    staff = [incident.owner, incident.reporter, *incident.responders]
    staff += db.session.scalars(select(User).join(TimelineEvent, TimelineEvent.actor_id == User.id)
                                .where(TimelineEvent.incident_id == incident.id)).all()
    staff += db.session.scalars(select(User).join(ActionItem, ActionItem.owner_id == User.id)
                                .where(ActionItem.incident_id == incident.id)).all()
    names = [u.name for u in staff if u is not None] + [c.name for c in incident.customers]
    return list(dict.fromkeys(n.strip() for n in names if n and n.strip()))


def blame_findings(pm: Postmortem, body: str | None = None) -> list[dict]:
    """Warnings for sentences of `body` (the working text) that put the fault on a named person
    ("박지훈 상담원이 실수해서", "Kim forgot to"): a postmortem criticises processes, not people."""
    text = pm.body if body is None else body
    return [f.as_dict() for f in apology_check.named_blame(text, pm.language,
                                                           people_names(pm.incident))]


# Who may move a postmortem between states.
TRANSITIONS = {
    (PostmortemStatus.draft, PostmortemStatus.in_review): Role.agent,
    (PostmortemStatus.in_review, PostmortemStatus.draft): Role.agent,
    (PostmortemStatus.in_review, PostmortemStatus.published): Role.lead,
    (PostmortemStatus.published, PostmortemStatus.draft): Role.lead,
}


# The incident page's statements, built once: SQLAlchemy then keeps their cache keys.
_FOR_INCIDENT = select(Postmortem).where(Postmortem.incident_id == bindparam("incident_id"))
_ACTIONS_ORDER = (ActionItem.status, ActionItem.due_date, ActionItem.id)
_ACTIONS = (select(ActionItem).where(ActionItem.incident_id == bindparam("incident_id"))
            .order_by(*_ACTIONS_ORDER))
# What the incident page shows of each action item, with its owner's name.
_ACTION_ROWS = (select(ActionItem.id, ActionItem.title, ActionItem.due_date, ActionItem.kind,
                       ActionItem.status, User.name.label("owner_name"))
                .join(User, ActionItem.owner_id == User.id)
                .where(ActionItem.incident_id == bindparam("incident_id")).order_by(*_ACTIONS_ORDER))


def for_incident(incident_id: int) -> Postmortem | None:
    return db.session.scalar(_FOR_INCIDENT, {"incident_id": incident_id})


def get_for_incident(incident_id: int) -> Postmortem:
    pm = for_incident(incident_id)
    if pm is None:
        raise NotFound(_("Incident %(id)s has no postmortem yet.", id=incident_id))
    return pm


def timeline_markdown(incident: Incident, language: str) -> str:
    """The incident's events as Markdown lines, in the postmortem's language."""
    events = db.session.scalars(select(TimelineEvent).where(TimelineEvent.incident_id == incident.id)
                                .order_by(TimelineEvent.created_at, TimelineEvent.id))
    lines = []
    with force_locale(language):
        for event in events:
            html = str(describe_event(event))
            what = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()
            who = event.actor.name if event.actor else _("System")
            body = f": {event.body}" if event.body and event.kind.value in (
                "note", "action", "status_changed") else ""
            # The time in bold: a Korean date ("26. 11. 22.") at the start of a list item
            # otherwise renders as nested numbered lists.
            lines.append(f"- **{localtime(event.created_at, 'short')}** — {who}: {what}{body}")
    return "\n".join(lines)


def template(incident: Incident, language: str) -> str:
    parts = [f"# {incident.title}", ""]
    for section in SECTIONS[language]:
        parts += [f"## {section}", ""]
        if section == SECTIONS[language][1] and incident.impact:
            parts += [incident.impact, ""]
        elif section == SECTIONS[language][2]:
            parts += [timeline_markdown(incident, language), ""]
        elif section == SECTIONS[language][3] and incident.cause:
            parts += [incident.cause, ""]
        elif section in HINTS[language]:
            parts += [f"_{HINTS[language][section]}_", ""]
    return "\n".join(parts).rstrip() + "\n"


def _body(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed(_("The postmortem is empty."), {"body": _("Write the postmortem.")})
    if len(text) > BODY_MAX or bad_text(text):
        raise ValidationFailed(_("The postmortem cannot be saved."),
                               {"body": _("At most %(n)s ordinary characters.", n=BODY_MAX)})
    return text


def start(actor: User, incident: Incident, language: str, now: datetime | None = None) -> Postmortem:
    require_role(actor, Role.agent)
    if language not in SECTIONS:
        raise ValidationFailed(_("Unknown language."), {"language": _("Use ko or en.")})
    if for_incident(incident.id) is not None:
        raise Conflict(_("This incident already has a postmortem."))
    now = now or utcnow()
    pm = Postmortem(incident=incident, language=language, body=template(incident, language),
                    status=PostmortemStatus.draft, created_by_id=actor.id, created_at=now,
                    updated_by=actor, updated_at=now)
    db.session.add(pm)
    db.session.flush()
    _keep_version(actor, pm, now)
    record_event(incident, actor, EventKind.postmortem_saved, at=now, data={"created": True})
    return pm


# The role that publishes is the role that may change what was published.
PUBLISHER = TRANSITIONS[(PostmortemStatus.in_review, PostmortemStatus.published)]

_LAST_NUMBER = select(func.max(PostmortemVersion.number)).where(
    PostmortemVersion.postmortem_id == bindparam("pm_id"))


def _keep_version(actor: User, pm: Postmortem, now: datetime) -> PostmortemVersion:
    number = (db.session.scalar(_LAST_NUMBER, {"pm_id": pm.id}) or 0) + 1
    version = PostmortemVersion(postmortem_id=pm.id, number=number, body=pm.body,
                                created_by_id=actor.id, created_at=now)
    db.session.add(version)
    db.session.flush()
    return version


def save(actor: User, pm: Postmortem, body: str, expected_version: int | None = None,
         now: datetime | None = None) -> Postmortem:
    """Save the working text as a new version. A published postmortem stays as published
    (in search, in playbooks, for readers) until a lead publishes the new text."""
    require_role(actor, Role.agent)
    if pm.status == PostmortemStatus.published and not actor.can(PUBLISHER):
        raise Forbidden(_("This postmortem is published; only a %(role)s or above may change "
                          "it. Ask one to make the change, or to move it back to draft.",
                          role=role_label(PUBLISHER)))
    if expected_version is not None and expected_version != pm.version:
        raise StaleEdit(_("Someone saved this postmortem while you were editing. Your text was "
                          "not saved; copy it, reload, and apply it again."))
    body = _body(body)
    if body == pm.body:
        return pm
    now = now or utcnow()
    pm.body, pm.updated_by, pm.updated_at = body, actor, now
    db.session.flush()
    version = _keep_version(actor, pm, now)
    record_event(pm.incident, actor, EventKind.postmortem_saved, at=now,
                 data={"version": version.number,
                       "unpublished": pm.status == PostmortemStatus.published})
    return pm


def _publish_text(actor: User, pm: Postmortem, now: datetime) -> None:
    pm.published_body, pm.published_by, pm.published_at = pm.body, actor, now
    pm.published_number = db.session.scalar(_LAST_NUMBER, {"pm_id": pm.id})
    search.enqueue(DOC_TYPE, pm.id)


def set_status(actor: User, pm: Postmortem, target: PostmortemStatus,
               now: datetime | None = None) -> Postmortem:
    if (pm.status, target) == (PostmortemStatus.published, PostmortemStatus.published):
        return republish(actor, pm, now)
    needed = TRANSITIONS.get((pm.status, target))
    if needed is None:
        raise Conflict(_("A postmortem cannot go from %(a)s to %(b)s.", a=pm.status.value,
                         b=target.value))
    if not actor.can(needed):
        raise Forbidden(_("Only a %(role)s or above may do this.", role=needed.value))
    if target == PostmortemStatus.published:
        _refuse_unfilled(pm)
    now = now or utcnow()
    old = pm.status
    pm.status = target
    if target == PostmortemStatus.published:
        _publish_text(actor, pm, now)
    else:
        search.enqueue(DOC_TYPE, pm.id)  # out of search while it is not published
    db.session.flush()
    data = {"from": old.value, "to": target.value}
    if target == PostmortemStatus.published:
        data["version"] = pm.published_number
    record_event(pm.incident, actor, EventKind.postmortem_status, at=now, data=data)
    return pm


def republish(actor: User, pm: Postmortem, now: datetime | None = None) -> Postmortem:
    """Publish the changes saved since a published postmortem was published."""
    if not actor.can(PUBLISHER):
        raise Forbidden(_("Only a %(role)s or above may do this.", role=PUBLISHER.value))
    if not pm.unpublished_changes:
        raise Conflict(_("This postmortem is already published, and nothing has changed "
                         "since."))
    _refuse_unfilled(pm)
    now = now or utcnow()
    _publish_text(actor, pm, now)
    db.session.flush()
    record_event(pm.incident, actor, EventKind.postmortem_status, at=now,
                 data={"from": "published", "to": "published", "version": pm.published_number})
    return pm


def publish(actor: User, pm: Postmortem) -> Postmortem:
    """Straight to published (review is a step, not a gate, for a lead); a published
    postmortem with saved changes publishes them."""
    if pm.status != PostmortemStatus.published:
        _refuse_unfilled(pm)  # before it moves to review: refused means nothing changed
    if pm.status == PostmortemStatus.draft:
        set_status(actor, pm, PostmortemStatus.in_review)
    if pm.status != PostmortemStatus.published:
        set_status(actor, pm, PostmortemStatus.published)
    elif pm.unpublished_changes:
        republish(actor, pm)
    return pm


def versions(pm: Postmortem) -> list[PostmortemVersion]:
    """Every saved text, newest first, without the bodies' weight on the list page."""
    return list(db.session.scalars(select(PostmortemVersion).where(
        PostmortemVersion.postmortem_id == pm.id).order_by(PostmortemVersion.number.desc())))


def get_version(pm: Postmortem, number: int) -> PostmortemVersion:
    found = db.session.scalar(select(PostmortemVersion).where(
        PostmortemVersion.postmortem_id == pm.id, PostmortemVersion.number == number))
    if found is None:
        raise NotFound(_("This postmortem has no version %(n)s.", n=number))
    return found


@close_check
def _postmortem_published(incident: Incident) -> list[str]:
    if not incident.grade.postmortem_required:
        return []
    pm = for_incident(incident.id)
    if pm is not None and pm.status == PostmortemStatus.published:
        return []
    return [_("A published postmortem is required for %(grade)s incidents.",
              grade=incident.grade.name)]


# --- search: published postmortems, without customers' personal data ---------------------------

def customer_pii(incident: Incident) -> list[str]:
    return [v for c in incident.customers for v in (c.name, c.contact, c.reference) if v]


def _document(pm: Postmortem) -> search.Document:
    incident = pm.incident
    return search.Document(
        type=DOC_TYPE, id=pm.id, title=incident.title, body=pm.published_body or "",
        grade=incident.grade.name,
        category=incident.category.slug if incident.category else "", tags=[],
        date=pm.published_at, extra={"incident_id": incident.id}, known_pii=customer_pii(incident),
        language=pm.language)


def _load(ids: list[int]) -> dict[int, search.Document | None]:
    found = {p.id: p for p in db.session.scalars(select(Postmortem).where(Postmortem.id.in_(ids)))}
    return {i: _document(found[i]) if i in found and found[i].status == PostmortemStatus.published
            else None for i in ids}


def _iterate():
    query = (select(Postmortem).where(Postmortem.status == PostmortemStatus.published)
             .order_by(Postmortem.id).execution_options(yield_per=500))
    for pm in db.session.scalars(query):
        yield _document(pm)


search.register(DOC_TYPE, _load, _iterate)


# --- action items ----------------------------------------------------------------------------

def add_action(actor: User, incident: Incident, *, title: str, owner: User, kind: ActionKind,
               due_date: date | None = None, now: datetime | None = None) -> ActionItem:
    require_role(actor, Role.agent)
    title = (title or "").strip()
    if not title or len(title) > 300 or bad_text(title):
        raise ValidationFailed(_("Some fields need attention."),
                               {"title": _("Give a short title (at most 300 characters).")})
    if not owner.active or owner.role == Role.viewer:
        raise ValidationFailed(_("Some fields need attention."),
                               {"owner": _("The owner must be an active member of staff.")})
    now = now or utcnow()
    item = ActionItem(incident=incident, title=title, owner=owner, kind=kind, due_date=due_date,
                      status=ActionStatus.open, created_by_id=actor.id, created_at=now)
    db.session.add(item)
    db.session.flush()
    record_event(incident, actor, EventKind.action_item_added, title, at=now,
                 data={"action_item_id": item.id, "kind": kind.value})
    return item


def get_action(item_id: int) -> ActionItem:
    item = db.session.get(ActionItem, item_id)
    if item is None:
        raise NotFound(_("Action item %(id)s does not exist.", id=item_id))
    return item


def complete_action(actor: User, item: ActionItem, now: datetime | None = None) -> ActionItem:
    require_role(actor, Role.agent)
    if item.status == ActionStatus.done:
        raise Conflict(_("This action item is already done."))
    now = now or utcnow()
    item.status, item.closed_by, item.closed_at = ActionStatus.done, actor, now
    db.session.flush()
    record_event(item.incident, actor, EventKind.action_item_done, item.title, at=now,
                 data={"action_item_id": item.id})
    return item


def actions_for(incident_id: int) -> list[ActionItem]:
    return list(db.session.scalars(_ACTIONS, {"incident_id": incident_id}))


def action_rows(incident_id: int) -> list:
    """actions_for() as plain rows of what a page shows: id, title, due_date, kind, status
    and owner_name."""
    return db.session.execute(_ACTION_ROWS, {"incident_id": incident_id}).all()


def _open_first_due(today):
    """Overdue first, then by due date, undated last; the id keeps pages stable."""
    overdue = case((ActionItem.due_date < today, 0), else_=1)
    undated = case((ActionItem.due_date.is_(None), 1), else_=0)
    return overdue, undated, ActionItem.due_date, ActionItem.id


_OPEN_ACTION_ROWS = (
    select(ActionItem.id, ActionItem.incident_id, ActionItem.title, ActionItem.due_date,
           ActionItem.kind, User.name.label("owner_name"), Incident.title.label("incident_title"))
    .join(User, ActionItem.owner_id == User.id)
    .join(Incident, ActionItem.incident_id == Incident.id)
    .where(ActionItem.status == ActionStatus.open)
    .order_by(*_open_first_due(bindparam("today")))
    .limit(bindparam("limit")).offset(bindparam("offset")))
_OPEN_ACTION_COUNT = (select(func.count()).select_from(ActionItem)
                      .where(ActionItem.status == ActionStatus.open))


def open_actions(today: date, page: int, per_page: int):
    """The same open items and order as open_actions_page(), as ActionItem objects with their
    owners (the API's list): one statement for the page and the shared count."""
    session = db.session
    items = (select(ActionItem).options(joinedload(ActionItem.owner))
             .where(ActionItem.status == ActionStatus.open).order_by(*_open_first_due(today)))
    return paginate_rows(
        lambda limit, offset: list(session.scalars(items.limit(limit).offset(offset))),
        lambda: session.scalar(_OPEN_ACTION_COUNT), page, per_page)


def open_action_pages(per_page: int) -> int:
    """How many pages the open items fill (at least one, the empty list's)."""
    return max(1, -(-db.session.scalar(_OPEN_ACTION_COUNT) // per_page))


def open_actions_page(today: date, page: int, per_page: int):
    """Open items, overdue first, then by due date (undated last), a page at a time, as rows
    with the owner's name and the incident's title (the web list): one statement for the page
    and one for the count, however many items are open."""
    session = db.session
    return paginate_rows(
        lambda limit, offset: session.execute(
            _OPEN_ACTION_ROWS, {"today": today, "limit": limit, "offset": offset}).all(),
        lambda: session.scalar(_OPEN_ACTION_COUNT), page, per_page)


def _changes_for_letters(incident: Incident, language: str) -> list[str]:
    """"What will change" in apology drafts: the incident's action items, done and open."""
    lines = []
    today = drafting.local(utcnow()).date()
    for item in actions_for(incident.id):
        if item.status == ActionStatus.done:
            lines.append(f"{item.title} (완료)" if language == "ko" else f"{item.title} (done)")
        elif item.due_date:
            # As a reader of the letter writes a day: "2030년 1월 31일까지", "by January 31, 2030".
            due = drafting.day(item.due_date, language, today)
            lines.append(f"{item.title} ({due}까지)" if language == "ko" else f"{item.title} (by {due})")
        else:
            lines.append(item.title)
    return lines


apology_services.change_sources.append(_changes_for_letters)
