"""The abusive-customer protocol: the front-line agent is taken off at once, the lead on
duty takes the case, and the lead's decision is recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Role
from app.timeutil import utcnow
from incidents import services as incident_services
from incidents.compensation import services as comp_services
from incidents.compensation.models import CompType
from incidents.escalation import services
from incidents.escalation.models import AbuseCase, AbuseOutcome, Notification
from incidents.models import EventKind, TimelineEvent
from tests.conftest import grade, sign_in

ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def on_shift(admin, user, role=None):
    services.add_shift(admin, user, days=ALL_DAYS, start="00:00", end="24:00",
                       timezone="Asia/Seoul", role=role)
    db.session.commit()


def flagged_events(incident) -> list[TimelineEvent]:
    return list(db.session.scalars(select(TimelineEvent).where(
        TimelineEvent.incident_id == incident.id, TimelineEvent.kind == EventKind.abuse_flagged)))


@pytest.fixture
def people(make_user):
    admin = make_user("admin", name="Zed Admin")
    lead = make_user("lead", name="Yuna Lead")  # on duty
    make_user("lead", name="Aaron Lead")  # not on duty, first by name
    on_shift(admin, lead)
    return {"admin": admin, "lead": lead}


def test_api_patch_flags_abusive_and_hands_the_case_to_the_lead_on_duty(api, people, make_user, client):
    agent = api("agent", name="Mina Agent")
    colleague = make_user("agent", name="Colleague")
    incident = incident_services.create_incident(agent.user, title="Customer threatens reviews",
                                                 grade=grade("Blue"), responders=[agent.user, colleague])
    db.session.commit()
    response = agent.patch(f"/api/v1/incidents/{incident.id}",
                           json={"abusive_customer": True, "abuse_kind": "extortion"})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["abusive_customer"] is True
    assert body["owner"]["email"] == people["lead"].email
    assert [r["email"] for r in body["responders"]] == [colleague.email]
    assert body["abuse"] == {"kind": "extortion", "lead": {"email": people["lead"].email,
                             "name": "Yuna Lead", "title": people["lead"].title},
                             "previous_owner": {"email": agent.user.email, "name": "Mina Agent",
                                                "title": agent.user.title},
                             "outcome": None, "outcome_note": ""}
    # Recorded, not hidden: the timeline names who was taken off.
    [flag] = [e for e in body["timeline"] if e["kind"] == "abuse_flagged"]
    assert flag["data"] == {"kind": "extortion", "previous_owner": agent.user.email,
                            "previous_owner_name": "Mina Agent", "lead": people["lead"].email,
                            "lead_name": "Yuna Lead"}
    assert flag["actor"]["email"] == agent.user.email
    [told] = db.session.scalars(select(Notification).where(Notification.reason == "abusive")).all()
    assert told.user_id == people["lead"].id
    assert "Mina Agent is taken off; the case is yours" in told.message
    assert "extortion" in told.message
    # The agent sees a short note on the incident page.
    sign_in(client, agent.user)
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "This case is in Yuna Lead&#39;s hands now." in page or "This case is in Yuna Lead's hands now." in page
    assert "Record decision" not in page


def test_flagging_twice_keeps_the_first_case(api, people):
    agent = api("agent")
    incident = incident_services.create_incident(agent.user, title="x", grade=grade("Blue"))
    db.session.commit()
    agent.patch(f"/api/v1/incidents/{incident.id}", json={"abusive_customer": True, "abuse_kind": "insult"})
    agent.patch(f"/api/v1/incidents/{incident.id}", json={"abusive_customer": True, "abuse_kind": "threat"})
    assert db.session.get(AbuseCase, incident.id).kind.value == "insult"
    assert len(flagged_events(incident)) == 1


def test_creating_an_abusive_incident_flags_it_at_once(api, people):
    agent = api("agent")
    response = agent.post("/api/v1/incidents", json={"title": "Abusive caller", "grade": "Green",
                                                     "abusive_customer": True, "abuse_kind": "threat"})
    assert response.status_code == 201, response.json
    assert response.json["owner"]["email"] == people["lead"].email
    assert response.json["abuse"]["kind"] == "threat"


def test_web_edit_form_flags_abusive(client, people, make_user):
    agent = make_user("agent", name="Web Agent")
    incident = incident_services.create_incident(agent, title="Shouting on the phone", grade=grade("Blue"))
    db.session.commit()
    sign_in(client, agent)
    form = {"title": incident.title, "grade": incident.grade_id, "owner": agent.id, "category": 0,
            "channel": "", "description": "", "impact": "", "cause": "", "resolution": "",
            "abusive_customer": "y", "abuse_kind": "harassment", "version": str(incident.version)}
    response = client.post(f"/incidents/{incident.id}/edit", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert incident.owner_id == people["lead"].id
    case = db.session.get(AbuseCase, incident.id)
    assert (case.kind.value, case.previous_owner_id, case.lead_id, case.flagged_by_id) == (
        "harassment", agent.id, people["lead"].id, agent.id)
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "hands now" in page and "Harassment" in page


@pytest.mark.parametrize("situation", ["any_lead", "manager_on_duty", "any_senior", "nobody"])
def test_fallbacks_when_no_lead_is_on_duty(make_user, situation):
    agent = make_user("agent", name="Front Line")
    admin = make_user("admin", name="Aa Admin")
    expected = {"nobody": agent}
    if situation == "any_lead":
        make_user("lead", name="Zz Lead")
        expected[situation] = make_user("lead", name="Bb Lead")
        on_shift(admin, make_user("manager", name="Mgr On Duty"))
    elif situation == "manager_on_duty":
        make_user("manager", name="Bb Manager")
        expected[situation] = make_user("manager", name="Mgr On Duty")
        on_shift(admin, expected[situation])
    elif situation == "any_senior":
        make_user("manager", name="Bb Manager")
        expected[situation] = admin
    else:
        admin.active = False
        db.session.commit()
    incident = incident_services.create_incident(agent, title="Threats", grade=grade("Blue"))
    incident_services.update_incident(agent, incident, {"abusive_customer": True}, abuse_kind="threat")
    db.session.commit()
    assert incident.owner_id == expected[situation].id
    assert db.session.get(AbuseCase, incident.id).lead_id == expected[situation].id


def test_a_lead_who_owns_it_keeps_it(make_user, people):
    lead = make_user("lead", name="Owner Lead")
    incident = incident_services.create_incident(lead, title="x", grade=grade("Blue"))
    incident_services.update_incident(lead, incident, {"abusive_customer": True}, abuse_kind="insult")
    db.session.commit()
    assert incident.owner_id == lead.id
    assert db.session.scalars(select(Notification).where(Notification.reason == "abusive")).all() == []


# --- the lead's decision ---------------------------------------------------------------------

@pytest.fixture
def abusive(make_user, people):
    agent = make_user("agent", name="Taken Off")
    incident = incident_services.create_incident(agent, title="Give it free or I post reviews",
                                                 grade=grade("Blue"), abusive_customer=True,
                                                 abuse_kind="extortion")
    db.session.commit()
    return incident, agent


def outcome_url(incident) -> str:
    return f"/api/v1/incidents/{incident.id}/abuse-outcome"


@pytest.mark.parametrize(("body", "stored_note"), [
    ({"outcome": "hold", "note": ""}, ""),
    ({"outcome": "concede", "note": "Gave a 20% coupon to end it."}, "Gave a 20% coupon to end it."),
    ({"outcome": "part_ways", "note": "We will not serve this account again."},
     "We will not serve this account again."),
])
def test_lead_records_an_outcome_over_the_api(api, abusive, body, stored_note):
    incident, _agent = abusive
    lead = api("lead", name="Deciding Lead")
    response = lead.post(outcome_url(incident), json=body)
    assert response.status_code == 200, response.json
    assert response.json["outcome"] == body["outcome"] and response.json["note"] == stored_note
    assert response.json["kind"] == "extortion"
    case = db.session.get(AbuseCase, incident.id)
    db.session.refresh(case)
    assert case.outcome == AbuseOutcome(body["outcome"]) and case.outcome_by_id == lead.user.id
    [event] = db.session.scalars(select(TimelineEvent).where(
        TimelineEvent.incident_id == incident.id, TimelineEvent.kind == EventKind.abuse_outcome)).all()
    assert event.data["outcome"] == body["outcome"]


def test_concede_with_a_compensation_id(api, abusive, make_user):
    incident, agent = abusive
    lead = api("lead")
    comp = comp_services.propose(lead.user, incident, comp_type=CompType.coupon, amount=5000)
    db.session.commit()
    response = lead.post(outcome_url(incident), json={"outcome": "concede", "compensation_id": comp.id})
    assert response.status_code == 200, response.json
    assert db.session.get(AbuseCase, incident.id).compensation_id == comp.id


@pytest.mark.parametrize(("body", "field"), [
    ({"outcome": "part_ways"}, "note"),
    ({"outcome": "part_ways", "note": "   "}, "note"),
    ({"outcome": "concede"}, "note"),
    ({"outcome": "concede", "compensation_id": 999999}, "compensation_id"),
    ({"outcome": "surrender", "note": "x"}, "outcome"),
    ({"outcome": "hold", "note": 5}, "note"),
])
def test_bad_outcomes_are_422(api, abusive, body, field):
    incident, _agent = abusive
    response = api("lead").post(outcome_url(incident), json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    assert db.session.get(AbuseCase, incident.id).outcome is None


def test_agent_cannot_record_an_outcome(api, abusive):
    incident, _agent = abusive
    response = api("agent").post(outcome_url(incident), json={"outcome": "hold"})
    assert response.status_code == 403


def test_outcome_on_a_non_abusive_incident_is_409(api, make_incident):
    incident = make_incident()
    response = api("lead").post(outcome_url(incident), json={"outcome": "hold"})
    assert response.status_code == 409
    assert api("lead").post("/api/v1/incidents/999999/abuse-outcome",
                            json={"outcome": "hold"}).status_code == 404


def test_lead_records_an_outcome_on_the_web(client, abusive, people):
    incident, agent = abusive
    sign_in(client, people["lead"])
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "Record decision" in page
    assert "Taken Off was taken off the case" in page
    response = client.post(f"/incidents/{incident.id}/abuse-outcome",
                           data={"outcome": "part_ways", "note": ""})
    assert response.status_code == 422
    assert "Record the message sent to the customer." in response.get_data(as_text=True)
    response = client.post(f"/incidents/{incident.id}/abuse-outcome",
                           data={"outcome": "part_ways", "compensation": "0",
                                 "note": "고객님과의 거래를 종료합니다."})
    assert response.status_code == 302
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "Part ways (end the relationship)" in page and "고객님과의 거래를 종료합니다." in page
    assert "Record decision" not in page


def test_agent_cannot_post_an_outcome_on_the_web(client, abusive):
    incident, agent = abusive
    sign_in(client, agent)
    response = client.post(f"/incidents/{incident.id}/abuse-outcome", data={"outcome": "hold"})
    assert response.status_code == 403
    assert db.session.get(AbuseCase, incident.id).outcome is None


def test_web_outcome_on_a_non_abusive_incident_is_409(client, make_incident, login):
    login("lead")
    incident = make_incident()
    assert client.post(f"/incidents/{incident.id}/abuse-outcome",
                       data={"outcome": "hold"}).status_code == 409


def test_flag_uses_the_clock_it_is_given(make_user, people):
    agent = make_user("agent")
    at = datetime(2025, 6, 2, 1, 0, tzinfo=UTC)
    incident = incident_services.create_incident(agent, title="x", grade=grade("Blue"), detected_at=at,
                                                 now=at)
    incident_services.update_incident(agent, incident, {"abusive_customer": True},
                                      now=at + timedelta(minutes=3), abuse_kind="insult")
    db.session.commit()
    case = db.session.get(AbuseCase, incident.id)
    assert case.flagged_at.replace(tzinfo=UTC) == at + timedelta(minutes=3)
    assert utcnow() > at
    assert people["lead"].role == Role.lead


def test_decision_form_labels_point_at_its_own_fields(client, abusive, people):
    """The incident page also has the status form's "note" and a "compensation" section:
    the decision form's labels must not point at those."""
    import collections
    import re

    incident, _agent = abusive
    sign_in(client, people["lead"])
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    counts = collections.Counter(re.findall(r'\sid="([^"]+)"', page))
    for name in ("outcome", "compensation", "note"):
        assert f'<label for="abuse-{name}">' in page
        assert re.search(rf'<(select|textarea)[^>]* id="abuse-{name}"[^>]* name="{name}"', page)
        assert counts[f"abuse-{name}"] == 1
