"""Similar playbooks while an incident is opened: the partial fetched as the title is typed,
suggestions recorded on opening (web and API), kept on the incident page, and the
"Use this playbook" / "Not relevant" feedback."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Category
from playbooks import services as playbook_services
from playbooks.models import Suggestion
from tests.conftest import grade
from tests.postmortem import reindex, text

PAYMENT_STEPS = "1. Switch the payment gateway to the backup provider.\n2. Tell customers within ten minutes."


def category(slug: str) -> Category:
    return db.session.scalar(select(Category).where(Category.slug == slug))


@pytest.fixture
def playbooks(make_user):
    """Two published playbooks in the index, made as the app would (publish_new)."""
    lead = make_user("lead")
    made = {}
    for key, title, symptoms, steps, slug in [
        ("payment", "Card payment fails at checkout", "Customers see error 500 when paying by card",
         PAYMENT_STEPS, "payment"),
        ("delivery", "배송 지연으로 고객 불만", "택배가 사흘 넘게 도착하지 않았다는 문의가 몰립니다",
         "1. 택배사에 위치를 확인합니다.\n2. 고객에게 예상 도착일을 알립니다.", "delivery"),
    ]:
        made[key], _removed = playbook_services.publish_new(
            lead, playbook_services.PlaybookData(title=title, symptoms=symptoms, steps=steps,
                                                 category=category(slug)))
    db.session.commit()
    reindex()
    return made


def suggestions(incident_id: int) -> list[Suggestion]:
    return list(db.session.scalars(select(Suggestion).where(Suggestion.incident_id == incident_id)
                                   .order_by(Suggestion.rank)))


def open_on_the_web(client, owner, title: str, description: str = "") -> int:
    response = client.post("/incidents/new", data={
        "title": title, "description": description, "grade": grade("Blue").id, "owner": owner.id,
        "category": 0, "channel": "", "detected_at": ""})
    assert response.status_code == 302, text(response)
    return int(response.headers["Location"].rsplit("/", 1)[1])


# --- the partial fetched while typing ----------------------------------------------------------

def test_similar_returns_matching_playbooks_with_their_first_steps(client, login, playbooks):
    login("agent")
    response = client.get("/playbooks/similar", query_string={"text": "card payment fails"})
    assert response.status_code == 200
    page = text(response)
    assert "A letter from the past team" in page
    assert f'href="/playbooks/{playbooks["payment"].id}"' in page
    assert "Card payment fails at checkout" in page
    assert "Switch the payment gateway to the backup provider." in page
    assert "배송" not in page
    assert "<html" not in page  # a partial, not a page


def test_similar_finds_korean_playbooks_in_other_inflections(client, login, playbooks):
    login("agent")
    page = text(client.get("/playbooks/similar", query_string={"text": "배송이 지연되고 있어요"}))
    assert "배송 지연으로 고객 불만" in page
    assert "택배사에 위치를 확인합니다." in page
    assert "Card payment" not in page


@pytest.mark.parametrize("query", ["", "   ", "weather forecast for tomorrow", "the and of", "!!!"])
def test_unrelated_or_empty_text_suggests_nothing(client, login, playbooks, query):
    login("agent")
    response = client.get("/playbooks/similar", query_string={"text": query})
    assert response.status_code == 200
    assert "suggestion-list" not in text(response)


def test_similar_needs_a_session(client, playbooks):
    response = client.get("/playbooks/similar", query_string={"text": "card payment"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_drafts_are_not_suggested(client, login, make_user):
    playbook, _r = playbook_services.publish_new(make_user("lead"), playbook_services.PlaybookData(
        title="Card payment fails at checkout", steps=PAYMENT_STEPS))
    playbook.status = playbook.status.draft
    playbook_services.search.enqueue(playbook_services.DOC_TYPE, playbook.id)
    db.session.commit()
    reindex()
    login("agent")
    assert "Card payment" not in text(client.get("/playbooks/similar",
                                                 query_string={"text": "card payment fails"}))


def test_api_similar(api, playbooks):
    response = api("viewer").get("/api/v1/playbooks/similar", query_string={"text": "card payment"})
    assert response.status_code == 200
    assert [r["id"] for r in response.get_json()["results"]] == [playbooks["payment"].id]


# --- recorded when an incident is opened --------------------------------------------------------

def test_opening_on_the_web_records_and_shows_suggestions(client, login, playbooks):
    me = login("agent")
    incident_id = open_on_the_web(client, me, "Card payment fails for some customers",
                                  "Error 500 when paying by card")
    [row] = suggestions(incident_id)
    assert row.playbook_id == playbooks["payment"].id and row.rank == 1 and row.score > 0
    assert row.action is None and row.shown_at is not None
    page = text(client.get(f"/incidents/{incident_id}"))
    assert "A letter from the past team" in page
    assert "Card payment fails at checkout" in page
    assert "Switch the payment gateway to the backup provider." in page
    assert "Use this playbook" in page and "Not relevant" in page


def test_opening_over_the_api_records_suggestions(api, playbooks):
    client = api("agent")
    response = client.post("/api/v1/incidents", json={
        "title": "배송이 계속 지연돼요", "grade": "Blue", "description": "택배가 안 와요"})
    assert response.status_code == 201
    incident_id = response.get_json()["id"]
    assert [s.playbook_id for s in suggestions(incident_id)] == [playbooks["delivery"].id]


def test_unrelated_incident_gets_no_suggestions(client, login, playbooks):
    me = login("agent")
    incident_id = open_on_the_web(client, me, "Office printer is out of toner")
    assert suggestions(incident_id) == []
    assert "A letter from the past team" not in text(client.get(f"/incidents/{incident_id}"))


def test_record_suggestions_is_idempotent(make_incident, playbooks):
    incident = make_incident(title="Card payment fails")
    first = playbook_services.record_suggestions(incident.id, "card payment fails")
    again = playbook_services.record_suggestions(incident.id, "card payment fails")
    db.session.commit()
    assert [s.id for s in first] == [s.id for s in again]
    assert db.session.scalar(select(func.count(Suggestion.id))) == 1


# --- feedback ----------------------------------------------------------------------------------

def test_use_this_playbook_is_recorded_and_opens_it(client, login, playbooks):
    me = login("agent")
    incident_id = open_on_the_web(client, me, "Card payment fails again")
    playbook_id = playbooks["payment"].id
    response = client.post(f"/playbooks/{playbook_id}/feedback",
                           data={"incident_id": incident_id, "action": "used"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/playbooks/{playbook_id}")
    [row] = suggestions(incident_id)
    assert (row.action, row.action_by_id) == ("used", me.id) and row.action_at is not None
    page = text(client.get(f"/incidents/{incident_id}"))
    assert "Card payment fails at checkout" in page and "in use" in page
    assert "Use this playbook" not in page


def test_not_relevant_is_recorded_and_disappears_from_that_incident(client, login, playbooks):
    me = login("agent")
    dismissed_on = open_on_the_web(client, me, "Card payment fails again")
    still_on = open_on_the_web(client, me, "Card payment fails once more")
    playbook_id = playbooks["payment"].id
    response = client.post(f"/playbooks/{playbook_id}/feedback", data={
        "incident_id": dismissed_on, "action": "dismissed", "next": f"/incidents/{dismissed_on}"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/incidents/{dismissed_on}")
    [row] = suggestions(dismissed_on)
    assert (row.action, row.action_by_id) == ("dismissed", me.id) and row.action_at is not None
    page = text(client.get(f"/incidents/{dismissed_on}"))
    assert "Card payment fails at checkout" not in page
    assert "A letter from the past team" not in page
    assert "Card payment fails at checkout" in text(client.get(f"/incidents/{still_on}"))


def test_feedback_is_refused_for_viewers_and_bad_input(client, login, playbooks, make_incident):
    incident = make_incident(title="Card payment fails")
    playbook_id = playbooks["payment"].id
    login("viewer")
    assert client.post(f"/playbooks/{playbook_id}/feedback",
                       data={"incident_id": incident.id, "action": "used"}).status_code == 403
    login("agent")
    assert client.post(f"/playbooks/{playbook_id}/feedback",
                       data={"incident_id": incident.id, "action": "loved"}).status_code == 422
    assert client.post(f"/playbooks/{playbook_id}/feedback", data={"action": "used"}).status_code == 400
    assert client.post("/playbooks/99999/feedback",
                       data={"incident_id": incident.id, "action": "used"}).status_code == 404
    assert client.post(f"/playbooks/{playbook_id}/feedback",
                       data={"incident_id": 99999, "action": "used"}).status_code == 404
    assert db.session.scalar(select(func.count(Suggestion.id))) == 0


def test_feedback_redirects_only_inside_the_app(client, login, playbooks, make_incident):
    incident = make_incident(title="Card payment fails")
    login("agent")
    response = client.post(f"/playbooks/{playbooks['payment'].id}/feedback", data={
        "incident_id": incident.id, "action": "dismissed", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]
