"""The timeline is append-only (ORM and database triggers) and records everything that happens."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import delete, select, text, update

from app.extensions import db
from incidents import services
from incidents.models import AppendOnlyError, EventKind, Incident, Status, TimelineEvent
from tests.conftest import grade

# Other features add their own events (e.g. notifications); these are the incident's own.
CORE_KINDS = (EventKind.created, EventKind.status_changed, EventKind.grade_changed,
              EventKind.owner_changed, EventKind.edited, EventKind.customer_added, EventKind.note,
              EventKind.action)


def events_of(incident_id: int) -> list[TimelineEvent]:
    return list(db.session.scalars(select(TimelineEvent).where(
        TimelineEvent.incident_id == incident_id, TimelineEvent.kind.in_(CORE_KINDS))
        .order_by(TimelineEvent.id)))


def committed_bodies() -> list[tuple]:
    """What the database holds, read on its own connection."""
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT id, incident_id, kind, body FROM timeline_events ORDER BY id"))]


@pytest.fixture
def event(make_user, make_incident):
    agent = make_user("agent")
    incident = make_incident(agent)
    note = services.add_event(agent, incident, EventKind.note, "Original text")
    db.session.commit()
    return note


# --- the ORM guard ------------------------------------------------------------------------------

def test_orm_refuses_to_update_an_event(event):
    before = committed_bodies()
    event.body = "Rewritten history"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    assert committed_bodies() == before
    assert db.session.get(TimelineEvent, event.id).body == "Original text"


def test_orm_refuses_to_delete_an_event(event):
    before = committed_bodies()
    db.session.delete(event)
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    assert committed_bodies() == before


# --- the database triggers ----------------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE timeline_events SET body = 'Rewritten history'",
    "UPDATE timeline_events SET actor_id = NULL",
    "DELETE FROM timeline_events",
])
def test_database_refuses_raw_sql_changes(statement, event):
    before = committed_bodies()
    assert len(before) == 2
    with db.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
        conn.execute(text(statement))
        conn.commit()
    assert committed_bodies() == before


@pytest.mark.parametrize("statement", [
    update(TimelineEvent).values(body="bulk rewrite"),
    delete(TimelineEvent),
], ids=["bulk-update", "bulk-delete"])
def test_database_refuses_orm_bulk_statements_that_skip_mapper_events(statement, event):
    before = committed_bodies()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(statement.execution_options(synchronize_session=False))
        db.session.commit()
    db.session.rollback()
    assert committed_bodies() == before


def test_deleting_an_incident_cannot_take_its_events_along(event):
    before = committed_bodies()
    with db.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError):
        conn.execute(text("DELETE FROM timeline_events WHERE incident_id = :id"),
                     {"id": event.incident_id})
        conn.execute(text("DELETE FROM incidents WHERE id = :id"), {"id": event.incident_id})
        conn.commit()
    assert committed_bodies() == before


def test_inserting_stays_possible(event):
    with db.engine.connect() as conn:
        conn.execute(text("INSERT INTO timeline_events (incident_id, kind, body, data, created_at) "
                          "VALUES (:i, 'note', 'appended', '{}', CURRENT_TIMESTAMP)"),
                     {"i": event.incident_id})
        conn.commit()
    assert [r[3] for r in committed_bodies()][-1] == "appended"


# --- what gets recorded -------------------------------------------------------------------------

def test_a_whole_life_is_on_the_timeline(make_user):
    agent, lead = make_user("agent"), make_user("lead")
    incident = services.create_incident(agent, title="Allergen label missing", grade=grade("Blue"),
                                        customers=[services.CustomerData(name="박지훈")])
    services.change_status(agent, incident, Status.shared, note="told the team")
    services.update_incident(agent, incident, {"grade": grade("Orange")})
    services.update_incident(agent, incident, {"owner": lead})
    services.update_incident(agent, incident, {"description": "Label printer", "affected_count": 3})
    services.add_customer(agent, incident, services.CustomerData(reference="ORD-9"))
    services.add_event(agent, incident, EventKind.note, "Supplier called")
    services.add_event(lead, incident, EventKind.action, "Pulled the batch")
    services.change_status(lead, incident, Status.resolved)
    db.session.commit()

    events = events_of(incident.id)
    assert [e.kind for e in events] == [
        EventKind.created, EventKind.customer_added, EventKind.status_changed,
        EventKind.grade_changed, EventKind.owner_changed, EventKind.edited,
        EventKind.customer_added, EventKind.note, EventKind.action, EventKind.status_changed]
    assert [e.actor_id for e in events] == [agent.id] * 8 + [lead.id] * 2
    assert events[2].data.items() >= {"from": "detected", "to": "shared"}.items()
    assert events[2].body == "told the team"
    assert events[3].data.items() >= {"from": "Blue", "to": "Orange"}.items()
    assert events[4].data.items() >= {"from": agent.email, "to": lead.email}.items()
    assert events[5].data.items() >= {"fields": ["description", "affected_count"]}.items()
    assert events[6].data.items() >= {"customer_id": incident.customers[1].id}.items()
    assert (events[7].body, events[8].body) == ("Supplier called", "Pulled the batch")
    assert events[9].data.items() >= {"from": "shared", "to": "resolved"}.items()
    assert all(e.created_at is not None for e in events)


def test_web_actions_are_recorded_with_their_author(client, login, make_incident):
    agent = login("agent")
    incident = make_incident(agent)
    client.post(f"/incidents/{incident.id}/events", data={"kind": "action", "body": "Refunded"})
    client.post(f"/incidents/{incident.id}/customers", data={"customer_name": "최유나"})
    client.post(f"/incidents/{incident.id}/status", data={"status": "shared", "expected": "detected"})
    kinds = [(e.kind, e.actor_id) for e in events_of(incident.id)]
    assert kinds == [(EventKind.created, agent.id), (EventKind.action, agent.id),
                     (EventKind.customer_added, agent.id), (EventKind.status_changed, agent.id)]


def test_page_shows_the_timeline_newest_first(client, login, make_incident):
    agent = login("agent")
    incident = make_incident(agent)
    for body in ("first note", "second note", "third note"):
        services.add_event(agent, incident, EventKind.note, body)
    db.session.commit()
    html = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert html.index("third note") < html.index("second note") < html.index("first note")
    assert "opened the incident" in html and agent.name in html


def test_page_paginates_a_long_timeline(app, client, login, make_incident):
    app.config["EVENTS_PER_PAGE"] = 5
    agent = login("agent")
    incident = make_incident(agent)
    for n in range(12):
        services.add_event(agent, incident, EventKind.note, f"note number {n:02d}")
    db.session.commit()
    first = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "note number 11" in first and "note number 07" in first
    assert "note number 06" not in first
    assert 'rel="next"' in first
    last = client.get(f"/incidents/{incident.id}?page=3").get_data(as_text=True)
    assert "note number 00" in last and "opened the incident" in last
    assert "note number 11" not in last


def test_timeline_events_outlive_later_edits(make_user, make_incident):
    agent = make_user("agent")
    incident = make_incident(agent, title="Before")
    services.update_incident(agent, incident, {"title": "After"})
    db.session.commit()
    assert db.session.get(Incident, incident.id).title == "After"
    created = events_of(incident.id)[0]
    assert created.kind == EventKind.created and created.data["grade"] == "Blue"
