"""A page costs the same number of SQL statements however much data sits behind it."""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, insert, select

from app.extensions import db
from app.models import Category, Role, User
from app.timeutil import utcnow
from incidents import services
from incidents.escalation.models import Notification
from incidents.models import EventKind, Incident, TimelineEvent
from incidents.postmortem.models import ActionItem, ActionKind, ActionStatus


@contextmanager
def counting_statements():
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def statements_for(client, path: str) -> list[str]:
    db.session.expunge_all()  # nothing cached from setting up: the request loads what it needs
    client.get(path)  # warm-up: first-request work (e.g. has-users check) is not the point here
    db.session.expunge_all()
    with counting_statements() as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return statements


@pytest.fixture
def people(app):
    """Many distinct users, cheaply (no password hashing): a lazy load per person would show."""
    counter = itertools.count(1)

    def make(count: int, role: str = "agent") -> list[User]:
        users = [User(email=f"p{n}@example.com", name=f"Person {n}", title="Agent",
                      role=Role(role), password_hash="-", active=True, timezone="UTC")
                 for n in itertools.islice(counter, count)]
        db.session.add_all(users)
        db.session.commit()
        return users
    return make


def add_events(incident: Incident, actors: list, count: int) -> None:
    start = utcnow() - timedelta(days=1)
    db.session.execute(insert(TimelineEvent), [
        {"incident_id": incident.id, "kind": EventKind.note if n % 2 else EventKind.action,
         "body": f"event {n}", "data": {}, "actor_id": actors[n % len(actors)].id,
         "created_at": start + timedelta(seconds=n)}
        for n in range(count)])
    db.session.commit()


def test_incident_page_statements_do_not_grow_with_the_timeline(client, login, people,
                                                                 make_incident):
    login("viewer")
    actors = people(150)
    small = make_incident(actors[0], customers=[services.CustomerData(name="김하나")])
    big = make_incident(actors[1], owner=actors[2], responders=actors[3:9],
                        customers=[services.CustomerData(name=f"고객 {n}") for n in range(7)])
    add_events(small, actors[:2], 5)
    add_events(big, actors, 5_000)
    small_id, big_id = small.id, big.id

    few = statements_for(client, f"/incidents/{small_id}")
    many = statements_for(client, f"/incidents/{big_id}")
    assert len(many) == len(few), "\n".join(many)
    last_page = statements_for(client, f"/incidents/{big_id}?page=50")
    assert len(last_page) == len(few)


def test_incident_list_statements_do_not_grow_with_the_page(client, login, people, make_incident):
    login("agent")
    grades = ["Red", "Orange", "Blue", "Green"]
    categories = db.session.scalars(select(Category)).all()

    def open_incidents(numbers):
        # Every incident has its own reporter and owner: a lazy load per row would show.
        reporters, owners = people(len(numbers)), people(len(numbers), "lead")
        for n, reporter, owner in zip(numbers, reporters, owners, strict=True):
            make_incident(reporter, owner=owner, grade=grades[n % 4], title=f"incident {n}",
                          category=categories[n % len(categories)], responders=[reporter])

    open_incidents(range(3))
    few = statements_for(client, "/incidents/")
    open_incidents(range(3, 60))
    many = statements_for(client, "/incidents/")
    assert len(many) == len(few), "\n".join(many)
    assert len(statements_for(client, "/incidents/?page=3")) == len(few)


def test_api_detail_statements_do_not_grow_with_the_timeline(api, people, make_incident):
    reader = api("viewer")
    actors = people(100)
    small, big = make_incident(actors[0]), make_incident(actors[1], responders=actors[2:6])
    add_events(small, actors[:1], 5)
    add_events(big, actors, 2_000)
    small_id, big_id = small.id, big.id

    def count(incident_id):
        db.session.expunge_all()
        with counting_statements() as statements:
            response = reader.get(f"/api/v1/incidents/{incident_id}")
        assert response.status_code == 200
        return len(statements), len(response.json["timeline"])

    assert count(small_id) == (count(small_id)[0], 6)
    few, many = count(small_id), count(big_id)
    assert many == (few[0], 2_001)


def _open_items(incident_ids: list[int], owner_ids: list[int]) -> None:
    """One open action item per incident, each with its own owner, cheaply (no hooks)."""
    today = utcnow().date()
    db.session.execute(insert(ActionItem), [
        {"incident_id": incident_id, "title": f"action {n}", "owner_id": owner_id,
         "created_by_id": owner_id, "kind": ActionKind.prevent, "status": ActionStatus.open,
         "due_date": today + timedelta(days=n - 3), "created_at": utcnow()}
        for n, (incident_id, owner_id) in enumerate(zip(incident_ids, owner_ids, strict=True))])
    db.session.commit()


def test_action_items_page_statements_do_not_grow_with_the_items(client, login, people,
                                                                make_incident):
    # Each row once read its incident's title through a lazy load: 926 open items on the
    # bench data took 420 ms a page.
    login("viewer")
    owners = [user.id for user in people(60)]
    incidents = [make_incident(title=f"incident {n}").id for n in range(60)]
    _open_items(incidents[:2], owners[:2])
    few = statements_for(client, "/actions")
    _open_items(incidents[2:], owners[2:])
    many = statements_for(client, "/actions")
    assert len(many) == len(few), "\n".join(many)
    assert len(statements_for(client, "/actions?page=2")) == len(few)


def test_inbox_reads_incidents_by_key_not_by_scanning_them(client, login, make_incident):
    # The notification's incident was LEFT OUTER JOINed to a nested (incident, owner, grade)
    # join: SQLite built that join for every incident first, 0.8 s an inbox on 100,000.
    user = login("agent")
    for n in range(3):
        incident = make_incident(user, title=f"incident {n}")
        db.session.add(Notification(user_id=user.id, incident_id=incident.id, reason="opened",
                                    message=f"New incident {n}"))
    db.session.commit()
    captured: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, *_args):
        captured.append((statement, parameters))

    client.get("/inbox")
    db.session.expunge_all()
    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        response = client.get("/inbox")
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    assert response.status_code == 200 and "New incident 2" in response.get_data(as_text=True)
    reading = [(s, p) for s, p in captured if "FROM notifications" in s and "incidents" in s]
    assert reading, "\n".join(s for s, _ in captured)
    for statement, parameters in reading:
        assert "LEFT OUTER JOIN (incidents" not in statement, statement
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as conn:
                plan = [row[-1] for row in conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, parameters)]
            assert not any(step.startswith("SCAN incidents") for step in plan), plan
