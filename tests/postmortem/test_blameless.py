"""Blameless postmortems: blame on a named person is shown as a warning (page and API); a
postmortem with unanswered template prompts, or a playbook without first steps, is refused
with a clear message and nothing changes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from incidents import services as incident_services
from incidents.models import EventKind, TimelineEvent
from incidents.postmortem import playbook as making
from incidents.postmortem import services
from incidents.postmortem.models import PostmortemStatus
from playbooks import services as playbook_services
from playbooks.models import Playbook
from tests.postmortem import filled, ready_incident, start_filled, text, with_section

BLAME = {"en": "Seoyeon Park forgot to renew the gateway certificate, so card payments failed.",
         "ko": "박서연 상담원이 실수해서 결제가 두 번 처리되었습니다."}
PROCESS = {"en": "Renewing the certificate was a manual step that nobody was reminded of.",
           "ko": "설정 변경을 두 사람이 확인하는 절차가 없었습니다."}
ROOT = {"en": "Root cause", "ko": "근본 원인"}


@pytest.fixture
def incident(make_incident, agent):
    return make_incident(agent, grade="Orange", title="Card payments fail", customers=[
        incident_services.CustomerData(name="Kim Minsu")])


def pm_rows() -> dict[str, list[tuple]]:
    """The postmortem tables and the timeline, read on a separate connection."""
    with db.engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY 1"))]
                for t in ("postmortems", "postmortem_versions", "timeline_events")}


def status_events(incident) -> list[dict]:
    return list(db.session.scalars(select(TimelineEvent.data).where(
        TimelineEvent.incident_id == incident.id,
        TimelineEvent.kind == EventKind.postmortem_status)))


# --- named blame: a warning, on the page and in the API ----------------------------------------

@pytest.mark.parametrize("language", ["en", "ko"])
def test_blame_on_a_named_colleague_is_a_warning_that_names_the_sentence(make_user, make_incident,
                                                                         api, language):
    author = make_user("agent", name="Seoyeon Park" if language == "en" else "박서연")
    incident = make_incident(author, grade="Orange")
    pm = start_filled(author, incident, language)
    services.save(author, pm, with_section(pm.body, ROOT[language], BLAME[language]))
    db.session.commit()
    [finding] = services.blame_findings(pm)
    assert (finding["code"], finding["severity"]) == ("blames_named_person", "warning")
    assert pm.body[finding["span"][0]:finding["span"][1]] == BLAME[language]
    out = api("viewer").get(f"/api/v1/incidents/{incident.id}/postmortem").get_json()
    assert [f["code"] for f in out["findings"]] == ["blames_named_person"]
    assert out["body"][out["findings"][0]["span"][0]:out["findings"][0]["span"][1]] == BLAME[language]
    # A warning: it does not stop publishing.
    services.publish(make_user("lead"), pm)
    assert pm.status == PostmortemStatus.published


@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_process_is_criticised_without_a_warning(make_user, make_incident, language):
    author = make_user("agent", name="Seoyeon Park" if language == "en" else "박서연")
    incident = make_incident(author, grade="Orange")
    pm = start_filled(author, incident, language)
    services.save(author, pm, with_section(pm.body, ROOT[language], PROCESS[language]))
    assert services.blame_findings(pm) == []


def test_the_page_shows_the_blaming_sentence(client, login, make_user, make_incident):
    author = make_user("agent", name="Seoyeon Park")
    incident = make_incident(author, grade="Orange")
    pm = start_filled(author, incident)
    services.save(author, pm, with_section(pm.body, "Root cause", BLAME["en"]))
    db.session.commit()
    login("viewer")
    page = text(client.get(f"/incidents/{incident.id}/postmortem"))
    box = page.split('id="blameless"', 1)[1].split("</section>", 1)[0]
    assert "names a person as the cause" in box
    assert f"<blockquote>{BLAME['en']}</blockquote>" in box


def test_the_names_are_the_incidents_staff_and_customers(incident, agent, lead, make_user):
    stranger = make_user("agent", name="Nobody Here")
    incident_services.update_incident(agent, incident, {"responders": [lead]})
    services.add_action(agent, incident, title="Alert on expiry", owner=lead,
                        kind=services.ActionKind.detect)
    names = services.people_names(incident)
    assert {agent.name, lead.name, "Kim Minsu"} <= set(names)
    assert stranger.name not in names


# --- unanswered prompts: publishing is refused, nothing changes -------------------------------

def test_publishing_with_template_prompts_left_is_refused(incident, agent, lead, api):
    pm = services.start(agent, incident, "en")
    db.session.commit()
    assert services.unfilled_sections(pm.body) == ["Summary", "Root cause",
                                                   "Letter to the future team"]
    before = pm_rows()
    with pytest.raises(Conflict) as err:
        services.publish(lead, pm)
    assert err.value.extra["sections"] == ["Summary", "Root cause", "Letter to the future team"]
    assert "Summary" in err.value.message
    db.session.rollback()
    assert pm_rows() == before and pm.status == PostmortemStatus.draft
    services.set_status(agent, pm, PostmortemStatus.in_review)
    db.session.commit()
    with pytest.raises(Conflict):
        services.set_status(lead, pm, PostmortemStatus.published)
    db.session.rollback()
    assert pm.status == PostmortemStatus.in_review
    # Over the API: 409 with the sections, and nothing changed.
    before = pm_rows()
    response = api("lead").post(f"/api/v1/incidents/{incident.id}/postmortem/publish")
    assert response.status_code == 409
    assert response.get_json()["error"]["sections"] == ["Summary", "Root cause",
                                                         "Letter to the future team"]
    assert pm_rows() == before
    out = api("agent").get(f"/api/v1/incidents/{incident.id}/postmortem").get_json()
    assert out["unfilled_sections"] == ["Summary", "Root cause", "Letter to the future team"]


def test_a_deleted_prompt_is_not_an_answer(incident, agent, lead):
    pm = services.start(agent, incident, "ko")
    body = filled(pm.body, "ko")
    summary = "결제 페이지에서 40분 동안 카드 결제가 되지 않았습니다."
    services.save(agent, pm, body.replace(summary, ""))
    db.session.commit()
    assert services.unfilled_sections(pm.body) == ["요약"]
    with pytest.raises(Conflict):
        services.publish(lead, pm)
    db.session.rollback()
    services.save(agent, pm, body)
    services.publish(lead, pm)
    assert pm.status == PostmortemStatus.published


def test_the_web_says_why_and_changes_nothing(client, login, incident, agent):
    pm = services.start(agent, incident, "en")
    services.set_status(agent, pm, PostmortemStatus.in_review)
    db.session.commit()
    url = f"/incidents/{incident.id}/postmortem"
    login("lead")
    page = text(client.get(url))
    assert "Still to write (publishing waits for these): Summary, Root cause, Letter to the " \
           "future team" in page
    before = pm_rows()
    refused = client.post(f"{url}/status", data={"status": "published"}, follow_redirects=True)
    assert "cannot be published until every template prompt is replaced" in text(refused)
    assert pm_rows() == before
    db.session.expire_all()
    assert services.for_incident(incident.id).status == PostmortemStatus.in_review
    assert status_events(incident) == [{"from": "draft", "to": "in_review"}]


def test_republishing_a_prompt_put_back_is_refused(incident, agent, lead):
    pm = start_filled(agent, incident)
    services.publish(lead, pm)
    db.session.commit()
    published = pm.published_number
    services.save(lead, pm, pm.body + "\n_What happened, in three sentences._\n")
    db.session.commit()
    with pytest.raises(Conflict):
        services.republish(lead, pm)
    db.session.rollback()
    assert pm.unpublished_changes and pm.published_number == published


# --- a playbook without first steps is not published ------------------------------------------

def test_a_playbook_without_first_steps_is_refused(client, login, api, agent, lead):
    incident = ready_incident(agent, lead)
    proposal = making.propose(incident)
    proposal.data.steps = "  \n"
    with pytest.raises(ValidationFailed) as err:
        making.make(lead, incident, proposal.data, None)
    assert "steps" in err.value.fields
    db.session.rollback()

    login("lead")
    url = f"/incidents/{incident.id}/playbook"
    page = text(client.get(url))
    assert "First steps" in page
    from tests.postmortem.test_playbook import form_values
    values = form_values(page)
    values["steps"] = ""
    refused = client.post(url, data=values)
    assert refused.status_code == 422
    assert "Write what to do first, one step a line." in text(refused)
    assert db.session.scalar(select(func.count()).select_from(Playbook)) == 0

    response = api("lead").post("/api/v1/playbooks", json={"title": "Card payments fail",
                                                           "summary": "Payments failed.",
                                                           "language": "en"})
    assert response.status_code == 422
    assert "steps" in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(Playbook)) == 0
    assert playbook_services.require_first_steps(playbook_services.PlaybookData(
        title="x", steps="1. Check the gateway.")) is None


@pytest.mark.parametrize("steps", [None, "", "   \n\t "])
def test_the_api_document_and_the_server_both_require_first_steps(api, steps):
    """What the OpenAPI document allows, the server takes: first steps are required there too,
    so a client (and the API fuzzing) learns it from the schema, not from a refusal."""
    schema = api("viewer").get("/api/v1/openapi.json").get_json()
    body = schema["paths"]["/api/v1/playbooks"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    if "$ref" in body:
        body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert "steps" in body["required"]
    assert body["properties"]["steps"]["minLength"] == 1
    payload = {"title": "Card payments fail", "summary": "Payments failed.", "language": "en"}
    if steps is not None:
        payload["steps"] = steps
    response = api("lead").post("/api/v1/playbooks", json=payload)
    assert response.status_code == 422
    assert "steps" in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(Playbook)) == 0


def test_a_postmortem_without_first_steps_is_a_conflict_over_the_api(api, agent, lead,
                                                                      monkeypatch):
    """From an incident the request names no steps: they come from the stored postmortem, so
    their absence is a 409 about the record, not a 422 about a field the body never had."""
    incident = ready_incident(agent, lead)
    propose = making.propose

    def without_steps(*args, **kw):
        proposal = propose(*args, **kw)
        proposal.data.steps = " \n"
        return proposal
    monkeypatch.setattr(making, "propose", without_steps)
    response = api("lead").post(f"/api/v1/incidents/{incident.id}/playbook", json={})
    assert response.status_code == 409
    assert "first steps" in response.get_json()["error"]["message"]
    assert db.session.scalar(select(func.count()).select_from(Playbook)) == 0
