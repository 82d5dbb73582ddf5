"""Incident rules: creation, edits, the status machine, the timeline and closing checks.

Services flush but never commit; the caller (a view, an API handler, a CLI
command) owns the one commit of its unit of work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import Select, bindparam, func, or_, select, update
from sqlalchemy.orm import joinedload

from app import bounds
from app.errors import Forbidden, NotFound, StaleEdit, TransitionRefused, ValidationFailed
from app.extensions import db
from app.i18n import gettext as _
from app.models import Category, Grade, Role, User
from app.pagination import paginate_rows
from app.textcheck import bad_text
from app.timeutil import as_utc, utcnow
from incidents.models import (
    OPEN_STATUSES,
    AffectedCustomer,
    Channel,
    EventKind,
    Incident,
    Status,
    TimelineEvent,
)

TITLE_MAX = 200
TEXT_MAX = 20_000
FUTURE_SKEW = timedelta(minutes=5)

# What customers are told (apology drafts take these): texts, and the day by which a cause not
# known yet will be told.
PUBLIC_TEXTS = ("public_summary", "public_harm", "public_cause", "public_fix", "public_change")
PUBLIC_FIELDS = (*PUBLIC_TEXTS, "public_cause_due")
# How far ahead a promise to tell the cause may reach.
CAUSE_DUE_DAYS = 366

# Fields an edit may change, and how the timeline names them.
EDITABLE_FIELDS = ("title", "description", "grade", "category", "channel", "detected_at", "owner",
                   "impact", "cause", "resolution", "affected_count", "abusive_customer",
                   "one_stop", "responders", *PUBLIC_FIELDS)


# --- look-ups -------------------------------------------------------------------------------

def get_incident(incident_id: int) -> Incident:
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(_("Incident %(id)s does not exist.", id=incident_id))
    return incident


def find_grade(name: str) -> Grade:
    grade = db.session.scalar(select(Grade).where(func.lower(Grade.name) == name.strip().lower()))
    if grade is None:
        names = ", ".join(g.name for g in db.session.scalars(select(Grade).order_by(Grade.rank)))
        raise ValidationFailed(_("Unknown grade."),
                               {"grade": _("Unknown grade %(name)s; use one of: %(names)s.",
                                           name=name, names=names)})
    return grade


def find_category(key: str) -> Category:
    key = key.strip().lower()
    category = db.session.scalar(select(Category).where(
        or_(Category.slug == key, func.lower(Category.name) == key, Category.name_ko == key)))
    if category is None:
        raise ValidationFailed(_("Unknown category."),
                               {"category": _("Unknown category %(key)s.", key=key)})
    return category


# Who may own, respond to, sign for or take an action item on an incident: active staff, never
# read-only viewers (find_user refuses the rest with a reason). `keep` is the one person
# already chosen, shown even once inactive, so editing an incident does not silently drop them.
_STAFF = (select(User.id, User.email, User.name, User.title)
          .where(User.role != Role.viewer,
                 or_(User.active.is_(True), User.id == bindparam("keep", type_=User.id.type)))
          .order_by(User.name))


def staff_rows(keep: int | None = None) -> list:
    """Everyone who may work an incident, by name, as plain rows: id, email, name, title."""
    return db.session.execute(_STAFF, {"keep": keep}).all()


# The categories an incident may be filed under, likewise with the one already chosen kept.
_CATEGORIES = (select(Category.id, Category.slug, Category.name, Category.name_ko)
               .where(or_(Category.active.is_(True),
                          Category.id == bindparam("keep", type_=Category.id.type)))
               .order_by(Category.name))


def category_rows(keep: int | None = None) -> list:
    """Active categories by name, as plain rows: id, slug, name, name_ko."""
    return db.session.execute(_CATEGORIES, {"keep": keep}).all()


def find_user(email: str, field: str = "owner_email") -> User:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        raise ValidationFailed(_("Unknown user."),
                               {field: _("No active user has the e-mail %(email)s.", email=email)})
    if user.role == Role.viewer:
        raise ValidationFailed(_("A viewer cannot own or respond to incidents."),
                               {field: _("%(email)s is a read-only viewer.", email=email)})
    return user


# --- validation shared by web and API ---------------------------------------------------------

def _clean(field: str, value: str | None, limit: int = TEXT_MAX, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(_("Some fields need attention."), {field: _("This field is required.")})
    if len(value) > limit:
        raise ValidationFailed(_("Some fields need attention."),
                               {field: _("At most %(n)s characters.", n=limit)})
    if bad_text(value):
        raise ValidationFailed(_("Some fields need attention."),
                               {field: _("Contains characters that cannot be stored.")})
    return value


def _detected_at(value: datetime | None, now: datetime) -> datetime:
    if value is None:
        return now
    # Bounded before converting: at the ends of the calendar (9999-12-31T23:59-14:00) an
    # offset has no UTC equivalent.
    value = bounds.check_moment(value, "detected_at")
    if value > now + FUTURE_SKEW:
        raise ValidationFailed(_("Some fields need attention."),
                               {"detected_at": _("Detection time cannot be in the future.")})
    if value.year < 2000:
        raise ValidationFailed(_("Some fields need attention."),
                               {"detected_at": _("Detection time is implausibly old.")})
    return value


def _cause_due(value: date | None, now: datetime) -> date | None:
    """The day by which customers are told a cause not known yet: a promise, so not in the
    past when it is made, and not a year away."""
    if value is None:
        return None
    # A day of slack: "today" where the person typing is may be yesterday in UTC.
    today = now.date() - timedelta(days=1)
    bounds.check_day(value, "public_cause_due")
    if value < today:
        raise ValidationFailed(_("Some fields need attention."), {"public_cause_due": _(
            "The day to tell customers the cause cannot be in the past.")})
    if value > today + timedelta(days=CAUSE_DUE_DAYS):
        raise ValidationFailed(_("Some fields need attention."), {"public_cause_due": _(
            "Give a day within a year; a later promise is no promise.")})
    return value


def _count(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= 1_000_000_000:
        raise ValidationFailed(_("Some fields need attention."),
                               {"affected_count": _("Give a number from 0 to 1,000,000,000.")})
    return value


@dataclass
class CustomerData:
    name: str = ""
    contact: str = ""
    reference: str = ""
    impact: str = ""


def _customer(index: int, data: CustomerData) -> AffectedCustomer:
    prefix = f"affected_customers.{index}."
    values = {f: _clean(prefix + f, getattr(data, f), 200 if f != "impact" else TEXT_MAX)
              for f in ("name", "contact", "reference", "impact")}
    if not any(values.values()):
        raise ValidationFailed(_("Some fields need attention."),
                               {prefix + "name": _("Give at least a name, contact or reference.")})
    return AffectedCustomer(**values)


def record_event(incident: Incident, actor: User | None, kind: EventKind, body: str = "",
            data: dict | None = None, at: datetime | None = None) -> TimelineEvent:
    event = TimelineEvent(incident_id=incident.id, kind=kind, body=body, data=data or {},
                          actor=actor, created_at=at or utcnow())
    db.session.add(event)
    return event


def require_role(actor: User, role: Role) -> None:
    if not actor.can(role):
        raise Forbidden(_("Your role (%(role)s) may not do this.", role=actor.role.value))


# --- creation and edits ---------------------------------------------------------------------

# Features react to incidents being opened or changed (notify the role on duty, start the
# abusive-customer protocol) through these hooks, so the rule lives in one place for web and API.
# created: (actor, incident, extra, now); updated: (actor, incident, before, extra, now).
created_hooks: list[Callable] = []
updated_hooks: list[Callable] = []
# (actor, incident, customer, now): a customer became known after the incident was opened;
# what was published from it before (a postmortem in search, playbooks) must forget them too.
customer_hooks: list[Callable] = []

def create_incident(actor: User, *, title: str, grade: Grade, description: str = "",
                    category: Category | None = None, channel: Channel | None = None,
                    detected_at: datetime | None = None, owner: User | None = None,
                    impact: str = "", cause: str = "", resolution: str = "",
                    affected_count: int | None = None,
                    customers: Iterable[CustomerData] = (), abusive_customer: bool = False,
                    one_stop: bool = False, responders: Iterable[User] = (),
                    abuse_kind: str | None = None, now: datetime | None = None,
                    public_summary: str = "", public_harm: str = "", public_cause: str = "",
                    public_cause_due: date | None = None, public_fix: str = "",
                    public_change: str = "") -> Incident:
    require_role(actor, Role.agent)
    now = now or utcnow()
    told = {"public_summary": public_summary, "public_harm": public_harm,
            "public_cause": public_cause, "public_fix": public_fix, "public_change": public_change}
    told = {name: _clean(name, value) for name, value in told.items()}
    incident = Incident(
        title=_clean("title", title, TITLE_MAX, required=True),
        description=_clean("description", description),
        grade=grade, grade_rank=grade.rank, category=category, channel=channel,
        status=Status.detected, detected_at=_detected_at(detected_at, now),
        created_at=now, updated_at=now,
        reporter=actor, owner=owner or actor,
        impact=_clean("impact", impact), cause=_clean("cause", cause),
        resolution=_clean("resolution", resolution),
        affected_count=_count(affected_count),
        abusive_customer=abusive_customer, one_stop=one_stop,
        responders=list(dict.fromkeys(responders)),
        public_cause_due=_cause_due(public_cause_due, now), **told,
    )
    incident.customers = [_customer(i, c) for i, c in enumerate(customers)]
    for customer in incident.customers:
        customer.created_at = now
    db.session.add(incident)
    db.session.flush()
    record_event(incident, actor, EventKind.created, data={
        "grade": grade.name, "owner": incident.owner.email, "owner_name": incident.owner.name,
        "status": Status.detected.value}, at=now)
    for customer in incident.customers:
        record_event(incident, actor, EventKind.customer_added, data={"customer_id": customer.id}, at=now)
    db.session.flush()
    for hook in created_hooks:
        hook(actor, incident, {"abuse_kind": abuse_kind}, now)
    db.session.flush()
    return incident


def update_incident(actor: User, incident: Incident, changes: dict,
                    expected_version: int | None = None, now: datetime | None = None,
                    abuse_kind: str | None = None) -> Incident:
    """Apply `changes` (field -> new value, already resolved to objects) and log them."""
    require_role(actor, Role.agent)
    now = now or utcnow()
    before = {"grade_rank": incident.grade_rank, "grade": incident.grade.name,
              "abusive_customer": incident.abusive_customer, "owner_id": incident.owner_id}
    if expected_version is not None and expected_version != incident.version:
        raise StaleEdit(_("Someone changed this incident while you were editing it. "
                          "Your changes were not saved; reload to see theirs, then edit again."))
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(_("Some fields cannot be edited."),
                               {f: _("Unknown field.") for f in sorted(unknown)})
    cleaners: dict[str, Callable] = {
        "title": lambda v: _clean("title", v, TITLE_MAX, required=True),
        "description": lambda v: _clean("description", v),
        "impact": lambda v: _clean("impact", v),
        "cause": lambda v: _clean("cause", v),
        "resolution": lambda v: _clean("resolution", v),
        "affected_count": _count,
        "detected_at": lambda v: _detected_at(v, now) if v is not None else incident.detected_at,
        **{name: (lambda v, name=name: _clean(name, v)) for name in PUBLIC_TEXTS},
        # An unchanged promise is kept even once its day has passed; a new one is checked.
        "public_cause_due": lambda v: v if v == incident.public_cause_due else _cause_due(v, now),
    }
    edited: list[str] = []
    for field, value in changes.items():
        value = cleaners.get(field, lambda v: v)(value)
        if field == "grade":
            if value.id != incident.grade_id:
                old = incident.grade.name
                incident.grade, incident.grade_rank = value, value.rank
                record_event(incident, actor, EventKind.grade_changed,
                             data={"from": old, "to": value.name}, at=now)
        elif field == "owner":
            if value.id != incident.owner_id:
                old = incident.owner
                incident.owner = value
                # Names are copied in: the timeline reads as it was, even if someone is renamed.
                record_event(incident, actor, EventKind.owner_changed,
                             data={"from": old.email, "to": value.email,
                                   "from_name": old.name, "to_name": value.name}, at=now)
        elif field == "responders":
            value = list(dict.fromkeys(value))
            if {u.id for u in value} != {u.id for u in incident.responders}:
                incident.responders = value
                edited.append(field)
        elif field == "detected_at":
            if as_utc(value) != as_utc(incident.detected_at):
                incident.detected_at = value
                edited.append(field)
        elif getattr(incident, field) != value:
            setattr(incident, field, value)
            edited.append(field)
    if edited:
        record_event(incident, actor, EventKind.edited, data={"fields": edited}, at=now)
    db.session.flush()
    for hook in updated_hooks:
        hook(actor, incident, before, {"abuse_kind": abuse_kind}, now)
    db.session.flush()
    return incident


def add_customer(actor: User, incident: Incident, data: CustomerData,
                 now: datetime | None = None) -> AffectedCustomer:
    require_role(actor, Role.agent)
    now = now or utcnow()
    customer = _customer(len(incident.customers), data)
    customer.created_at = now
    incident.customers.append(customer)
    db.session.flush()
    record_event(incident, actor, EventKind.customer_added, data={"customer_id": customer.id},
                 at=now)
    db.session.flush()
    for hook in customer_hooks:
        hook(actor, incident, customer, now)
    return customer


def add_event(actor: User, incident: Incident, kind: EventKind, body: str,
              now: datetime | None = None) -> TimelineEvent:
    require_role(actor, Role.agent)
    if kind not in (EventKind.note, EventKind.action):
        raise ValidationFailed(_("Only notes and actions can be added by hand."),
                               {"kind": _("Use note or action.")})
    event = record_event(incident, actor, kind, _clean("body", body, required=True), at=now)
    db.session.flush()
    return event


# --- the status machine -----------------------------------------------------------------------

_STEP_TIME = {Status.shared: "shared_at", Status.mitigated: "mitigated_at",
              Status.resolved: "resolved_at", Status.closed: "closed_at"}
REOPENABLE = (Status.resolved, Status.closed)


def transition_role(current: Status, target: Status) -> Role | None:
    """The least role that may move `current` to `target`, or None if no one may."""
    if target.step > current.step:
        return Role.agent  # forward steps, skipping allowed: act first
    if target == Status.shared and current in REOPENABLE:
        # A closed incident is settled record; reopening it is a lead's call.
        return Role.lead if current == Status.closed else Role.agent
    return None


# Features add closing conditions through this hook: a published postmortem when the
# grade requires one (incidents.postmortem), settled compensation (incidents.compensation).
CloseCheck = Callable[[Incident], list[str]]
_close_checks: list[CloseCheck] = []


def close_check(fn: CloseCheck) -> CloseCheck:
    _close_checks.append(fn)
    return fn


def closing_problems(incident: Incident) -> list[str]:
    return [problem for check in _close_checks for problem in check(incident)]


def allowed_transitions(actor: User, incident: Incident) -> list[Status]:
    return [s for s in Status
            if (role := transition_role(incident.status, s)) is not None and actor.can(role)]


def change_status(actor: User, incident: Incident, target: Status, note: str = "",
                  expected: Status | None = None, now: datetime | None = None) -> Incident:
    # A read-only user is refused every move, even one that is not a transition at all.
    require_role(actor, Role.agent)
    note = _clean("note", note)
    if expected is not None and expected != incident.status:
        raise TransitionRefused(_("This incident is already %(status)s; nothing was changed.",
                                  status=incident.status.value))
    current = incident.status
    needed = transition_role(current, target)
    if needed is None:
        if target == current:
            message = _("The incident is already %(status)s.", status=current.value)
        else:
            message = _("An incident cannot go from %(current)s back to %(target)s; only a "
                        "resolved or closed incident can be reopened, to shared.",
                        current=current.value, target=target.value)
        raise TransitionRefused(message)
    if not actor.can(needed):
        raise Forbidden(_("Only a %(role)s or above may move an incident from %(current)s to "
                          "%(target)s.", role=needed.value, current=current.value,
                          target=target.value))
    if target == Status.closed:
        problems = closing_problems(incident)
        if problems:
            raise TransitionRefused(_("Cannot close yet: %(problems)s",
                                      problems=" ".join(problems)), problems=problems)
    now = now or utcnow()
    if target.step > current.step:
        # A skipped step happened no later than the step taken (resolved implies shared).
        for status, attr in _STEP_TIME.items():
            skipped_or_taken = current.step < status.step <= target.step
            if skipped_or_taken and (getattr(incident, attr) is None or status == target):
                setattr(incident, attr, now)
    else:
        for status in (Status.mitigated, Status.resolved, Status.closed):
            setattr(incident, _STEP_TIME[status], None)
    incident.status = target
    record_event(incident, actor, EventKind.status_changed, note,
            data={"from": current.value, "to": target.value}, at=now)
    db.session.flush()
    return incident


# --- overdue against the grade's targets ------------------------------------------------------

def overdue(incident: Incident, now: datetime | None = None) -> list[str]:
    """Which targets this incident has missed: 'share' and/or 'resolve'."""
    grade = incident.grade
    return missed_targets(incident.detected_at, incident.shared_at, incident.resolved_at,
                          grade.target_share_minutes, grade.target_resolve_minutes,
                          now or utcnow())


def missed_targets(detected_at: datetime, shared_at: datetime | None,
                   resolved_at: datetime | None, share_minutes: int | None,
                   resolve_minutes: int | None, now: datetime) -> list[str]:
    """The targets missed ('share', 'resolve'); a step not taken yet counts until `now`."""
    detected = as_utc(detected_at)
    missed = []
    if share_minutes is not None:
        shared = as_utc(shared_at) or now
        if shared - detected > timedelta(minutes=share_minutes):
            missed.append("share")
    if resolve_minutes is not None:
        resolved = as_utc(resolved_at) or now
        if resolved - detected > timedelta(minutes=resolve_minutes):
            missed.append("resolve")
    return missed


# --- listing ------------------------------------------------------------------------------------

@dataclass
class IncidentFilter:
    status: str = "open"  # a status value, "open" (all but closed) or "all"
    grade_id: int | None = None
    category_id: int | None = None
    owner_id: int | None = None
    q: str = ""


def incident_query(f: IncidentFilter) -> Select:
    query = select(Incident)
    if f.status == "open":
        query = query.where(Incident.status.in_(OPEN_STATUSES))
    elif f.status != "all":
        query = query.where(Incident.status == Status(f.status))
    if f.grade_id is not None:
        query = query.where(Incident.grade_id == f.grade_id)
    if f.category_id is not None:
        query = query.where(Incident.category_id == f.category_id)
    if f.owner_id is not None:
        query = query.where(Incident.owner_id == f.owner_id)
    if f.q.strip():
        q = f.q.strip()
        query = query.where(or_(Incident.title.icontains(q, autoescape=True),
                                Incident.description.icontains(q, autoescape=True)))
    return query.order_by(Incident.grade_rank, Incident.detected_at, Incident.id)


def _filter_shape(f: IncidentFilter) -> tuple:
    status = f.status if f.status in ("open", "all") else "one"
    return status, f.grade_id is not None, f.category_id is not None, f.owner_id is not None


@cache  # one per filter shape: 3 statuses x 2^3 filters at most
def _id_statements(shape: tuple) -> tuple[Select, Select]:
    """The ids of one page, and the count of all, for a filter shape; its values are bound
    per request, so the statements are built (and their cache keys worked out) once."""
    status, grade, category, owner = shape
    query = select(Incident.id)
    if status == "open":
        query = query.where(Incident.status.in_(OPEN_STATUSES))
    elif status == "one":
        query = query.where(Incident.status == bindparam("status", type_=Incident.status.type))
    if grade:
        query = query.where(Incident.grade_id == bindparam("grade_id"))
    if category:
        query = query.where(Incident.category_id == bindparam("category_id"))
    if owner:
        query = query.where(Incident.owner_id == bindparam("owner_id"))
    return (query.order_by(Incident.grade_rank, Incident.detected_at, Incident.id)
            .limit(bindparam("limit")).offset(bindparam("offset")),
            select(func.count()).select_from(query.subquery()))


def _id_page(f: IncidentFilter, page: int, per_page: int):
    """One page of the ids `incident_query(f)` selects, most urgent first.

    The ids come from the urgency indexes; ordering whole rows made SQLite read and join
    every match (all open incidents, for the default list) to keep 25.
    """
    if f.q.strip():
        # A search's LIKE pattern is escaped as a literal value, so it is built each time.
        ids = incident_query(f).with_only_columns(Incident.id)
        paged = ids.limit(bindparam("limit")).offset(bindparam("offset"))
        counted = select(func.count()).select_from(ids.order_by(None).subquery())
        params = {}
    else:
        paged, counted = _id_statements(_filter_shape(f))
        params = {"status": Status(f.status) if f.status not in ("open", "all") else None,
                  "grade_id": f.grade_id, "category_id": f.category_id, "owner_id": f.owner_id}
    session = db.session
    return paginate_rows(
        lambda limit, offset: session.scalars(paged, {**params, "limit": limit,
                                                      "offset": offset}).all(),
        lambda: session.scalar(counted, params), page, per_page)


def incident_page(f: IncidentFilter, page: int, per_page: int):
    """One page of `incident_query(f)` as Incident objects (the API's list)."""
    ids = _id_page(f, page, per_page)
    found = {i.id: i for i in db.session.scalars(select(Incident).where(Incident.id.in_(ids.items)))}
    ids.items = [found[i] for i in ids.items]
    return ids


# What a row of the incident list shows, as plain rows: the list only reads them.
_LIST_ROWS = (
    select(Incident.id, Incident.title, Incident.grade_id, Grade.name.label("grade_name"),
           Incident.status, User.name.label("owner_name"), Incident.detected_at,
           Incident.shared_at, Incident.resolved_at, Incident.closed_at,
           Grade.target_share_minutes, Grade.target_resolve_minutes)
    .join(Grade, Incident.grade_id == Grade.id).join(User, Incident.owner_id == User.id)
    .where(Incident.id.in_(bindparam("ids", expanding=True))))


def incident_list_page(f: IncidentFilter, page: int, per_page: int):
    """One page of `incident_query(f)` as rows of _LIST_ROWS's columns (the web list)."""
    ids = _id_page(f, page, per_page)
    if ids.items:
        found = {row.id: row for row in db.session.execute(_LIST_ROWS, {"ids": ids.items})}
        ids.items = [found[i] for i in ids.items]
    return ids


def list_overdue(row, now: datetime) -> list[str]:
    """overdue() for a row of incident_list_page()."""
    return missed_targets(row.detected_at, row.shared_at, row.resolved_at,
                          row.target_share_minutes, row.target_resolve_minutes, now)


# A page of the timeline as plain rows: the page only shows them, and they never change.
_TIMELINE_ROWS = (
    select(TimelineEvent.id, TimelineEvent.kind, TimelineEvent.body, TimelineEvent.data,
           TimelineEvent.created_at, TimelineEvent.actor_id, User.name.label("actor_name"))
    .outerjoin(User, TimelineEvent.actor_id == User.id)
    .where(TimelineEvent.incident_id == bindparam("incident_id"))
    .order_by(TimelineEvent.created_at.desc(), TimelineEvent.id.desc())
    .limit(bindparam("limit")).offset(bindparam("offset")))
_TIMELINE_COUNT = (select(func.count()).select_from(TimelineEvent)
                   .where(TimelineEvent.incident_id == bindparam("incident_id")))


def timeline_page(incident: Incident, page: int, per_page: int):
    """Newest first, as rows of _TIMELINE_ROWS's columns."""
    session, key = db.session, {"incident_id": incident.id}
    return paginate_rows(
        lambda limit, offset: session.execute(
            _TIMELINE_ROWS, {**key, "limit": limit, "offset": offset}).all(),
        lambda: session.scalar(_TIMELINE_COUNT, key), page, per_page)


# Customers and responders load lazily, one statement each when the page first reads them,
# as selectinload would, but through SQLAlchemy's cheaper lazy-load path (0.4 ms a page).
_PAGE_INCIDENT = (select(Incident).where(Incident.id == bindparam("incident_id"))
                  .options(joinedload(Incident.reporter)))


def load_for_page(incident_id: int) -> Incident:
    incident = db.session.scalar(_PAGE_INCIDENT, {"incident_id": incident_id})
    if incident is None:
        raise NotFound(_("Incident %(id)s does not exist.", id=incident_id))
    return incident


# --- grades -------------------------------------------------------------------------------------

def update_grade(actor: User, grade: Grade, **values) -> Grade:
    require_role(actor, Role.admin)
    for field, value in values.items():
        setattr(grade, field, value)
    db.session.flush()
    # Keep the copied rank that orders the incident list in step with the grade.
    db.session.execute(update(Incident).where(Incident.grade_id == grade.id)
                       .values(grade_rank=grade.rank).execution_options(synchronize_session=False))
    return grade
