"""`flask demo` loads a bilingual team and incidents covering every grade, status and channel."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from app.demo import TEAM, load_demo
from app.extensions import db
from app.models import Grade, User
from app.timeutil import as_utc, utcnow
from incidents import services
from incidents.models import Channel, Incident, Status, TimelineEvent

PASSWORD = "demo-password-1"
HANGUL = re.compile("[\uac00-\ud7a3]")


@pytest.fixture
def loaded(runner) -> str:
    result = runner.invoke(args=["demo", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    return result.output


def _incidents() -> list[Incident]:
    return list(db.session.scalars(select(Incident).order_by(Incident.id)))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_covers_every_grade_status_and_channel_in_both_languages(loaded):
    incidents = _incidents()
    assert len(incidents) >= 12
    assert {i.grade.name for i in incidents} == set(db.session.scalars(select(Grade.name)))
    assert {i.status for i in incidents} == set(Status)
    assert {i.channel for i in incidents} == set(Channel)
    assert len({i.category.slug for i in incidents}) >= 5
    assert any(HANGUL.search(i.title) for i in incidents)
    assert any(not HANGUL.search(i.title) for i in incidents)
    assert f"Created {len(incidents)} demo incidents" in loaded
    for person in TEAM:
        assert person.email in loaded


def test_incidents_are_realistic(loaded):
    incidents = _incidents()
    for incident in incidents:
        if incident.status == Status.closed:
            assert not incident.grade.postmortem_required, incident.title
        if incident.status in (Status.resolved, Status.closed):
            assert incident.resolution, incident.title
    assert any(i.abusive_customer for i in incidents)
    assert any(i.one_stop for i in incidents)
    assert sum(1 for i in incidents if i.customers) >= 8
    assert any(i.responders for i in incidents)
    open_incidents = [i for i in incidents if i.is_open]
    assert any(services.overdue(i) for i in open_incidents)
    assert any(not services.overdue(i) for i in open_incidents)


def test_timelines_run_forward_and_stay_in_the_past(loaded):
    now = utcnow()
    for incident in _incidents():
        events = db.session.scalars(select(TimelineEvent)
                                    .where(TimelineEvent.incident_id == incident.id)
                                    .order_by(TimelineEvent.id)).all()
        times = [as_utc(e.created_at) for e in events]
        detected = as_utc(incident.detected_at)
        assert times == sorted(times), incident.title
        assert detected <= times[0] and times[-1] <= now, incident.title
        steps = [as_utc(t) for t in (incident.shared_at, incident.mitigated_at,
                                     incident.resolved_at, incident.closed_at) if t is not None]
        assert steps == sorted(steps) and all(detected <= t <= now for t in steps), incident.title
        assert len(steps) == incident.status.step, incident.title


def test_demo_users_sign_in_and_see_the_incidents(app, loaded):
    titles = [i.title for i in _incidents()]
    for person in TEAM:
        client = app.test_client()
        response = client.post("/login", data={"email": person.email, "password": PASSWORD})
        assert response.status_code == 302, person.email
        page = client.get("/incidents/?status=all")
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        assert all(str(escape(title)) in body for title in titles), person.email
    refused = app.test_client().post("/login", data={"email": TEAM[0].email, "password": "wrong"})
    assert refused.status_code == 401


def test_second_run_does_not_duplicate(runner, loaded):
    before = (_count(User), _count(Incident), _count(TimelineEvent))
    result = runner.invoke(args=["demo", "--password", "another-password"])
    assert result.exit_code == 0, result.output
    assert "already loaded" in result.output
    assert "already existed" in result.output
    assert (_count(User), _count(Incident), _count(TimelineEvent)) == before
    assert db.session.scalar(select(User).where(User.email == TEAM[0].email)) \
        .check_password(PASSWORD)


def test_load_demo_leaves_the_commit_to_its_caller(app):
    load_demo(PASSWORD)
    assert _count(Incident) > 0
    db.session.rollback()
    assert _count(Incident) == 0
    assert _count(User) == 0
