"""Making a playbook from a closed incident with a published postmortem: what it is filled
with, recurrences, customers' personal data removed (and shown) before publishing, roles,
versions, and the JSON API."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from app import redact
from app.errors import Conflict, Forbidden
from app.extensions import db
from app.rendering import render_markdown
from incidents.models import EventKind, Status, TimelineEvent
from incidents.postmortem import playbook as making
from incidents.postmortem import services as pm_services
from incidents.postmortem.models import PlaybookSource
from playbooks import services as playbook_services
from playbooks.models import TEXT_FIELDS, Playbook, PlaybookVersion
from tests.postmortem import (
    CUSTOMER,
    close,
    publish_postmortem,
    ready_incident,
    reindex,
    text,
)

PII = [*CUSTOMER.values(), "010-9876-5432"]
SECOND_CUSTOMER = {"name": "Lee Jiwoo", "contact": "010-5555-1212", "reference": "ORD-2025-0042"}


@pytest.fixture
def incident(agent, lead):
    return ready_incident(agent, lead)


def recurrence(agent, lead, **kw):
    """A later incident of the same kind, with another customer."""
    kw.setdefault("title", "Card payment fails at checkout again")
    kw.setdefault("description", "Customers see error 500 when paying by card")
    kw.setdefault("customer", SECOND_CUSTOMER)
    kw.setdefault("letter", "Dear future team: check the gateway certificate before anything else.")
    kw.setdefault("actions", ("Renewed the gateway certificate by hand",))
    return ready_incident(agent, lead, **kw)


def all_text(playbook: Playbook) -> str:
    snapshot = playbook.snapshot()
    return "\n".join(str(snapshot[f]) for f in ("title", *TEXT_FIELDS, "tags"))


def contents(playbook: Playbook) -> str:
    return all_text(playbook) + "\n".join(str(v.content) for v in playbook.versions)


def form_values(page: str) -> dict[str, str]:
    """The make-playbook form as the browser would submit it."""
    form = page.split('<form method="post" novalidate class="card">', 1)[1].split("</form>", 1)[0]
    values = {}
    for name, value in re.findall(r'<textarea[^>]*name="(\w+)"[^>]*>(.*?)</textarea>', form, re.S):
        values[name] = html.unescape(value).removeprefix("\r\n").removeprefix("\n")
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="(\w+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            values[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return values


def removed_shown(page: str) -> list[str]:
    box = page.split('class="card removed-box"', 1)[1].split("</section>", 1)[0]
    return [html.unescape(v) for v in re.findall(r"<del>(.*?)</del>", box)]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- what a playbook is filled with --------------------------------------------------------------

def test_proposal_is_filled_from_the_incident_and_postmortem(incident):
    proposal = making.propose(incident)
    data = proposal.data
    assert proposal.target is None and proposal.candidates == []
    assert data.title == "Card payment fails at checkout"
    # Symptoms: how you recognise it.
    assert "Customers see error 500 when paying by card at checkout" in data.symptoms
    assert "Orders could not be paid for 40 minutes" in data.symptoms
    # First steps: the letter to the future team, then the actions taken, in order.
    steps = data.steps.splitlines()
    assert steps[0] == "Dear future team: switch the payment gateway to the backup provider first."
    assert steps[-2:] == ["1. Switched the payment gateway to the backup provider",
                          "2. Posted a notice on the status page"]
    rendered = render_markdown(data.steps)  # a list of its own, not run into the letter
    assert "<li>Switched the payment gateway to the backup provider</li>" in rendered
    assert "<li>Posted a notice on the status page</li>" in rendered
    # Front-line authority from the policy (Orange, agent): coupons up to 30,000 KRW.
    assert "Coupon or discount: an agent may approve up to ₩30,000" in data.authority
    assert "Cash" not in data.authority  # agents may not give cash at all
    assert data.compensation == "- Coupon or discount: ₩20,000"
    # The approved apology is the customer message, without the customer.
    assert data.message.startswith("Dear [redacted],")
    # Written from what customers are told, never the incident's internal title.
    assert "When you tried to pay by card at checkout, the payment failed." in data.message
    assert "Card payment fails at checkout" not in data.message
    assert "Orange" in data.escalation and "Payments lead" in data.escalation
    assert data.prevention.splitlines() == ["- [done] Renew gateway certificates automatically",
                                            "- [open] Alert on card payment error rate"]
    assert data.tags == ["payment", "chat"]
    assert data.category.slug == "payment" and data.grade.name == "Orange"


def test_proposal_removes_customer_data_and_says_what(incident):
    proposal = making.propose(incident)
    published = "\n".join(proposal.data.texts().values())
    for value in PII:
        assert value not in published
    assert published.count(redact.MARKER) >= 5
    removed = {(r.kind, r.value) for r in proposal.removed}
    assert {("known", "Kim Minsu"), ("known", "minsu.kim@example.com"),
            ("known", "ORD-2024-7788"), ("phone", "010-9876-5432")} <= removed
    assert count(Playbook) == 0  # proposing writes nothing


def test_korean_postmortem_makes_a_korean_playbook(agent, lead):
    incident = ready_incident(
        agent, lead, title="카드 결제 실패", description="결제 페이지에서 오류 500",
        customer={"name": "김민수", "contact": "010-1234-5678", "reference": "주문-7788"},
        letter="미래의 팀에게: 먼저 예비 결제대행사로 전환하세요. 김민수 고객님(010 1234 5678)께 "
               "다시 연락하세요. 대표번호 1588-1234.",
        language="ko")
    proposal = making.propose(incident)
    data = proposal.data
    assert data.language == "ko"
    assert data.steps.startswith("미래의 팀에게: 먼저 예비 결제대행사로 전환하세요.")
    assert "김민수" not in data.steps and "010 1234 5678" not in data.steps
    assert "1588-1234" not in data.steps
    assert "- [완료] Renew gateway certificates automatically" in data.prevention
    assert "- [진행 중] Alert on card payment error rate" in data.prevention
    assert data.compensation == "- 쿠폰 또는 할인: ₩20,000"
    assert {r.value for r in proposal.removed} >= {"김민수", "010 1234 5678", "1588-1234"}


# --- when a playbook may be made, and by whom ----------------------------------------------------

def test_not_before_the_incident_is_closed(make_incident, agent, lead):
    open_one = make_incident(agent, grade="Blue")
    publish_postmortem(lead, open_one)
    with pytest.raises(Conflict):
        making.propose(open_one)
    closed_without = make_incident(agent, grade="Blue")
    close(lead, closed_without)
    with pytest.raises(Conflict):
        making.propose(closed_without)
    with pytest.raises(Conflict):
        making.make(lead, closed_without, playbook_services.PlaybookData(title="x"), None)
    assert count(Playbook) == 0


def test_web_refuses_with_a_message_before_it_is_ready(client, login, make_incident, agent, lead):
    incident = make_incident(agent, grade="Blue")
    publish_postmortem(lead, incident)
    login("lead")
    response = client.get(f"/incidents/{incident.id}/playbook")
    assert response.status_code == 409
    assert "A playbook is made from a closed incident with a published postmortem." in text(response)
    assert "Make playbook</a>" not in text(response)
    posted = client.post(f"/incidents/{incident.id}/playbook", data={"confirm": "1", "title": "x"})
    assert posted.status_code == 409
    assert count(Playbook) == 0


def test_api_refuses_before_it_is_ready(api, make_incident, agent):
    incident = make_incident(agent, grade="Blue")
    response = api("lead").post(f"/api/v1/incidents/{incident.id}/playbook", json={})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_only_leads_make_playbooks(client, login, api, incident, role):
    login(role)
    assert client.get(f"/incidents/{incident.id}/playbook").status_code == 403
    assert client.post(f"/incidents/{incident.id}/playbook",
                       data={"confirm": "1", "title": "x"}).status_code == 403
    assert api(role).post(f"/api/v1/incidents/{incident.id}/playbook", json={}).status_code == 403
    assert "Make playbook" not in text(client.get(f"/incidents/{incident.id}"))
    assert count(Playbook) == 0


def test_service_refuses_an_agent(incident, agent):
    proposal = making.propose(incident)
    with pytest.raises(Forbidden):
        making.make(agent, incident, proposal.data, None)


# --- the web flow: preview, confirm, second confirmation ---------------------------------------

def test_lead_sees_what_is_removed_then_publishes(client, login, incident):
    login("lead")
    detail = text(client.get(f"/incidents/{incident.id}"))
    assert f'href="/incidents/{incident.id}/playbook"' in detail and "Make playbook" in detail

    preview = client.get(f"/incidents/{incident.id}/playbook")
    assert preview.status_code == 200
    page = text(preview)
    assert set(PII) <= set(removed_shown(page))
    values = form_values(page)
    assert values["target"] == "new"
    assert "[redacted]" in values["steps"] and "Kim Minsu" not in values["steps"]
    assert count(Playbook) == 0  # looking publishes nothing

    published = client.post(f"/incidents/{incident.id}/playbook", data=values)
    assert published.status_code == 302
    playbook = db.session.scalars(select(Playbook)).one()
    assert published.headers["Location"].endswith(f"/playbooks/{playbook.id}")
    for value in PII:
        assert value not in contents(playbook)
    assert playbook.status.value == "published" and playbook.version == 1
    assert playbook.recurrence_count == 1 and playbook.category.slug == "payment"
    assert playbook.tags == ["payment", "chat"]
    assert [s.incident_id for s in db.session.scalars(select(PlaybookSource))] == [incident.id]
    event = db.session.scalars(select(TimelineEvent).where(
        TimelineEvent.kind == EventKind.playbook_made)).one()
    assert event.data == {"playbook_id": playbook.id, "version": 1, "created": True}

    page = text(client.get(f"/playbooks/{playbook.id}"))
    assert "Dear future team: switch the payment gateway" in page
    assert f"#{incident.id} Card payment fails at checkout" in page  # source incident
    for value in PII:
        assert value not in page


def test_typed_personal_data_is_removed_and_shown_for_a_second_confirmation(client, login, incident):
    login("lead")
    values = form_values(text(client.get(f"/incidents/{incident.id}/playbook")))
    values["steps"] += "\nCall Hong on 02-123-4567 or write to hong.gildong@example.org."
    values["symptoms"] += "\nOften reported by Kim Minsu."
    again = client.post(f"/incidents/{incident.id}/playbook", data=values)
    assert again.status_code == 200
    assert count(Playbook) == 0  # nothing published yet
    page = text(again)
    assert set(removed_shown(page)) == {"02-123-4567", "hong.gildong@example.org", "Kim Minsu"}
    assert "Personal data was removed from what you typed." in page
    cleaned = form_values(page)
    assert "02-123-4567" not in cleaned["steps"] and "Call Hong on [redacted]" in cleaned["steps"]
    assert "Often reported by [redacted]." in cleaned["symptoms"]

    confirmed = client.post(f"/incidents/{incident.id}/playbook", data=cleaned)
    assert confirmed.status_code == 302
    playbook = db.session.scalars(select(Playbook)).one()
    assert "Call Hong on [redacted] or write to [redacted]." in playbook.steps
    assert "hong.gildong" not in contents(playbook)


def test_an_edited_title_and_tags_are_kept(client, login, incident):
    login("lead")
    values = form_values(text(client.get(f"/incidents/{incident.id}/playbook")))
    values.update(title="Card payments fail", tags="Payment, gateway, , checkout")
    assert client.post(f"/incidents/{incident.id}/playbook", data=values).status_code == 302
    playbook = db.session.scalars(select(Playbook)).one()
    assert playbook.title == "Card payments fail"
    assert playbook.tags == ["payment", "gateway", "checkout"]


def test_a_second_playbook_from_the_same_incident_is_refused(client, login, api, incident):
    login("lead")
    values = form_values(text(client.get(f"/incidents/{incident.id}/playbook")))
    assert client.post(f"/incidents/{incident.id}/playbook", data=values).status_code == 302
    assert client.post(f"/incidents/{incident.id}/playbook", data=values).status_code == 409
    assert api("lead").post(f"/api/v1/incidents/{incident.id}/playbook",
                            json={"new": True}).status_code == 409
    assert count(Playbook) == 1


# --- recurrences -----------------------------------------------------------------------------------

def test_a_recurrence_adds_a_version_to_the_existing_playbook(client, login, agent, lead, incident):
    login("lead")
    first = form_values(text(client.get(f"/incidents/{incident.id}/playbook")))
    assert client.post(f"/incidents/{incident.id}/playbook", data=first).status_code == 302
    playbook = db.session.scalars(select(Playbook)).one()
    old_steps = playbook.steps

    later = recurrence(agent, lead)
    page = text(client.get(f"/incidents/{later.id}/playbook"))
    assert "Adding to: Card payment fails at checkout" in page
    assert "Make a new playbook instead" in page
    values = form_values(page)
    assert values["target"] == str(playbook.id)
    assert not set(SECOND_CUSTOMER.values()) & set("".join(values.values()).split())
    response = client.post(f"/incidents/{later.id}/playbook", data=values)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/playbooks/{playbook.id}")

    db.session.expire_all()
    assert count(Playbook) == 1
    playbook = db.session.get(Playbook, playbook.id)
    assert (playbook.version, playbook.recurrence_count) == (2, 2)
    assert playbook.title == "Card payment fails at checkout"
    assert playbook.steps.startswith(old_steps)
    assert "check the gateway certificate before anything else" in playbook.steps
    assert "Renewed the gateway certificate by hand" in playbook.steps
    assert f"- Card payment fails at checkout again (#{later.id})" in playbook.summary
    assert [s.incident_id for s in db.session.scalars(
        select(PlaybookSource).order_by(PlaybookSource.added_at))] == [incident.id, later.id]
    for value in [*PII, *SECOND_CUSTOMER.values()]:
        assert value not in contents(playbook)
    event = db.session.scalars(select(TimelineEvent).where(
        TimelineEvent.incident_id == later.id, TimelineEvent.kind == EventKind.playbook_made)).one()
    assert event.data == {"playbook_id": playbook.id, "version": 2, "created": False}


def test_the_lead_may_choose_a_new_playbook_instead(client, login, agent, lead, incident):
    login("lead")
    first = form_values(text(client.get(f"/incidents/{incident.id}/playbook")))
    client.post(f"/incidents/{incident.id}/playbook", data=first)
    later = recurrence(agent, lead)
    page = text(client.get(f"/incidents/{later.id}/playbook?target=new"))
    assert "Making a new playbook" in page
    values = form_values(page)
    assert values["target"] == "new"
    assert client.post(f"/incidents/{later.id}/playbook", data=values).status_code == 302
    playbooks = db.session.scalars(select(Playbook).order_by(Playbook.id)).all()
    assert len(playbooks) == 2
    assert [(p.version, p.recurrence_count) for p in playbooks] == [(1, 1), (1, 1)]


def test_a_different_kind_of_incident_makes_its_own_playbook(agent, lead, incident):
    playbook, _removed, created = making.make(lead, incident, making.propose(incident).data, None)
    db.session.commit()
    reindex()
    assert created
    other = recurrence(agent, lead, category="delivery", title="Card payment fails for couriers")
    proposal = making.propose(other)
    assert proposal.target is None and proposal.candidates == []
    unrelated = recurrence(agent, lead, title="Parcel left at the wrong address",
                           description="Courier delivered to a neighbour")
    assert making.propose(unrelated).target is None


def test_typing_an_earlier_customers_data_into_a_recurrence_is_shown_too(client, login, agent, lead,
                                                                        incident):
    login("lead")
    client.post(f"/incidents/{incident.id}/playbook",
                data=form_values(text(client.get(f"/incidents/{incident.id}/playbook"))))
    later = recurrence(agent, lead)
    values = form_values(text(client.get(f"/incidents/{later.id}/playbook")))
    values["steps"] += "\nAsk whether ORD-2024-7788 was refunded."
    again = client.post(f"/incidents/{later.id}/playbook", data=values)
    assert again.status_code == 200, "published without showing what was removed"
    assert removed_shown(text(again)) == ["ORD-2024-7788"]
    assert db.session.scalars(select(Playbook)).one().version == 1


# --- versions ------------------------------------------------------------------------------------

def test_versions_are_listed_and_an_old_one_can_be_viewed(client, login, agent, lead, incident):
    playbook, _r, _c = making.make(lead, incident, making.propose(incident).data, None)
    db.session.commit()
    reindex()
    later = recurrence(agent, lead)
    proposal = making.propose(later)
    assert proposal.target == playbook
    making.make(lead, later, proposal.data, proposal.target)
    db.session.commit()
    assert [v.number for v in db.session.scalars(select(PlaybookVersion))] == [1, 2]

    login("viewer")
    current = text(client.get(f"/playbooks/{playbook.id}"))
    assert "version 2" in current and "seen 2 times" in current
    assert f'href="/playbooks/{playbook.id}?version=1"' in current
    assert f'href="/playbooks/{playbook.id}?version=2"' in current
    assert "Renewed the gateway certificate by hand" in current
    # The sources listed in the text are not Markdown headings ("#2 title" would be one).
    assert len(re.findall(r"<h1[ >]", client.get(f"/playbooks/{playbook.id}").get_data(as_text=True))) == 1

    old = text(client.get(f"/playbooks/{playbook.id}?version=1"))
    assert "You are looking at version 1." in old
    assert "Renewed the gateway certificate by hand" not in old
    assert "Switched the payment gateway to the backup provider" in old
    assert client.get(f"/playbooks/{playbook.id}?version=9").status_code == 404


# --- the API ----------------------------------------------------------------------------------------

def test_api_makes_a_playbook_and_lists_what_was_removed(api, agent, lead, incident):
    client = api("lead")
    response = client.post(f"/api/v1/incidents/{incident.id}/playbook", json={})
    assert response.status_code == 201
    body = response.get_json()
    assert body["version"] == 1 and body["recurrence_count"] == 1 and body["status"] == "published"
    assert body["category"] == "payment" and body["grade"] == "Orange"
    removed = {(r["kind"], r["value"]) for r in body["removed"]}
    assert {("known", "Kim Minsu"), ("known", "ORD-2024-7788"),
            ("phone", "010-9876-5432")} <= removed
    for value in PII:
        assert value not in str({k: v for k, v in body.items() if k != "removed"})

    later = recurrence(agent, lead, letter="Dear future team: Lee Jiwoo (ORD-2025-0042) noticed "
                                          "it first; check the gateway certificate.")
    again = client.post(f"/api/v1/incidents/{later.id}/playbook", json={})
    assert again.status_code == 201
    assert again.get_json()["id"] == body["id"]
    assert (again.get_json()["version"], again.get_json()["recurrence_count"]) == (2, 2)
    assert {r["value"] for r in again.get_json()["removed"]} >= {"Lee Jiwoo", "ORD-2025-0042"}

    third = recurrence(agent, lead, title="Card payment fails at checkout, third time",
                       customer={"name": "Park Hana", "contact": "", "reference": ""})
    new = client.post(f"/api/v1/incidents/{third.id}/playbook", json={"new": True})
    assert new.status_code == 201 and new.get_json()["id"] != body["id"]


def test_api_refuses_bad_bodies_and_unknown_targets(api, incident):
    client = api("lead")
    url = f"/api/v1/incidents/{incident.id}/playbook"
    assert client.post(url, json={"surprise": 1}).status_code == 422
    assert client.post(url, json={"playbook_id": "1"}).status_code == 422
    assert client.post(url, json={"playbook_id": 999}).status_code == 404
    assert client.post("/api/v1/incidents/999/playbook", json={}).status_code == 404
    assert count(Playbook) == 0


def test_postmortem_search_document_has_no_customer_data(incident):
    pm = pm_services.for_incident(incident.id)
    assert "Kim Minsu" in pm.body  # the postmortem itself is internal
    reindex()
    from app import search

    hits = search.search("backup provider gateway", types=["postmortem"]).hits
    assert [h.id for h in hits] == [pm.id]
    assert "Kim Minsu" not in (hits[0].snippet or "")
    assert incident.status == Status.closed
