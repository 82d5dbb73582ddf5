"""Who is told when an incident opens, is raised or is not shared in time; acknowledging;
e-mail through SMTP. The clock is passed in (`now=`): nothing sleeps."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Role
from incidents import services as incident_services
from incidents.escalation import services
from incidents.escalation.models import EscalationStep, Notification
from incidents.models import EventKind, Status, TimelineEvent
from tests.conftest import grade, sign_in

T0 = datetime(2025, 6, 2, 1, 0, tzinfo=UTC)  # Monday 10:00 in Seoul
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def notes(user=None, reason=None) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if user is not None:
        query = query.where(Notification.user_id == user.id)
    if reason is not None:
        query = query.where(Notification.reason == reason)
    return list(db.session.scalars(query))


def events(incident, kind: EventKind) -> list[TimelineEvent]:
    return list(db.session.scalars(select(TimelineEvent).where(
        TimelineEvent.incident_id == incident.id, TimelineEvent.kind == kind)
        .order_by(TimelineEvent.id)))


@pytest.fixture
def team(make_user):
    """Two leads and two managers, one of each on a round-the-clock shift; one admin."""
    admin = make_user("admin", name="Admin Kim")
    people = {"admin": admin,
              "lead": make_user("lead", name="Lead On Duty"), "lead2": make_user("lead", name="Lead Off"),
              "manager": make_user("manager", name="Manager On Duty"),
              "manager2": make_user("manager", name="Manager Off"),
              "agent": make_user("agent", name="Agent Park")}
    for key in ("lead", "manager"):
        services.add_shift(admin, people[key], days=ALL_DAYS, start="00:00", end="24:00",
                           timezone="Asia/Seoul")
    db.session.commit()
    return people


def open_incident(team, grade_name: str, at: datetime = T0, **kw):
    incident = incident_services.create_incident(team["agent"], title=f"{grade_name} checkout outage",
                                                 grade=grade(grade_name), detected_at=at, now=at, **kw)
    db.session.commit()
    return incident


# --- opening and raising -----------------------------------------------------------------------

@pytest.mark.parametrize(("grade_name", "who"), [("Red", "manager"), ("Orange", "lead"),
                                                 ("Blue", "lead")])
def test_opening_notifies_the_grades_role_on_duty(team, grade_name, who):
    incident = open_incident(team, grade_name)
    [note] = notes()
    assert note.user_id == team[who].id
    assert (note.reason, note.incident_id, note.created_at.replace(tzinfo=UTC)) == ("opened", incident.id, T0)
    assert note.message == f"New {grade_name} incident: {grade_name} checkout outage"
    assert "nobody is on duty" not in note.message


def test_green_notifies_nobody(team):
    open_incident(team, "Green")
    assert notes() == []


def test_with_nobody_on_duty_every_holder_of_the_role_is_told(make_user):
    leads = [make_user("lead"), make_user("lead")]
    make_user("manager")
    incident = incident_services.create_incident(make_user("agent"), title="Refund stuck",
                                                 grade=grade("Orange"), detected_at=T0, now=T0)
    db.session.commit()
    found = notes()
    assert sorted(n.user_id for n in found) == sorted(u.id for u in leads)
    assert all("(nobody is on duty as lead, so every lead is told)" in n.message for n in found)
    assert all(n.incident_id == incident.id for n in found)


def test_deactivated_people_are_not_told(make_user):
    active, gone = make_user("lead"), make_user("lead")
    gone.active = False
    db.session.commit()
    incident_services.create_incident(make_user("agent"), title="x", grade=grade("Blue"),
                                      detected_at=T0, now=T0)
    assert [n.user_id for n in notes()] == [active.id]


def test_raising_the_grade_notifies_the_new_grades_role(team):
    incident = open_incident(team, "Blue")
    later = T0 + timedelta(minutes=5)
    incident_services.update_incident(team["agent"], incident, {"grade": grade("Red")}, now=later)
    db.session.commit()
    [raised] = notes(reason="grade_raised")
    assert raised.user_id == team["manager"].id
    assert raised.message == "Raised from Blue to Red: Blue checkout outage"
    assert raised.created_at.replace(tzinfo=UTC) == later
    # Lowering it tells nobody new.
    incident_services.update_incident(team["agent"], incident, {"grade": grade("Green")}, now=later)
    db.session.commit()
    assert len(notes()) == 2


def test_every_notification_is_a_timeline_event(team):
    incident = open_incident(team, "Orange")
    services.run_escalations(T0 + timedelta(minutes=60))
    db.session.commit()
    found, logged = notes(), events(incident, EventKind.notification)
    assert len(found) == len(logged) == 2
    for note, event in zip(found, logged, strict=True):
        assert event.data == {"user": note.user.email, "name": note.user.name, "reason": note.reason}
        assert event.body == note.message
        assert event.created_at.replace(tzinfo=UTC) == note.created_at.replace(tzinfo=UTC)


# --- escalation when not shared in time ----------------------------------------------------------

def test_orange_escalates_one_role_per_missed_target_and_never_twice(team):
    incident = open_incident(team, "Orange")  # target: 60 minutes; lead told on opening
    assert services.run_escalations(T0 + timedelta(minutes=59)) == 0
    assert services.run_escalations(T0 + timedelta(minutes=59, seconds=59)) == 0
    assert notes(reason="escalated") == []

    assert services.run_escalations(T0 + timedelta(minutes=60)) == 1
    db.session.commit()
    [to_manager] = notes(reason="escalated")
    assert to_manager.user_id == team["manager"].id
    assert to_manager.message == "Not shared within 60 minutes, escalated to you: Orange checkout outage"
    assert services.run_escalations(T0 + timedelta(minutes=61)) == 0
    assert services.run_escalations(T0 + timedelta(minutes=119)) == 0

    assert services.run_escalations(T0 + timedelta(minutes=120)) == 1
    db.session.commit()
    admin_notes = notes(team["admin"], "escalated")
    assert len(admin_notes) == 1
    assert services.run_escalations(T0 + timedelta(minutes=120)) == 0
    assert services.run_escalations(T0 + timedelta(hours=10)) == 0  # nobody above admin
    db.session.commit()
    steps = db.session.scalars(select(EscalationStep).order_by(EscalationStep.level)).all()
    assert [(s.level, s.role) for s in steps] == [(1, Role.manager), (2, Role.admin)]
    logged = events(incident, EventKind.escalation)
    assert [e.data for e in logged] == [{"level": 1, "role": "manager", "target_minutes": 60},
                                        {"level": 2, "role": "admin", "target_minutes": 60}]
    assert [e.created_at.replace(tzinfo=UTC) for e in logged] == [T0 + timedelta(minutes=60),
                                                                   T0 + timedelta(minutes=120)]


def test_late_first_check_catches_up_level_by_level(team):
    open_incident(team, "Orange")
    assert services.run_escalations(T0 + timedelta(minutes=150)) == 2
    assert services.run_escalations(T0 + timedelta(minutes=150)) == 0
    assert [n.user_id for n in notes(reason="escalated")] == [team["manager"].id, team["admin"].id]


def test_red_escalates_from_manager_to_admin_at_15_minutes(team):
    open_incident(team, "Red")
    assert services.run_escalations(T0 + timedelta(minutes=14)) == 0
    assert services.run_escalations(T0 + timedelta(minutes=15)) == 1
    assert services.run_escalations(T0 + timedelta(minutes=30)) == 0
    assert [n.user_id for n in notes(reason="escalated")] == [team["admin"].id]


def test_blue_waits_for_its_same_day_target(team):
    open_incident(team, "Blue")  # 480 minutes
    assert services.run_escalations(T0 + timedelta(minutes=479)) == 0
    assert services.run_escalations(T0 + timedelta(minutes=480)) == 1
    assert [n.user_id for n in notes(reason="escalated")] == [team["manager"].id]


def test_green_is_never_escalated(team):
    open_incident(team, "Green")
    assert services.run_escalations(T0 + timedelta(days=30)) == 0


def test_sharing_before_the_target_prevents_escalation(team):
    incident = open_incident(team, "Orange")
    incident_services.change_status(team["agent"], incident, Status.shared,
                                    now=T0 + timedelta(minutes=59))
    db.session.commit()
    assert services.run_escalations(T0 + timedelta(hours=5)) == 0
    assert notes(reason="escalated") == []


def test_escalation_with_nobody_on_duty_tells_every_manager(make_user):
    managers = [make_user("manager"), make_user("manager")]
    make_user("lead")
    incident_services.create_incident(make_user("agent"), title="Late", grade=grade("Orange"),
                                      detected_at=T0, now=T0)
    assert services.run_escalations(T0 + timedelta(minutes=60)) == 1
    escalated = notes(reason="escalated")
    assert sorted(n.user_id for n in escalated) == sorted(m.id for m in managers)
    assert all("nobody is on duty as manager" in n.message for n in escalated)


# --- acknowledging ---------------------------------------------------------------------------------

@pytest.fixture
def lead_api(api, team):
    """An API client for a lead who is on duty (an override around T0 and now)."""
    client = api("lead", name="Acking Lead")
    services.add_override(team["admin"], client.user, role=Role.lead,
                          start=T0 - timedelta(hours=1), end=T0 + timedelta(days=40))
    db.session.commit()
    return client


def test_acknowledging_marks_a_detected_incident_shared(team, lead_api):
    incident = open_incident(team, "Orange")
    [note] = notes(lead_api.user)
    listing = lead_api.get("/api/v1/notifications").json
    assert listing["unread"] == 1
    assert [i["id"] for i in listing["items"]] == [note.id]
    response = lead_api.post(f"/api/v1/notifications/{note.id}/ack")
    assert response.status_code == 200, response.json
    assert response.json["acknowledged_at"] and response.json["read_at"]
    db.session.expire_all()
    assert incident.status == Status.shared and incident.shared_at is not None
    [changed] = events(incident, EventKind.status_changed)
    assert changed.actor_id == lead_api.user.id
    assert changed.data == {"from": "detected", "to": "shared"}
    assert lead_api.get("/api/v1/notifications").json["unread"] == 0
    # Acknowledged now, so no escalation later.
    assert services.run_escalations(T0 + timedelta(hours=5)) == 0
    # A second acknowledgement changes nothing.
    assert lead_api.post(f"/api/v1/notifications/{note.id}/ack").status_code == 200
    assert len(events(incident, EventKind.status_changed)) == 1


def test_acknowledging_leaves_a_further_status_alone(team, lead_api):
    incident = open_incident(team, "Orange")
    incident_services.change_status(team["agent"], incident, Status.mitigated,
                                    now=T0 + timedelta(minutes=10))
    db.session.commit()
    shared_at = incident.shared_at
    [note] = notes(lead_api.user)
    assert lead_api.post(f"/api/v1/notifications/{note.id}/ack").status_code == 200
    db.session.expire_all()
    assert incident.status == Status.mitigated and incident.shared_at == shared_at
    assert note.acknowledged_at is not None


def test_acknowledging_with_an_explicit_clock(team):
    incident = open_incident(team, "Blue")
    [note] = notes(team["lead"])
    services.acknowledge(team["lead"], note, now=T0 + timedelta(minutes=7))
    db.session.commit()
    assert incident.status == Status.shared
    assert incident.shared_at.replace(tzinfo=UTC) == T0 + timedelta(minutes=7)


def test_nobody_acknowledges_someone_elses_notification(team, api):
    open_incident(team, "Orange")
    [note] = notes(team["lead"])
    other = api("lead")
    assert other.post(f"/api/v1/notifications/{note.id}/ack").status_code == 404
    assert other.post("/api/v1/notifications/999999/ack").status_code == 404


def test_unread_count_appears_in_the_header(client, team):
    for n in range(3):
        open_incident(team, "Orange", at=T0 + timedelta(minutes=n))
    sign_in(client, team["lead"])
    page = client.get("/inbox").get_data(as_text=True)
    assert '<span class="count-badge" aria-label="3 unread">3</span>' in page
    assert page.count("Orange checkout outage") >= 3
    client.post("/inbox/read", data={"upto": notes(team["lead"])[-1].id})
    page = client.get("/inbox").get_data(as_text=True)
    assert "count-badge" not in page


def test_inbox_acknowledge_button_marks_shared(client, team):
    incident = open_incident(team, "Orange")
    [note] = notes(team["lead"])
    sign_in(client, team["lead"])
    response = client.post(f"/inbox/{note.id}/ack")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/incidents/{incident.id}")
    db.session.expire_all()
    assert incident.status == Status.shared


# --- e-mail ----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    def __init__(self):
        self.messages = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope)
        self.arrived.set()
        return "250 OK"


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def smtp_sink(smtp_port):
    from aiosmtpd.controller import Controller

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield sink
    controller.stop()


class TestMail:
    @pytest.fixture
    def app_config(self, smtp_port):
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port, "MAIL_FROM": "ops@example.com"}

    def test_notification_arrives_by_smtp_with_the_incident_title(self, smtp_sink, api, team):
        agent = api("agent")
        response = agent.post("/api/v1/incidents", json={"title": "배송 지연 — Seoul hub down",
                                                         "grade": "Red"})
        assert response.status_code == 201
        assert smtp_sink.arrived.wait(5)
        [envelope] = smtp_sink.messages
        assert envelope.rcpt_tos == [team["manager"].email]
        assert envelope.mail_from == "ops@example.com"
        from email import message_from_bytes
        from email.policy import default
        message = message_from_bytes(envelope.original_content, policy=default)
        assert message["Subject"] == f"[Incidentbook] #{response.json['id']} 배송 지연 — Seoul hub down"
        assert "배송 지연 — Seoul hub down" in message.get_content()
        [note] = notes()
        assert note.emailed_at is not None and note.email_error == ""

    def test_smtp_failure_does_not_fail_the_request_and_is_recorded(self, app, api, team):
        app.config["MAIL_PORT"] = free_port()  # nothing listens there
        response = api("agent").post("/api/v1/incidents", json={"title": "Payment bug", "grade": "Orange"})
        assert response.status_code == 201
        [note] = notes()
        assert note.user_id == team["lead"].id
        assert note.emailed_at is None
        assert "ConnectionRefusedError" in note.email_error


def test_no_mail_server_means_no_email_attempt(team):
    open_incident(team, "Red")
    [note] = notes()
    assert note.emailed_at is None and note.email_error == ""
    assert db.session.scalar(select(func.count(Notification.id))) == 1
