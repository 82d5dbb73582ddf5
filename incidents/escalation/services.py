"""Duty rota, notifications, escalation of incidents not shared in time, and the
abusive-customer protocol. Services flush; callers commit."""

from __future__ import annotations

import contextlib
import fcntl
import time as _time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import bindparam, func, select, update

from app import bounds, mail
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.i18n import gettext as _
from app.models import Role, User
from app.pagination import paginate_rows
from app.templating import role_label
from app.textcheck import bad_text
from app.timeutil import as_utc, utcnow
from incidents import services as incident_services
from incidents.compensation.models import Compensation
from incidents.escalation import rota
from incidents.escalation.models import (
    DUTY_ROLES,
    AbuseCase,
    AbuseKind,
    AbuseOutcome,
    EscalationStep,
    Notification,
    Override,
    Shift,
)
from incidents.models import EventKind, Incident, Status
from incidents.services import record_event, require_role


def abuse_kind_label(kind: AbuseKind) -> str:
    labels = {AbuseKind.threat: _("threat"), AbuseKind.extortion: _("extortion"),
              AbuseKind.harassment: _("harassment"), AbuseKind.insult: _("insult"),
              AbuseKind.other: _("other")}
    return labels[kind]


NEXT_ROLE = {Role.agent: Role.lead, Role.lead: Role.manager, Role.manager: Role.admin}


# --- the rota -----------------------------------------------------------------------------------

def _check_duty_user(user: User, role: Role) -> None:
    if role not in DUTY_ROLES:
        raise ValidationFailed(_("Only leads and managers have duty shifts."),
                               {"role": _("Use lead or manager.")})
    if not user.active or not user.role.at_least(role):
        raise ValidationFailed(_("This person cannot hold that duty."), {"user_email": _(
            "%(email)s is not an active %(role)s (or above).", email=user.email,
            role=role_label(role).lower())})


def add_shift(actor: User, user: User, *, days: list[str], start: str, end: str, timezone: str,
              role: Role | None = None) -> Shift:
    require_role(actor, Role.lead)
    role = role or (Role.manager if user.role in (Role.manager, Role.admin) else Role.lead)
    _check_duty_user(user, role)
    rule = rota.ShiftRule(user.id, tuple(days), start, end, timezone)
    try:
        rota.validate(rule)
    except ValueError as err:
        raise ValidationFailed(_("This shift is not valid."), {"shift": str(err)}) from None
    shift = Shift(user=user, role=role, days=list(days), start=start, end=end, timezone=timezone)
    db.session.add(shift)
    db.session.flush()
    return shift


def remove_shift(actor: User, shift_id: int) -> None:
    require_role(actor, Role.lead)
    shift = db.session.get(Shift, shift_id)
    if shift is None:
        raise NotFound(_("Shift %(id)s does not exist.", id=shift_id))
    db.session.delete(shift)
    db.session.flush()


def add_override(actor: User, user: User, *, role: Role, start: datetime, end: datetime,
                 note: str = "") -> Override:
    require_role(actor, Role.lead)
    _check_duty_user(user, role)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed(_("Give times with a time zone offset."),
                               {"start": _("e.g. 2026-12-25T09:00:00+09:00")})
    # Before any arithmetic: at the ends of the calendar an offset has no UTC equivalent.
    start, end = bounds.check_moment(start, "start"), bounds.check_moment(end, "end")
    if end <= start:
        raise ValidationFailed(_("The override ends before it starts."),
                               {"end": _("End must be after start.")})
    if end - start > timedelta(days=62):
        raise ValidationFailed(_("An override covers at most 62 days."), {"end": _("Too long.")})
    override = Override(user=user, role=role, start=as_utc(start), end=as_utc(end),
                        note=(note or "")[:500])
    db.session.add(override)
    db.session.flush()
    return override


def _rules(role: Role) -> tuple[list[rota.ShiftRule], list[rota.Interval], dict[int, User]]:
    shifts = [s for s in db.session.scalars(select(Shift).where(Shift.role == role)) if s.user.active]
    overrides = [o for o in db.session.scalars(select(Override).where(Override.role == role))
                 if o.user.active]
    users = {s.user_id: s.user for s in shifts} | {o.user_id: o.user for o in overrides}
    rules = [rota.ShiftRule(s.user_id, tuple(s.days), s.start, s.end, s.timezone) for s in shifts]
    intervals = [rota.Interval(o.user_id, as_utc(o.start), as_utc(o.end), True) for o in overrides]
    return rules, intervals, users


def on_duty(role: Role, at: datetime | None = None) -> User | None:
    rules, overrides, users = _rules(role)
    ids = rota.on_duty(rules, overrides, at or utcnow())
    people = sorted((users[i] for i in ids), key=lambda u: u.name)
    return people[0] if people else None


def schedule(role: Role, start: datetime, end: datetime) -> tuple[list[rota.Interval], list, dict]:
    rules, overrides, users = _rules(role)
    intervals = sorted(rota.coverage(rules, overrides, start, end), key=lambda i: i.start)
    return intervals, rota.gaps(rules, overrides, start, end), users


# --- notifications ------------------------------------------------------------------------------

def _recipients(role: Role, at: datetime) -> tuple[list[User], bool]:
    """The person on duty for `role`; with nobody on duty, everyone who holds it."""
    person = on_duty(role, at) if role in DUTY_ROLES else None
    if person is not None:
        return [person], True
    everyone = list(db.session.scalars(select(User).where(User.role == role, User.active.is_(True))
                                       .order_by(User.name)))
    return everyone, False


Message = Callable[[], str]


def _in_language_of(user: User, message: Message) -> str:
    """Each person is told in their own language (the sender's may differ)."""
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        return message()


def notify(incident: Incident, users: list[User], reason: str, message: Message,
           actor: User | None = None, now: datetime | None = None) -> list[Notification]:
    """`message` builds the text; it is called once per recipient, in their language."""
    now = now or utcnow()
    made = []
    for user in users:
        text = _in_language_of(user, message)
        note = Notification(user=user, incident=incident, reason=reason, message=text,
                            created_at=now)
        db.session.add(note)
        made.append(note)
        record_event(incident, actor, EventKind.notification, text, at=now, data={
            "user": user.email, "name": user.name, "reason": reason})
    db.session.flush()
    if mail.configured():
        for note in made:
            _email(note, now)
    return made


def _email(note: Notification, now: datetime) -> None:
    link = f"#{note.incident_id} {note.incident.title}"
    try:
        mail.send(note.user.email, f"[Incidentbook] {link}", f"{note.message}\n\n{link}")
    except (OSError, Exception) as err:  # noqa: BLE001 - the in-app inbox still has it
        note.email_error = f"{type(err).__name__}: {err}"[:500]
        current_app.logger.warning("notification e-mail to %s failed: %s", note.user.email, err)
    else:
        note.emailed_at = now


def _notify_role(actor: User | None, incident: Incident, role: Role, reason: str,
                 message: Message, now: datetime) -> list[Notification]:
    if role == Role.agent:
        return []  # Green: the agent handles it on the spot; nobody else is pulled in
    users, on_rota = _recipients(role, now)

    def text() -> str:
        if on_rota:
            return message()
        return message() + " " + _("(nobody is on duty as %(role)s, so every %(role)s is told)",
                                   role=role_label(role).lower())
    return notify(incident, users, reason, text, actor, now)


def _on_created(actor: User, incident: Incident, extra: dict, now: datetime) -> None:
    grade = incident.grade
    _notify_role(actor, incident, grade.notified_role, "opened",
                 lambda: _("New %(grade)s incident: %(title)s", grade=grade.name,
                           title=incident.title), now)
    if incident.abusive_customer:
        flag_abusive(actor, incident, extra.get("abuse_kind") or "other", now=now)


def _on_updated(actor: User, incident: Incident, before: dict, extra: dict, now: datetime) -> None:
    if incident.grade_rank < before["grade_rank"]:
        _notify_role(actor, incident, incident.grade.notified_role, "grade_raised",
                     lambda: _("Raised from %(old)s to %(new)s: %(title)s", old=before["grade"],
                               new=incident.grade.name, title=incident.title), now)
    if incident.abusive_customer and not before["abusive_customer"]:
        flag_abusive(actor, incident, extra.get("abuse_kind") or "other", now=now)


incident_services.created_hooks.append(_on_created)
incident_services.updated_hooks.append(_on_updated)


def _newest_first(statement):
    # The id settles notifications made in the same instant, so no page repeats or skips one.
    return statement.order_by(Notification.created_at.desc(), Notification.id.desc())


def inbox_page(user: User, page: int, per_page: int, unread_only: bool = False):
    """The user's notifications, newest first, a page at a time: one statement for the page
    (each with its incident, joined) and one for the count, however many there are."""
    where = [Notification.user_id == user.id]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    rows = _newest_first(select(Notification).where(*where))
    count = select(func.count(Notification.id)).where(*where)
    session = db.session
    return paginate_rows(lambda limit, offset: list(session.scalars(rows.limit(limit).offset(offset))),
                         lambda: session.scalar(count), page, per_page)


def newest_notification_id(user: User) -> int | None:
    return db.session.scalar(select(func.max(Notification.id)).where(Notification.user_id == user.id))


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)))


def unread_count_column():
    """unread_count() as a scalar subquery on User.id, to load with the user."""
    return (select(func.count(Notification.id))
            .where(Notification.user_id == User.id, Notification.read_at.is_(None))
            .correlate(User).scalar_subquery())


def get_notification(user: User, note_id: int) -> Notification:
    note = db.session.get(Notification, note_id)
    if note is None or note.user_id != user.id:
        raise NotFound(_("Notification %(id)s does not exist.", id=note_id))
    return note


def acknowledge(user: User, note: Notification, now: datetime | None = None) -> Notification:
    """Seen and taken on; an incident still only detected counts as shared from now."""
    now = now or utcnow()
    note.read_at = note.read_at or now
    if note.acknowledged_at is None:
        note.acknowledged_at = now
        incident = note.incident
        if incident.status == Status.detected:
            incident_services.change_status(user, incident, Status.shared,
                                            _("Acknowledged the notification."), now=now)
    db.session.flush()
    return note


def mark_read(user: User, upto: int | None = None, now: datetime | None = None) -> int:
    """Marks the user's unread notifications read, only up to notification `upto` when given
    (the newest the reader had been shown), so one that arrives while they read stays unread."""
    statement = update(Notification).where(Notification.user_id == user.id,
                                           Notification.read_at.is_(None))
    if upto is not None:
        statement = statement.where(Notification.id <= upto)
    return db.session.execute(statement.values(read_at=now or utcnow())).rowcount


# --- escalation when an incident is not shared in time ---------------------------------------

def run_escalations(now: datetime | None = None) -> int:
    """Escalate each detected-only incident one role up per missed share target.

    Idempotent: a level is escalated once (unique per incident and level)."""
    now = now or utcnow()
    done = 0
    waiting = db.session.scalars(select(Incident).where(Incident.status == Status.detected))
    for incident in waiting:
        target = incident.grade.target_share_minutes
        if not target:
            continue
        late = now - as_utc(incident.detected_at)
        due_levels = int(late / timedelta(minutes=target))
        reached = db.session.scalar(select(func.max(EscalationStep.level)).where(
            EscalationStep.incident_id == incident.id)) or 0
        role = incident.grade.notified_role
        for _step in range(reached):
            role = NEXT_ROLE.get(role, role)
        for level in range(reached + 1, due_levels + 1):
            next_role = NEXT_ROLE.get(role)
            if next_role is None:
                break
            role = next_role
            db.session.add(EscalationStep(incident_id=incident.id, level=level, role=role,
                                          created_at=now))
            record_event(incident, None, EventKind.escalation, at=now,
                         data={"level": level, "role": role.value, "target_minutes": target})
            _notify_role(None, incident, role, "escalated", lambda target=target, title=incident.title: _(
                "Not shared within %(minutes)s minutes, escalated to you: %(title)s",
                minutes=target, title=title), now)
            done += 1
    db.session.flush()
    return done


@contextlib.contextmanager
def _escalation_lock():
    path = Path(current_app.instance_path) / "escalation.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_last_run = {"at": 0.0}


def maybe_run(app) -> None:
    """At most once a minute per process, and by one process at a time: a small team's
    app needs no separate scheduler (cron can also call `flask escalations run`)."""
    every = app.config["ESCALATION_CHECK_SECONDS"]
    if every <= 0 or _time.monotonic() - _last_run["at"] < every:
        return
    _last_run["at"] = _time.monotonic()
    with _escalation_lock() as locked:
        if locked and run_escalations():
            db.session.commit()


# --- the abusive-customer protocol -----------------------------------------------------------

# Built once: every incident page asks, and session.get() builds its statement each time.
_ABUSE_CASE = select(AbuseCase).where(AbuseCase.incident_id == bindparam("incident_id"))


def abuse_case(incident_id: int) -> AbuseCase | None:
    return db.session.scalar(_ABUSE_CASE, {"incident_id": incident_id})


def flag_abusive(actor: User, incident: Incident, kind: str, now: datetime | None = None) -> AbuseCase:
    """Take the front-line person off at once and put the lead on duty in charge."""
    try:
        abuse = AbuseKind(kind)
    except ValueError:
        raise ValidationFailed(_("Say what crossed the line."), {"abuse_kind": _(
            "Use threat, extortion, harassment, insult or other.")}) from None
    now = now or utcnow()
    existing = abuse_case(incident.id)
    if existing is not None:
        return existing
    incident.abusive_customer = True
    previous = incident.owner
    if previous.role.at_least(Role.lead):
        lead = previous  # already in senior hands
    else:
        # The lead on duty; else any lead; else the manager on duty or any senior; the
        # front-line person keeps it only when nobody senior exists at all.
        seniors = select(User).where(User.active.is_(True)).order_by(User.name)
        lead = (on_duty(Role.lead, now)
                or db.session.scalar(seniors.where(User.role == Role.lead))
                or on_duty(Role.manager, now)
                or db.session.scalar(seniors.where(User.role.in_((Role.manager, Role.admin))))
                or previous)
    case = AbuseCase(incident=incident, kind=abuse, flagged_by_id=actor.id, flagged_at=now,
                     previous_owner=previous, lead=lead)
    db.session.add(case)
    if lead.id != previous.id:
        incident.owner = lead
        incident.responders = [u for u in incident.responders if u.id != previous.id]
    db.session.flush()
    record_event(incident, actor, EventKind.abuse_flagged, at=now, data={
        "kind": abuse.value, "previous_owner": previous.email, "previous_owner_name": previous.name,
        "lead": lead.email, "lead_name": lead.name})
    if lead.id != previous.id:
        notify(incident, [lead], "abusive", lambda: _(
            "An abusive customer (%(kind)s) on %(title)s: %(agent)s is taken off; the case is yours.",
            kind=abuse_kind_label(abuse), title=incident.title, agent=previous.name), actor, now)
    return case


def record_outcome(actor: User, incident: Incident, outcome: str, note: str = "",
                   compensation_id: int | None = None, now: datetime | None = None) -> AbuseCase:
    case = abuse_case(incident.id)
    if case is None:
        raise Conflict(_("This incident is not marked as an abusive customer."))
    if not actor.can(Role.lead):
        raise Forbidden(_("The lead decides how an abusive case ends."))
    try:
        decided = AbuseOutcome(outcome)
    except ValueError:
        raise ValidationFailed(_("Unknown outcome."), {"outcome": _(
            "Use concede, hold or part_ways.")}) from None
    note = (note or "").strip()
    if len(note) > 5000 or bad_text(note):
        raise ValidationFailed(_("Some fields need attention."), {"note": _("Too long.")})
    if decided == AbuseOutcome.part_ways and not note:
        raise ValidationFailed(_("Some fields need attention."), {"note": _(
            "Record the message sent to the customer.")})
    if compensation_id is not None:
        comp = db.session.get(Compensation, compensation_id)
        if comp is None or comp.incident_id != incident.id:
            raise ValidationFailed(_("Unknown compensation."), {"compensation_id": _(
                "Give a compensation of this incident.")})
    if decided == AbuseOutcome.concede and compensation_id is None and not note:
        raise ValidationFailed(_("Some fields need attention."), {"note": _(
            "Say what was conceded, or link the compensation.")})
    now = now or utcnow()
    case.outcome, case.outcome_note, case.compensation_id = decided, note, compensation_id
    case.outcome_by, case.outcome_at = actor, now
    db.session.flush()
    record_event(incident, actor, EventKind.abuse_outcome, note, at=now, data={
        "outcome": decided.value, "compensation_id": compensation_id})
    return case

