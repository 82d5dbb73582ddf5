"""Incident services without HTTP: the status machine, closing checks, creation and edits."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.errors import Forbidden, StaleEdit, TransitionRefused, ValidationFailed
from app.extensions import db
from app.models import Role, User
from app.timeutil import as_utc, utcnow
from incidents import services
from incidents.models import EventKind, Incident, Status, TimelineEvent
from tests.conftest import grade

ROLES = ("viewer", "agent", "lead", "manager", "admin")
ORDER = list(Status)  # detected, shared, mitigated, resolved, closed
STEP_TIMES = {Status.shared: "shared_at", Status.mitigated: "mitigated_at",
              Status.resolved: "resolved_at", Status.closed: "closed_at"}
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def expected_outcome(role: str, current: Status, target: Status) -> str:
    """The rules of the issue, written out independently of the service's code."""
    if role == "viewer":
        return "forbidden"
    if ORDER.index(target) > ORDER.index(current):
        return "ok"
    if target == Status.shared and current == Status.resolved:
        return "ok"
    if target == Status.shared and current == Status.closed:
        return "forbidden" if role == "agent" else "ok"
    return "refused"


# Other features add their own events (e.g. notifications); these are the incident's own.
CORE_KINDS = (EventKind.created, EventKind.status_changed, EventKind.grade_changed,
              EventKind.owner_changed, EventKind.edited, EventKind.customer_added, EventKind.note,
              EventKind.action)


def core_events(incident_id: int) -> list[TimelineEvent]:
    return list(db.session.scalars(select(TimelineEvent).where(
        TimelineEvent.incident_id == incident_id, TimelineEvent.kind.in_(CORE_KINDS))
        .order_by(TimelineEvent.id)))


def event_count(incident_id: int | None = None) -> int:
    query = select(func.count()).select_from(TimelineEvent)
    if incident_id is not None:
        query = query.where(TimelineEvent.incident_id == incident_id)
    return db.session.scalar(query)


def last_event(incident: Incident) -> TimelineEvent:
    return db.session.scalars(select(TimelineEvent).where(TimelineEvent.incident_id == incident.id)
                              .order_by(TimelineEvent.id.desc())).first()


def state(incident: Incident) -> tuple:
    return (incident.status,) + tuple(as_utc(getattr(incident, a)) for a in STEP_TIMES.values())


@pytest.fixture
def person(app):
    """A user without a real password: services never check one, and hashing is slow."""
    counter = itertools.count(1)

    def make(role: str) -> User:
        n = next(counter)
        user = User(email=f"{role}-{n}@example.com", name=f"{role} {n}", title=role,
                    role=Role(role), password_hash="-", active=True, timezone="UTC")
        db.session.add(user)
        db.session.commit()
        return user
    return make


@pytest.fixture
def incident_in(person, make_incident):
    """An incident of `grade` brought to `status` by an admin, one step at a time."""
    def make(status: Status, grade_name: str = "Blue") -> Incident:
        admin = person("admin")
        incident = make_incident(admin, grade=grade_name, detected_at=T0, now=T0)
        for minutes, step in enumerate(ORDER[1:ORDER.index(status) + 1], start=1):
            services.change_status(admin, incident, step, now=T0 + timedelta(minutes=minutes))
        db.session.commit()
        assert incident.status == status
        return incident
    return make


# --- the status machine ------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("current", "target"), list(itertools.product(Status, Status)),
                         ids=lambda s: s.value)
def test_every_transition_for_every_role(role, current, target, person, incident_in):
    incident = incident_in(current)
    actor = person(role)
    before, events_before, version = state(incident), event_count(incident.id), incident.version
    when = T0 + timedelta(hours=1)
    outcome = expected_outcome(role, current, target)

    if outcome == "ok":
        services.change_status(actor, incident, target, note="step", now=when)
        db.session.commit()
        assert incident.status == target
        assert incident.version == version + 1
        assert event_count(incident.id) == events_before + 1
        event = last_event(incident)
        assert event.kind == EventKind.status_changed
        assert event.actor_id == actor.id
        assert event.data.items() >= {"from": current.value, "to": target.value}.items()
        assert event.body == "step"
        assert as_utc(event.created_at) == when
    else:
        error = Forbidden if outcome == "forbidden" else TransitionRefused
        with pytest.raises(error) as caught:
            services.change_status(actor, incident, target, now=when)
        assert caught.value.status == (403 if outcome == "forbidden" else 409)
        if outcome == "refused":
            assert caught.value.code == "transition_refused"
        # Nothing moved, in the session or in the database.
        assert state(incident) == before
        assert event_count(incident.id) == events_before
        db.session.rollback()
        db.session.refresh(incident)
        assert state(incident) == before
        assert incident.version == version


@pytest.mark.parametrize("role", ROLES)
def test_allowed_transitions_match_the_rules(role, person, incident_in):
    actor = person(role)
    for current in Status:
        incident = incident_in(current)
        allowed = set(services.allowed_transitions(actor, incident))
        assert allowed == {t for t in Status if expected_outcome(role, current, t) == "ok"}, current


def test_same_status_message_says_already(make_user, incident_in):
    incident = incident_in(Status.mitigated)
    with pytest.raises(TransitionRefused, match="already mitigated"):
        services.change_status(make_user("admin"), incident, Status.mitigated)


def test_backward_message_explains_reopening(make_user, incident_in):
    incident = incident_in(Status.resolved)
    with pytest.raises(TransitionRefused, match="only a resolved or closed incident can be reopened"):
        services.change_status(make_user("admin"), incident, Status.detected)


def test_skipping_forward_fills_the_skipped_step_times(make_user, incident_in):
    incident = incident_in(Status.detected)
    when = T0 + timedelta(hours=2)
    services.change_status(make_user("agent"), incident, Status.resolved, now=when)
    db.session.commit()
    assert (as_utc(incident.shared_at), as_utc(incident.mitigated_at),
            as_utc(incident.resolved_at)) == (when, when, when)
    assert incident.closed_at is None


def test_skipping_keeps_times_of_steps_already_taken(make_user, incident_in):
    incident = incident_in(Status.shared)  # shared at T0 + 1 min
    when = T0 + timedelta(hours=3)
    services.change_status(make_user("agent"), incident, Status.closed, now=when)
    db.session.commit()
    assert as_utc(incident.shared_at) == T0 + timedelta(minutes=1)
    assert as_utc(incident.mitigated_at) == as_utc(incident.resolved_at) == when
    assert as_utc(incident.closed_at) == when


def test_reopening_clears_later_step_times_and_keeps_shared(make_user, incident_in):
    incident = incident_in(Status.closed)
    services.change_status(make_user("lead"), incident, Status.shared, note="customer wrote again",
                           now=T0 + timedelta(days=1))
    db.session.commit()
    assert incident.status == Status.shared
    assert as_utc(incident.shared_at) == T0 + timedelta(minutes=1)
    assert incident.mitigated_at is None and incident.resolved_at is None
    assert incident.closed_at is None
    event = last_event(incident)
    assert event.data.items() >= {"from": "closed", "to": "shared"}.items()
    assert event.body == "customer wrote again"


def test_agent_may_reopen_resolved_but_not_closed(make_user, incident_in):
    agent = make_user("agent")
    resolved = incident_in(Status.resolved)
    services.change_status(agent, resolved, Status.shared)
    assert resolved.status == Status.shared
    closed = incident_in(Status.closed)
    with pytest.raises(Forbidden, match="lead"):
        services.change_status(agent, closed, Status.shared)


def test_expected_status_mismatch_refuses_without_change(make_user, incident_in):
    incident = incident_in(Status.shared)
    before, events = state(incident), event_count(incident.id)
    with pytest.raises(TransitionRefused, match="already shared"):
        services.change_status(make_user("agent"), incident, Status.mitigated,
                               expected=Status.detected)
    assert state(incident) == before
    assert event_count(incident.id) == events


def test_expected_status_that_matches_lets_the_change_through(make_user, incident_in):
    incident = incident_in(Status.shared)
    services.change_status(make_user("agent"), incident, Status.mitigated, expected=Status.shared)
    assert incident.status == Status.mitigated


def test_inactive_user_cannot_change_status(make_user, incident_in):
    incident = incident_in(Status.detected)
    agent = make_user("admin")
    agent.active = False
    with pytest.raises(Forbidden):
        services.change_status(agent, incident, Status.shared)
    assert incident.status == Status.detected


# --- closing ------------------------------------------------------------------------------------

@pytest.mark.parametrize("grade_name", ["Red", "Orange"])
@pytest.mark.parametrize("start", [Status.detected, Status.resolved])
def test_closing_a_grade_needing_a_postmortem_is_refused(grade_name, start, make_user, incident_in):
    incident = incident_in(start, grade_name)
    before, events = state(incident), event_count(incident.id)
    with pytest.raises(TransitionRefused) as caught:
        services.change_status(make_user("admin"), incident, Status.closed)
    message = caught.value.message
    assert "postmortem" in message.lower() and grade_name in message
    assert caught.value.extra["problems"] and "postmortem" in caught.value.extra["problems"][0]
    assert state(incident) == before
    assert event_count(incident.id) == events


@pytest.mark.parametrize("grade_name", ["Blue", "Green"])
def test_blue_and_green_close_fine(grade_name, make_user, incident_in):
    incident = incident_in(Status.resolved, grade_name)
    services.change_status(make_user("agent"), incident, Status.closed)
    db.session.commit()
    assert incident.status == Status.closed
    assert incident.closed_at is not None


def test_the_postmortem_rule_follows_the_grade_setting(make_user, incident_in):
    incident = incident_in(Status.resolved, "Green")
    incident.grade.postmortem_required = True
    with pytest.raises(TransitionRefused, match="Green"):
        services.change_status(make_user("admin"), incident, Status.closed)
    db.session.rollback()
    red = incident_in(Status.resolved, "Red")
    red.grade.postmortem_required = False
    services.change_status(make_user("admin"), red, Status.closed)
    assert red.status == Status.closed


# --- creation -----------------------------------------------------------------------------------

def test_create_records_the_created_event(make_user):
    agent = make_user("agent")
    incident = services.create_incident(agent, title="  Coupon not applied  ", grade=grade("Orange"),
                                        detected_at=T0)
    db.session.commit()
    assert incident.title == "Coupon not applied"
    assert incident.status == Status.detected
    assert incident.owner == agent and incident.reporter == agent
    assert incident.grade_rank == grade("Orange").rank
    [event] = core_events(incident.id)
    assert event.kind == EventKind.created
    assert event.actor_id == agent.id
    assert event.data.items() >= {"grade": "Orange", "owner": agent.email, "status": "detected"}.items()


def test_create_with_named_owner_and_customers(make_user):
    agent, lead = make_user("agent"), make_user("lead")
    incident = services.create_incident(
        agent, title="Wrong item", grade=grade("Blue"), owner=lead,
        customers=[services.CustomerData(name="김민수"), services.CustomerData(reference="ORD-1")])
    db.session.commit()
    assert incident.owner == lead and incident.reporter == agent
    events = core_events(incident.id)
    assert [e.kind for e in events] == [EventKind.created, EventKind.customer_added,
                                        EventKind.customer_added]
    assert [e.data["customer_id"] for e in events[1:]] == [c.id for c in incident.customers]
    assert events[0].data["owner"] == lead.email


def test_viewer_cannot_create(make_user):
    before = db.session.scalar(select(func.count(Incident.id)))
    with pytest.raises(Forbidden):
        services.create_incident(make_user("viewer"), title="x", grade=grade("Blue"))
    assert db.session.scalar(select(func.count(Incident.id))) == before


@pytest.mark.parametrize(("overrides", "field"), [
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"description": "bad\x00byte"}, "description"),
    ({"impact": "lone \ud800 surrogate"}, "impact"),
    ({"affected_count": -1}, "affected_count"),
    ({"detected_at": datetime(2026, 1, 1, 9, 0)}, "detected_at"),  # naive
    ({"detected_at": utcnow() + timedelta(hours=1)}, "detected_at"),
    ({"detected_at": datetime(1999, 12, 31, tzinfo=UTC)}, "detected_at"),
    ({"customers": [services.CustomerData()]}, "affected_customers.0.name"),
])
def test_create_validation(overrides, field, make_user):
    agent = make_user("agent")
    values = {"title": "Late delivery", "grade": grade("Blue"), **overrides}
    with pytest.raises(ValidationFailed) as caught:
        services.create_incident(agent, **values)
    assert field in caught.value.fields
    db.session.rollback()
    assert db.session.scalar(select(func.count(Incident.id))) == 0
    assert event_count() == 0


@pytest.mark.parametrize("detected_at", [
    datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14))),
    datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=14))),
])
def test_detection_times_outside_the_calendar_are_refused(detected_at, make_user):
    with pytest.raises(ValidationFailed) as caught:
        services.create_incident(make_user("agent"), title="x", grade=grade("Blue"),
                                 detected_at=detected_at)
    assert "detected_at" in caught.value.fields


def test_detection_time_in_another_zone_is_stored_as_utc(make_user):
    seoul = timezone(timedelta(hours=9))
    incident = services.create_incident(make_user("agent"), title="x", grade=grade("Blue"),
                                        detected_at=datetime(2026, 3, 1, 18, 0, tzinfo=seoul))
    db.session.commit()
    db.session.refresh(incident)
    assert as_utc(incident.detected_at) == T0


# --- edits --------------------------------------------------------------------------------------

def test_edit_records_grade_owner_and_field_changes(make_user, make_incident):
    agent, lead = make_user("agent"), make_user("lead")
    incident = make_incident(agent)
    services.update_incident(agent, incident, {"grade": grade("Red"), "owner": lead,
                                               "title": "New title", "impact": "Two refunds",
                                               "cause": ""})
    db.session.commit()
    events = [e for e in core_events(incident.id) if e.kind != EventKind.created]
    by_kind = {e.kind: e for e in events}
    assert set(by_kind) == {EventKind.grade_changed, EventKind.owner_changed, EventKind.edited}
    assert by_kind[EventKind.grade_changed].data.items() >= {"from": "Blue", "to": "Red"}.items()
    assert by_kind[EventKind.owner_changed].data.items() >= {"from": agent.email, "to": lead.email}.items()
    assert by_kind[EventKind.edited].data.items() >= {"fields": ["title", "impact"]}.items()
    assert all(e.actor_id == agent.id for e in events)
    assert incident.grade_rank == grade("Red").rank
    assert incident.owner == lead and incident.title == "New title"


def test_edit_without_a_real_change_records_nothing(make_user, make_incident):
    agent = make_user("agent")
    incident = make_incident(agent, title="Same")
    events, version = event_count(incident.id), incident.version
    services.update_incident(agent, incident, {"title": "Same", "grade": incident.grade,
                                               "owner": agent})
    db.session.commit()
    assert event_count(incident.id) == events
    assert incident.version == version


def test_stale_edit_is_refused(make_user, make_incident):
    agent = make_user("agent")
    incident = make_incident(agent, title="Original")
    old_version = incident.version
    services.update_incident(agent, incident, {"impact": "first"}, expected_version=old_version)
    db.session.commit()
    events = event_count(incident.id)
    with pytest.raises(StaleEdit):
        services.update_incident(agent, incident, {"title": "Second"}, expected_version=old_version)
    db.session.rollback()
    db.session.refresh(incident)
    assert incident.title == "Original"
    assert event_count(incident.id) == events


def test_unknown_fields_cannot_be_edited(make_user, make_incident):
    agent = make_user("agent")
    incident = make_incident(agent)
    with pytest.raises(ValidationFailed) as caught:
        services.update_incident(agent, incident, {"status": Status.closed})
    assert "status" in caught.value.fields
    assert incident.status == Status.detected


def test_viewer_cannot_edit_or_add(make_user, make_incident):
    viewer = make_user("viewer")
    incident = make_incident()
    with pytest.raises(Forbidden):
        services.update_incident(viewer, incident, {"title": "Hijacked"})
    with pytest.raises(Forbidden):
        services.add_event(viewer, incident, EventKind.note, "hello")
    with pytest.raises(Forbidden):
        services.add_customer(viewer, incident, services.CustomerData(name="x"))
    db.session.rollback()
    db.session.refresh(incident)
    assert incident.title == "Payment page times out"
    assert event_count(incident.id) == 1


@pytest.mark.parametrize("role", ["viewer", "inactive"])
def test_viewers_and_inactive_users_cannot_own(role, make_user):
    user = make_user("viewer" if role == "viewer" else "agent")
    if role == "inactive":
        user.active = False
        db.session.commit()
    with pytest.raises(ValidationFailed) as caught:
        services.find_user(user.email)
    assert "owner_email" in caught.value.fields


# --- notes, actions, customers ----------------------------------------------------------------

@pytest.mark.parametrize("kind", [EventKind.note, EventKind.action])
def test_add_note_or_action(kind, make_user, make_incident):
    agent = make_user("agent")
    incident = make_incident()
    event = services.add_event(agent, incident, kind, "  Called the courier  ")
    db.session.commit()
    assert (event.kind, event.body, event.actor_id) == (kind, "Called the courier", agent.id)


@pytest.mark.parametrize(("kind", "body"), [(EventKind.status_changed, "x"), (EventKind.note, "  ")])
def test_add_event_refuses_other_kinds_and_empty_text(kind, body, make_user, make_incident):
    incident = make_incident()
    with pytest.raises(ValidationFailed):
        services.add_event(make_user("agent"), incident, kind, body)
    assert event_count(incident.id) == 1


def test_add_customer_records_an_event(make_user, make_incident):
    agent = make_user("agent")
    incident = make_incident()
    customer = services.add_customer(agent, incident, services.CustomerData(name="이서연",
                                                                            contact="010-1234-5678"))
    db.session.commit()
    event = last_event(incident)
    assert (event.kind, event.data, event.actor_id) == (EventKind.customer_added,
                                                       {"customer_id": customer.id}, agent.id)


# --- overdue and grades -------------------------------------------------------------------------

def test_overdue_against_the_grade_targets(make_user, make_incident):
    now = utcnow()
    red = make_incident(grade="Red", detected_at=now - timedelta(minutes=20))  # share target 15 min
    assert services.overdue(red, now) == ["share"]
    services.change_status(make_user("agent"), red, Status.shared, now=now)
    assert services.overdue(red, now) == ["share"]  # shared, but late
    on_time = make_incident(grade="Red", detected_at=now - timedelta(minutes=5))
    assert services.overdue(on_time, now) == []
    stale = make_incident(grade="Green", detected_at=now - timedelta(days=2))  # no share target
    assert services.overdue(stale, now) == ["resolve"]


def test_update_grade_copies_the_rank_onto_incidents(make_user, make_incident):
    incident = make_incident(grade="Green")
    services.update_grade(make_user("admin"), grade("Green"), rank=1)
    db.session.commit()
    db.session.refresh(incident)
    assert incident.grade_rank == 1


def test_only_admins_update_grades(make_user):
    with pytest.raises(Forbidden):
        services.update_grade(make_user("manager"), grade("Green"), rank=1)
