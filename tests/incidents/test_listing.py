"""The incident list and the timeline as plain rows: same incidents, order and figures as the
ORM queries they replace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from incidents import services
from incidents.models import EventKind, Status

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("shared", "resolved", "now", "expected"), [
    (None, None, T0 + timedelta(minutes=59), []),
    (None, None, T0 + timedelta(minutes=61), ["share"]),
    (T0 + timedelta(minutes=30), None, T0 + timedelta(hours=5), ["resolve"]),
    (T0 + timedelta(minutes=90), T0 + timedelta(hours=2), T0 + timedelta(days=9), ["share"]),
    (None, None, T0 + timedelta(hours=5), ["share", "resolve"]),
])
def test_missed_targets(shared, resolved, now, expected):
    assert services.missed_targets(T0, shared, resolved, 60, 240, now) == expected


def test_missed_targets_without_targets_misses_nothing():
    assert services.missed_targets(T0, None, None, None, None, T0 + timedelta(days=900)) == []


def test_missed_targets_reads_naive_times_as_utc():
    naive = T0.replace(tzinfo=None)
    assert services.missed_targets(naive, None, None, 60, None, T0 + timedelta(hours=2)) == ["share"]


def _open(make_incident, make_user, n):
    owner = make_user("lead", name=f"Owner {n}")
    return make_incident(title=f"incident {n} 100%_off", grade=["Red", "Blue", "Green"][n % 3],
                         owner=owner, detected_at=T0 - timedelta(days=n))


@pytest.mark.parametrize("filters", [
    {}, {"status": "all"}, {"status": "detected"}, {"status": "closed"}, {"q": "100%_off"},
    {"q": "1"}, {"status": "all", "grade": "Red"}, {"owner": True}, {"q": "nothing like this"},
])
def test_list_rows_match_the_incident_query(app, make_incident, make_user, filters):
    made = [_open(make_incident, make_user, n) for n in range(7)]
    services.change_status(made[0].owner, made[1], Status.shared)
    db.session.commit()
    given = {k: v for k, v in filters.items() if k not in ("owner", "grade")}
    f = services.IncidentFilter(**given,
                                owner_id=made[2].owner.id if "owner" in filters else None,
                                grade_id=services.find_grade(filters["grade"]).id
                                if "grade" in filters else None)
    expected = db.session.scalars(services.incident_query(f)).all()
    for page in (1, 2, 3):
        rows = services.incident_list_page(f, page, 3)
        orm = services.incident_page(f, page, 3)
        assert [r.id for r in rows.items] == [i.id for i in expected[(page - 1) * 3:page * 3]]
        assert [r.id for r in rows.items] == [i.id for i in orm.items]
        assert rows.total == orm.total == len(expected)
        for row, incident in zip(rows.items, orm.items, strict=True):
            assert (row.title, row.grade_name, row.owner_name, row.status) == (
                incident.title, incident.grade.name, incident.owner.name, incident.status)
            now = T0 + timedelta(days=3)
            assert services.list_overdue(row, now) == services.overdue(incident, now)


def test_timeline_rows_newest_first_with_the_actor_name(app, make_incident, make_user):
    actor = make_user("agent", name="김하나")
    incident = make_incident(actor)
    services.add_event(actor, incident, EventKind.note, "first")
    services.record_event(incident, None, EventKind.escalation, data={"role": "lead"})
    db.session.commit()
    page = services.timeline_page(incident, 1, 2)
    assert page.total == 3 and page.pages == 2
    assert [(e.kind, e.actor_name) for e in page.items] == [
        (EventKind.escalation, None), (EventKind.note, "김하나")]
    assert page.items[0].data == {"role": "lead"}
    last = services.timeline_page(incident, 2, 2)
    assert [e.kind for e in last.items] == [EventKind.created] and not last.has_next
    assert services.timeline_page(incident, 9, 2).items == []


def test_layout_urls_are_url_for_built_once(app):
    from app.templating import plain_url, url_prefix

    with app.test_request_context("/"):
        assert plain_url("incidents.index") == "/incidents/"
        assert plain_url("static", filename="app.css") == "/static/app.css"
        assert url_prefix("incidents.detail", "incident_id") == "/incidents/"
        with pytest.raises(ValueError):
            url_prefix("incidents.edit", "incident_id")
    with app.test_request_context("/", base_url="http://localhost/ib/"):
        assert plain_url("incidents.index") == "/ib/incidents/"  # another mount point
