"""Action items: owner, due date, kind, status; the open list (overdue first); closing records
who and when, once; the JSON API; and the "what will change" lines of new apology drafts."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.errors import Conflict, Forbidden, ValidationFailed
from app.extensions import db
from app.timeutil import utcnow
from incidents.apology import services as apology_services
from incidents.apology.models import Audience
from incidents.models import EventKind, TimelineEvent
from incidents.postmortem import services
from incidents.postmortem.models import ActionItem, ActionKind, ActionStatus
from incidents.services import CustomerData
from tests.postmortem import text


@pytest.fixture
def incident(make_incident, agent):
    return make_incident(agent, grade="Orange", title="Card payment fails at checkout",
                         impact="Orders could not be paid",
                         customers=[CustomerData(name="Jiwoo Lee", impact="Charged twice")])


def add(actor, incident, title, due=None, kind=ActionKind.prevent, owner=None):
    item = services.add_action(actor, incident, title=title, owner=owner or actor, kind=kind,
                               due_date=due)
    db.session.commit()
    return item


def events(incident, kind) -> list[TimelineEvent]:
    return list(db.session.scalars(select(TimelineEvent).where(
        TimelineEvent.incident_id == incident.id, TimelineEvent.kind == kind)))


# --- adding ----------------------------------------------------------------------------------------

def test_add_records_owner_due_kind_and_a_timeline_event(incident, agent, make_user):
    owner = make_user("lead", name="Minji Kim")
    due = date(2030, 1, 31)
    item = add(agent, incident, "  Alert on payment error rate  ", due, ActionKind.detect, owner)
    assert (item.title, item.owner, item.due_date, item.kind, item.status) == (
        "Alert on payment error rate", owner, due, ActionKind.detect, ActionStatus.open)
    assert item.created_by_id == agent.id and item.closed_at is None
    [event] = events(incident, EventKind.action_item_added)
    assert event.actor == agent and event.body == "Alert on payment error rate"
    assert event.data == {"action_item_id": item.id, "kind": "detect"}


@pytest.mark.parametrize("title", ["", "   ", "x" * 301, "bad\x00text"])
def test_title_is_required_and_short(incident, agent, title):
    with pytest.raises(ValidationFailed) as err:
        services.add_action(agent, incident, title=title, owner=agent, kind=ActionKind.process)
    assert "title" in err.value.fields


def test_owner_must_be_active_staff_and_viewers_cannot_add(incident, agent, make_user):
    with pytest.raises(ValidationFailed):
        services.add_action(agent, incident, title="x", owner=make_user("viewer"), kind=ActionKind.process)
    gone = make_user("agent")
    gone.active = False
    db.session.commit()
    with pytest.raises(ValidationFailed):
        services.add_action(agent, incident, title="x", owner=gone, kind=ActionKind.process)
    with pytest.raises(Forbidden):
        services.add_action(make_user("viewer"), incident, title="x", owner=agent,
                            kind=ActionKind.process)


def test_web_form_adds_an_item_shown_on_the_incident_page(client, login, incident, make_user):
    owner = make_user("lead", name="Minji Kim")
    login("agent")
    response = client.post(f"/incidents/{incident.id}/actions", data={
        "title": "Renew certificates automatically", "owner": owner.id, "kind": "prevent",
        "due_date": "2030-02-01"})
    assert response.status_code == 302
    [item] = db.session.scalars(select(ActionItem)).all()
    assert (item.owner_id, item.kind, item.due_date) == (owner.id, ActionKind.prevent, date(2030, 2, 1))
    page = text(client.get(f"/incidents/{incident.id}"))
    assert "Renew certificates automatically" in page and "Minji Kim" in page
    assert "due 2030-02-01" in page


def test_web_form_keeps_what_was_typed_on_error(client, login, incident, agent):
    login("agent")
    response = client.post(f"/incidents/{incident.id}/actions", data={
        "title": "", "owner": agent.id, "kind": "prevent"})
    assert response.status_code == 422
    assert db.session.scalars(select(ActionItem)).all() == []
    bad_kind = client.post(f"/incidents/{incident.id}/actions", data={
        "title": "Something", "owner": agent.id, "kind": "blame"})
    assert bad_kind.status_code == 422
    assert db.session.scalars(select(ActionItem)).all() == []


def test_viewer_may_not_add_or_close_on_the_web(client, login, incident, agent):
    item = add(agent, incident, "Alert on payment error rate")
    login("viewer")
    assert client.post(f"/incidents/{incident.id}/actions", data={
        "title": "x", "owner": agent.id, "kind": "prevent"}).status_code == 403
    assert client.post(f"/actions/{item.id}/done").status_code == 403
    db.session.expire_all()
    assert db.session.get(ActionItem, item.id).status == ActionStatus.open


# --- the open list --------------------------------------------------------------------------

@pytest.fixture
def spread(incident, agent):
    today = utcnow().date()
    made = {
        "later": add(agent, incident, "Later item", today + timedelta(days=20)),
        "undated": add(agent, incident, "Undated item"),
        "overdue_a_little": add(agent, incident, "Overdue by a day", today - timedelta(days=1)),
        "soon": add(agent, incident, "Due today", today),
        "overdue_a_lot": add(agent, incident, "Overdue by a month", today - timedelta(days=30)),
        "done": add(agent, incident, "Already done", today - timedelta(days=40)),
    }
    services.complete_action(agent, made["done"])
    db.session.commit()
    return made


EXPECTED_ORDER = ["Overdue by a month", "Overdue by a day", "Due today", "Later item", "Undated item"]


def test_open_actions_are_overdue_first_then_by_due_date_undated_last(spread):
    titles = [i.title for i in services.open_actions(utcnow().date(), 1, 50).items]
    assert titles == EXPECTED_ORDER


def test_actions_page_lists_open_items_in_that_order(client, login, spread):
    login("viewer")
    page = text(client.get("/actions"))
    rows = re.findall(r"<tr class=\"(overdue)?\">.*?<td[^>]*>(.*?)</td>\s*<td>(.*?)</td>", page, re.S)
    assert [title for _late, _due, title in rows] == EXPECTED_ORDER
    assert [bool(late) for late, _due, _title in rows] == [True, True, False, False, False]
    assert "Already done" not in page
    assert "Mark done" not in page  # a viewer only reads


@pytest.fixture
def many(incident, agent):
    """55 open items, due one a day from 30 days ago, and so listed in that order."""
    start = utcnow().date() - timedelta(days=30)
    return [add(agent, incident, f"Item {n:02d}", start + timedelta(days=n)).id for n in range(55)]


def _titles(response) -> list[str]:
    return re.findall(r"<td>(Item \d\d)</td>", text(response))


def test_actions_page_is_paged_and_keeps_the_order_across_pages(client, login, many, app):
    login("viewer")
    per_page = app.config["ACTIONS_PER_PAGE"]
    first, second = client.get("/actions"), client.get("/actions?page=2")
    assert first.status_code == second.status_code == 200
    assert _titles(first) + _titles(second) == [f"Item {n:02d}" for n in range(55)]
    assert len(_titles(first)) == per_page
    assert "55 open items · page 1 of 2" in text(first)
    assert 'rel="next"' in text(first) and 'rel="prev"' in text(second)


@pytest.mark.parametrize("query", ["?page=abc", "?page=-3", "?page=0", "?page=99999999999999"])
def test_actions_page_number_that_is_no_page(client, login, many, query):
    login("viewer")
    response = client.get("/actions" + query)
    assert response.status_code == 200
    if _titles(response):
        assert _titles(response)[0] == "Item 00"  # read as the first page
    else:
        assert "No open action items on this page." in text(response)
        assert 'href="/actions">First page</a>' in text(response)


def test_marking_done_from_a_later_page_returns_to_that_page(client, login, many):
    login("agent")
    last = many[-1]
    response = client.post(f"/actions/{last}/done", data={"next": "list", "page": "2"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/actions?page=2")
    assert db.session.get(ActionItem, last).status == ActionStatus.done
    # Only a page number goes into the address back.
    other = client.post(f"/actions/{many[0]}/done",
                        data={"next": "list", "page": "//evil.example"})
    assert other.headers["Location"].endswith("/actions")


def test_marking_done_the_last_item_of_the_last_page_returns_to_the_new_last_page(client, login,
                                                                                 many, app):
    login("agent")
    on_page_two = many[app.config["ACTIONS_PER_PAGE"]:]
    for item in on_page_two[:-1]:
        response = client.post(f"/actions/{item}/done", data={"next": "list", "page": "2"})
        assert response.headers["Location"].endswith("/actions?page=2")
    response = client.post(f"/actions/{on_page_two[-1]}/done", data={"next": "list", "page": "2"})
    assert response.headers["Location"].endswith("/actions")  # page 2 is gone: page 1, not an empty page
    assert "No open action items on this page." not in text(client.get(response.headers["Location"]))


def test_actions_page_in_korean(client, login, many):
    login("viewer", locale="ko")
    page = text(client.get("/actions"))
    assert "진행 중인 후속 조치 55건" in page and "1/2쪽" in page


def test_api_lists_open_items_in_that_order(api, spread):
    response = api("viewer").get("/api/v1/action-items")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [i["title"] for i in items] == EXPECTED_ORDER
    assert items[-1]["due_date"] is None and items[0]["status"] == "open"
    assert response.get_json() | {"items": None} == {"items": None, "total": 5, "page": 1,
                                                      "per_page": 50}


def test_api_lists_open_items_a_page_at_a_time(api, spread):
    viewer = api("viewer")
    pages = [viewer.get(f"/api/v1/action-items?per_page=2&page={n}").get_json() for n in (1, 2, 3, 4)]
    assert [p["total"] for p in pages] == [5] * 4 and [p["page"] for p in pages] == [1, 2, 3, 4]
    assert [i["title"] for p in pages for i in p["items"]] == EXPECTED_ORDER  # none twice or missed
    assert pages[3]["items"] == []  # past the end: empty, not an error


@pytest.mark.parametrize("query", ["page=0", "per_page=0", "per_page=101", "page=x", "page=100001",
                                   "sort=due"])
def test_api_refuses_a_bad_page_with_a_message(api, spread, query):
    response = api("viewer").get(f"/api/v1/action-items?{query}")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_failed"
    assert response.get_json()["error"]["fields"]


# --- closing ------------------------------------------------------------------------------------

def test_closing_records_who_and_when_once(incident, agent, make_user):
    item = add(agent, incident, "Alert on payment error rate")
    closer = make_user("lead", name="Minji Kim")
    services.complete_action(closer, item)
    db.session.commit()
    assert item.status == ActionStatus.done and item.closed_by == closer
    assert item.closed_at is not None
    [event] = events(incident, EventKind.action_item_done)
    assert event.actor == closer and event.data == {"action_item_id": item.id}
    closed_at = item.closed_at
    with pytest.raises(Conflict):
        services.complete_action(agent, item)
    db.session.rollback()
    item = db.session.get(ActionItem, item.id)
    assert item.closed_by == closer and item.closed_at == closed_at
    assert len(events(incident, EventKind.action_item_done)) == 1


def test_closing_on_the_web_from_the_list_then_again(client, login, incident, agent):
    item = add(agent, incident, "Alert on payment error rate")
    user = login("agent")
    first = client.post(f"/actions/{item.id}/done", data={"next": "list"})
    assert first.status_code == 302 and first.headers["Location"].endswith("/actions")
    db.session.expire_all()
    item = db.session.get(ActionItem, item.id)
    assert item.closed_by_id == user.id and item.status == ActionStatus.done
    again = client.post(f"/actions/{item.id}/done", data={"next": "list"}, follow_redirects=True)
    assert "This action item is already done." in text(again)
    assert len(events(incident, EventKind.action_item_done)) == 1
    assert client.post("/actions/99999/done").status_code == 404


def test_api_adds_closes_and_refuses_a_second_close(api, incident, make_user):
    owner = make_user("lead", email="minji@example.com")
    client = api("agent")
    created = client.post(f"/api/v1/incidents/{incident.id}/action-items", json={
        "title": "Alert on payment error rate", "owner_email": "minji@example.com",
        "kind": "detect", "due_date": "2030-01-31"})
    assert created.status_code == 201
    body = created.get_json()
    assert body["owner"] == owner.email and body["kind"] == "detect"
    assert body["due_date"] == "2030-01-31" and body["status"] == "open"

    done = client.post(f"/api/v1/action-items/{body['id']}/done")
    assert done.status_code == 200
    assert done.get_json()["status"] == "done" and done.get_json()["closed_at"]
    item = db.session.get(ActionItem, body["id"])
    assert item.closed_by_id == client.user.id
    again = client.post(f"/api/v1/action-items/{body['id']}/done")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    assert client.post("/api/v1/action-items/99999/done").status_code == 404


@pytest.mark.parametrize("payload", [
    {"title": "x", "owner_email": "nobody@example.com", "kind": "detect"},
    {"title": "x", "owner_email": "OWNER", "kind": "blame"},
    {"title": "", "owner_email": "OWNER", "kind": "detect"},
    {"title": "x", "owner_email": "OWNER", "kind": "detect", "due_date": "tomorrow"},
    {"title": "x", "owner_email": "OWNER", "kind": "detect", "surprise": 1},
])
def test_api_refuses_bad_action_items(api, incident, payload):
    client = api("agent")
    payload = {k: client.user.email if v == "OWNER" else v for k, v in payload.items()}
    response = client.post(f"/api/v1/incidents/{incident.id}/action-items", json=payload)
    assert response.status_code == 422, response.get_json()
    assert db.session.scalars(select(ActionItem)).all() == []


def test_api_roles_and_missing_incident(api, incident):
    viewer = api("viewer")
    payload = {"title": "x", "owner_email": viewer.user.email, "kind": "detect"}
    assert viewer.post(f"/api/v1/incidents/{incident.id}/action-items", json=payload).status_code == 403
    agent = api("agent")
    payload["owner_email"] = agent.user.email
    assert agent.post("/api/v1/incidents/99999/action-items", json=payload).status_code == 404


# --- "what will change" in new apology drafts --------------------------------------------------

@pytest.mark.parametrize(("language", "done_line", "open_line"), [
    ("en", "- Renew certificates automatically (done)",
     "- Alert on payment error rate (by January 31, 2030)"),
    ("ko", "- Renew certificates automatically (완료)", "- Alert on payment error rate (2030년 1월 31일까지)"),
])
def test_new_apology_drafts_list_the_action_items(incident, agent, language, done_line, open_line):
    done = add(agent, incident, "Renew certificates automatically")
    services.complete_action(agent, done)
    add(agent, incident, "Alert on payment error rate", date(2030, 1, 31), ActionKind.detect)
    add(agent, incident, "Write the gateway runbook", None, ActionKind.process)
    db.session.commit()
    lead_in = ("So that this does not happen again, we are making these changes:" if language == "en"
               else "같은 일이 다시 일어나지 않도록 다음과 같이 바꾸겠습니다.")
    for audience, customer_id in ((Audience.customer, incident.customers[0].id), (Audience.public, None)):
        letter = apology_services.draft(agent, incident, audience=audience, language=language,
                                        customer_id=customer_id)
        body = letter.current.body
        assert lead_in in body
        changes = body.split(lead_in, 1)[1].split("\n\n", 2)[1]
        lines = changes.splitlines()
        assert open_line in lines and done_line in lines
        assert "- Write the gateway runbook" in lines
        assert "[fill in what will change]" not in body and "[재발을 막기 위한 대책을 입력해 주세요]" not in body


def test_a_draft_without_action_items_or_changes_asks_what_will_change(incident, agent):
    letter = apology_services.draft(agent, incident, audience=Audience.public, language="en")
    assert "[fill in what will change]" in letter.current.body
    assert "placeholder_left" in apology_services.error_codes(letter.current)


def test_action_rows_are_the_items_as_the_incident_page_shows_them(incident, agent, make_user):
    owner = make_user("lead", name="Minji Kim")
    add(agent, incident, "Later", date(2030, 3, 1), ActionKind.detect, owner)
    done = add(agent, incident, "Done", None, ActionKind.process)
    add(agent, incident, "Sooner", date(2030, 1, 1))
    add(agent, incident, "Undated")
    services.complete_action(agent, done)
    db.session.commit()
    db.session.expire_all()
    shown = [(i.id, i.title, i.due_date, i.kind, i.status, i.owner.name)
             for i in services.actions_for(incident.id)]
    assert [tuple(row) for row in services.action_rows(incident.id)] == shown
    assert len(shown) == 4
