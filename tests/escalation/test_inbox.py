"""The inbox a page at a time: newest first, an unread view, and "Mark all read" that marks
only what the reader had been shown."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from app.extensions import db
from app.timeutil import utcnow
from incidents.escalation.models import Notification
from tests.incidents.test_queries import statements_for


@pytest.fixture
def reader(login):
    return login("agent", name="Inbox Reader")


@pytest.fixture
def incident(make_incident):
    return make_incident(title="Checkout times out")


def add_notes(user_id: int, incident_id: int, count: int, *, start: int = 0, read: bool = False,
              same_instant: bool = False) -> None:
    """`count` notifications without the hooks: note N is N minutes newer than note 0, or all
    share one instant, which the order must still settle."""
    base = utcnow() - timedelta(days=1)
    db.session.execute(insert(Notification), [
        {"user_id": user_id, "incident_id": incident_id, "reason": "opened",
         "message": f"note {n:03d}", "created_at": base if same_instant else base + timedelta(minutes=n),
         "read_at": base if read else None}
        for n in range(start, start + count)])
    db.session.commit()


def shown(page_html: str) -> list[str]:
    return re.findall(r">(note \d{3})</a>", page_html)


def unread_ids(user) -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(select(Notification.id).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))))


@pytest.mark.parametrize("same_instant", [False, True])
def test_pages_show_every_notification_once_newest_first(client, reader, incident, same_instant):
    add_notes(reader.id, incident.id, 120, same_instant=same_instant)
    pages = [client.get(f"/inbox?page={n}").get_data(as_text=True) for n in (1, 2, 3)]
    seen = [note for page in pages for note in shown(page)]
    assert [len(shown(page)) for page in pages] == [50, 50, 20]
    assert sorted(seen) == [f"note {n:03d}" for n in range(120)]  # none twice, none missed
    if not same_instant:
        assert seen == [f"note {n:03d}" for n in reversed(range(120))]
    assert "120 notifications · page 1 of 3" in pages[0]
    assert 'rel="next"' in pages[0] and 'href="/inbox?page=2"' in pages[0]


@pytest.mark.parametrize(("page", "first"), [("abc", True), ("-3", True), ("0", True),
                                              ("99999999999999999999", False)])
def test_odd_page_numbers_show_a_page_not_an_error(client, reader, incident, page, first):
    add_notes(reader.id, incident.id, 3)
    response = client.get(f"/inbox?page={page}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    if first:
        assert shown(body) == ["note 002", "note 001", "note 000"]
    else:
        assert shown(body) == [] and "No notifications on this page." in body


def test_past_the_last_page_says_so_and_links_back(client, reader, incident):
    add_notes(reader.id, incident.id, 3)
    body = client.get("/inbox?show=unread&page=7").get_data(as_text=True)
    assert "No notifications on this page." in body
    assert 'href="/inbox?show=unread">First page</a>' in body


def test_unread_view_shows_only_unread(client, reader, incident):
    add_notes(reader.id, incident.id, 4, read=True)
    add_notes(reader.id, incident.id, 2, start=4)
    everything = client.get("/inbox").get_data(as_text=True)
    unread = client.get("/inbox?show=unread").get_data(as_text=True)
    assert len(shown(everything)) == 6 and "6 notifications" in everything
    assert shown(unread) == ["note 005", "note 004"] and "2 unread" in unread
    assert re.search(r'<a href="/inbox\?show=unread" aria-current="page">Unread \(2\)</a>', unread)
    assert re.search(r'<a href="/inbox" aria-current="page">All</a>', everything)


def test_no_unread_says_so_and_offers_no_mark_all(client, reader, incident):
    add_notes(reader.id, incident.id, 2, read=True)
    body = client.get("/inbox?show=unread").get_data(as_text=True)
    assert "No unread notifications." in body
    assert "Mark all read" not in body


def test_mark_all_read_leaves_a_notification_that_came_after_the_page(client, reader, incident,
                                                                      make_user):
    add_notes(reader.id, incident.id, 3)
    other = make_user("lead")
    add_notes(other.id, incident.id, 2)
    page = client.get("/inbox").get_data(as_text=True)
    upto = re.search(r'name="upto" value="(\d+)"', page).group(1)
    add_notes(reader.id, incident.id, 1, start=3)  # arrives while the reader looks at the page
    response = client.post("/inbox/read", data={"upto": upto}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "3 notifications marked read." in body
    late = db.session.scalar(select(Notification.id).where(Notification.message == "note 003"))
    assert unread_ids(reader) == {late}
    assert len(unread_ids(other)) == 2  # nobody else's inbox changes


@pytest.mark.parametrize("upto", [None, "", "abc", "-1", "1.5", "１２", "9" * 30])
def test_mark_all_read_without_a_valid_upto_is_refused_and_changes_nothing(client, reader,
                                                                           incident, upto):
    add_notes(reader.id, incident.id, 3)
    before = unread_ids(reader)
    response = client.post("/inbox/read", data={} if upto is None else {"upto": upto})
    assert response.status_code == 400
    assert "does not say which notifications you saw" in response.get_data(as_text=True)
    assert unread_ids(reader) == before


def test_inbox_statements_do_not_grow_with_the_notifications(client, reader, incident,
                                                             make_incident):
    add_notes(reader.id, incident.id, 2)
    reader_id, others = reader.id, [make_incident(title=f"other {n}").id for n in range(5)]
    few = statements_for(client, "/inbox")
    for n, other in enumerate(others):  # notifications about several incidents, not one
        add_notes(reader_id, other, 30, start=100 + n * 30)
    many = statements_for(client, "/inbox")
    assert len(many) == len(few), "\n".join(many)
    assert len(statements_for(client, "/inbox?page=3&show=unread")) == len(few)


def test_inbox_in_korean(client, login, incident):
    reader = login("agent", locale="ko")
    add_notes(reader.id, incident.id, 60)
    body = client.get("/inbox").get_data(as_text=True)
    assert "알림 60개 · 1/2쪽" in body
    assert "읽지 않음 (60)" in body and "모두 읽음으로 표시" in body
    upto = re.search(r'name="upto" value="(\d+)"', body).group(1)
    done = client.post("/inbox/read", data={"upto": upto}, follow_redirects=True)
    assert "알림 60개를 읽음으로 표시했습니다." in done.get_data(as_text=True)
    refused = client.post("/inbox/read", data={"upto": "x"})
    assert "어느 알림까지 보았는지가 없습니다" in refused.get_data(as_text=True)


def test_api_notifications_a_page_at_a_time_newest_first(api, incident):
    caller = api("agent")
    add_notes(caller.user.id, incident.id, 7)
    add_notes(caller.user.id, incident.id, 3, start=7, read=True)
    pages = [caller.get(f"/api/v1/notifications?per_page=4&page={n}").json for n in (1, 2, 3)]
    assert [len(p["items"]) for p in pages] == [4, 4, 2]
    assert all(p["total"] == 10 and p["unread"] == 7 and p["per_page"] == 4 for p in pages)
    assert [i["message"] for p in pages for i in p["items"]] == [
        f"note {n:03d}" for n in reversed(range(10))]
    first = caller.get("/api/v1/notifications").json
    assert (first["page"], first["per_page"], len(first["items"])) == (1, 50, 10)


def test_api_notifications_refuse_a_bad_page(api):
    response = api("agent").get("/api/v1/notifications?per_page=500")
    assert response.status_code == 422 and "per_page" in response.json["error"]["fields"]
