"""What customers are told about an incident (the public_* fields): set on the form and over the
API, shown on the page and in the OpenAPI document, and checked: a day to tell the cause is a
promise, so not in the past nor more than a year away; a refusal changes nothing."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.timeutil import utcnow
from incidents.models import EventKind, Incident, TimelineEvent
from incidents.schemas import IncidentDetailOut

URL = "/api/v1/incidents"
TOLD = {"public_summary": "Your parcel arrived two days late.",
        "public_harm": "You waited at home for a delivery that did not come.",
        "public_cause": "",
        "public_fix": "We moved your parcel to another courier.",
        "public_change": "Parcels late by a day now go to a second courier.\n- We call you first."}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def agent_api(api):
    return api("agent")


def test_create_and_patch_over_the_api(agent_api):
    due = (utcnow() + timedelta(days=7)).date()
    made = agent_api.post(URL, json={"title": "Late parcels (depot 3)", "grade": "Blue",
                                     "public_cause_due": due.isoformat(), **TOLD})
    assert made.status_code == 201, made.json
    body = IncidentDetailOut.model_validate(made.json)
    assert (body.public_summary, body.public_change, body.public_cause_due) == (
        TOLD["public_summary"], TOLD["public_change"], due)
    patched = agent_api.patch(f"{URL}/{body.id}", json={
        "public_cause": "A sorting machine at our depot broke down.", "public_cause_due": None,
        "version": body.version})
    assert patched.status_code == 200, patched.json
    out = IncidentDetailOut.model_validate(patched.json)
    assert out.public_cause == "A sorting machine at our depot broke down."
    assert out.public_cause_due is None
    [edited] = [e for e in out.timeline if e.kind == "edited"]
    assert sorted(edited.data["fields"]) == ["public_cause", "public_cause_due"]


@pytest.mark.parametrize(("days", "message"), [(-3, "cannot be in the past"),
                                               (400, "within a year")])
def test_a_day_to_tell_the_cause_is_a_promise(agent_api, make_incident, snapshot, days, message):
    incident = make_incident(agent_api.user)
    before = snapshot()
    day = (utcnow() + timedelta(days=days)).date().isoformat()
    response = agent_api.patch(f"{URL}/{incident.id}", json={"public_cause_due": day})
    assert response.status_code == 422
    assert message in response.json["error"]["fields"]["public_cause_due"]
    assert snapshot() == before


@pytest.mark.parametrize("payload", [{"public_cause_due": "next week"},
                                     {"public_summary": 5}, {"public_harm": "a\x00b"},
                                     {"public_fix": "x" * 20_001}])
def test_bad_told_fields_are_422_and_change_nothing(agent_api, make_incident, snapshot, payload):
    incident = make_incident(agent_api.user)
    before = snapshot()
    response = agent_api.patch(f"{URL}/{incident.id}", json=payload)
    assert response.status_code == 422
    assert set(payload) <= set(response.json["error"]["fields"])
    assert snapshot() == before


def test_the_openapi_document_describes_the_fields(client):
    doc = client.get("/api/v1/openapi.json").json
    schemas = doc["components"]["schemas"]
    for name in ("IncidentCreate", "IncidentPatch", "IncidentOut", "IncidentDetailOut"):
        schema = schemas[name]
        assert {"public_summary", "public_harm", "public_cause", "public_cause_due", "public_fix",
                "public_change"} <= set(schema["properties"]), name


def edit_form(incident: Incident, **change) -> dict:
    return {"title": incident.title, "grade": incident.grade_id, "owner": incident.owner_id,
            "category": incident.category_id or 0, "channel": "", "description": incident.description,
            "detected_at": "", "version": str(incident.version), **change}


def test_the_form_saves_them_and_the_page_shows_them_apart(client, login, make_incident):
    me = login("agent")
    incident = make_incident(me, title="Depot 3 sorter down", impact="3,000 parcels late")
    form = text(client.get(f"/incidents/{incident.id}/edit"))
    assert 'id="public-facts"' in form and 'name="public_cause_due"' in form
    due = (utcnow() + timedelta(days=5)).date()
    response = client.post(f"/incidents/{incident.id}/edit", data=edit_form(
        incident, public_cause_due=due.isoformat(), **TOLD))
    assert response.status_code == 302, text(response)[:500]
    db.session.refresh(incident)
    assert incident.public_summary == TOLD["public_summary"] and incident.public_cause_due == due
    page = text(client.get(f"/incidents/{incident.id}"))
    told = page.split('id="told"', 1)[1].split("</section>", 1)[0]
    assert TOLD["public_harm"] in told and due.isoformat() in told
    assert "3,000 parcels late" not in told  # the staff's impact line stays theirs
    last = db.session.scalars(select(TimelineEvent).order_by(TimelineEvent.id.desc())).first()
    assert last.kind == EventKind.edited and "public_summary" in last.data["fields"]


def test_the_form_refuses_a_past_day_and_changes_nothing(client, login, make_incident, snapshot):
    me = login("agent")
    incident = make_incident(me)
    before = snapshot()
    past = (utcnow() - timedelta(days=10)).date().isoformat()
    response = client.post(f"/incidents/{incident.id}/edit", data=edit_form(
        incident, public_cause_due=past, public_summary="Changed"))
    assert response.status_code == 422
    assert "cannot be in the past" in text(response)
    assert snapshot() == before
