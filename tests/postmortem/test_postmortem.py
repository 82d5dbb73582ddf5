"""Postmortems: one per incident, the SPEC's sections in ko or en, a timeline from the events,
draft -> in review -> published by role, safe Markdown, stale edits, and the closing rule."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from app.errors import Conflict, Forbidden, StaleEdit, TransitionRefused
from app.extensions import db
from app.i18n import localtime
from app.rendering import render_markdown
from app.templating import status_label
from incidents import services as incident_services
from incidents.models import EventKind, Status, TimelineEvent
from incidents.postmortem import services
from incidents.postmortem.models import Postmortem, PostmortemStatus
from tests.postmortem import filled, publish_postmortem, start_filled, text

SECTIONS_EN = ["Summary", "Customer impact", "Timeline", "Root cause", "Contributing factors",
               "What went well", "What went badly", "Where we got lucky", "Action items",
               "Letter to the future team"]
SECTIONS_KO = ["요약", "고객 영향", "타임라인", "근본 원인", "기여 요인", "잘된 점", "아쉬운 점",
               "운이 좋았던 점", "후속 조치", "미래의 팀에게 보내는 편지"]


def headings(body: str) -> list[str]:
    return re.findall(r"^## (.+)$", body, re.MULTILINE)


def section_text(body: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", body, re.MULTILINE | re.S)
    assert match, heading
    return match.group(1).strip()


@pytest.fixture
def incident(make_incident, agent):
    return make_incident(agent, grade="Orange", title="Card payment fails at checkout",
                         impact="Orders could not be paid for 40 minutes",
                         cause="The gateway certificate expired unnoticed")


# --- one per incident, pre-filled ------------------------------------------------------------------

@pytest.mark.parametrize(("language", "sections"), [("en", SECTIONS_EN), ("ko", SECTIONS_KO)])
def test_start_prefills_the_spec_sections_in_the_chosen_language(incident, agent, language, sections):
    pm = services.start(agent, incident, language)
    db.session.commit()

    assert pm.language == language and pm.status == PostmortemStatus.draft
    assert pm.body.startswith(f"# {incident.title}\n")
    assert headings(pm.body) == sections
    # What the incident already knows is filled in; the rest prompts the writer.
    assert section_text(pm.body, sections[1]) == "Orders could not be paid for 40 minutes"
    assert section_text(pm.body, sections[3]) == "The gateway certificate expired unnoticed"
    assert section_text(pm.body, sections[-1]).startswith("_")


def test_second_start_is_refused(incident, agent, lead):
    services.start(agent, incident, "en")
    db.session.commit()
    with pytest.raises(Conflict):
        services.start(lead, incident, "ko")
    db.session.rollback()
    assert db.session.scalar(select(func.count(Postmortem.id))) == 1


def test_second_start_on_the_web_is_409_and_keeps_the_first(client, login, incident):
    login("agent")
    first = client.post(f"/incidents/{incident.id}/postmortem/start", data={"language": "en"})
    assert first.status_code == 302
    assert first.headers["Location"].endswith(f"/incidents/{incident.id}/postmortem")
    second = client.post(f"/incidents/{incident.id}/postmortem/start", data={"language": "ko"})
    assert second.status_code == 409
    assert "This incident already has a postmortem." in text(second)
    pm = services.for_incident(incident.id)
    assert pm.language == "en"
    assert db.session.scalar(select(func.count(Postmortem.id))) == 1


def test_api_put_starts_once_then_saves(api, incident):
    client = api("agent")
    started = client.put(f"/api/v1/incidents/{incident.id}/postmortem", json={"language": "en"})
    assert started.status_code == 200
    body = started.get_json()
    assert body["status"] == "draft" and body["language"] == "en"
    assert headings(body["body"]) == SECTIONS_EN
    again = client.put(f"/api/v1/incidents/{incident.id}/postmortem",
                       json={"language": "ko", "body": "# Rewritten", "version": body["version"]})
    assert again.status_code == 200
    assert again.get_json()["language"] == "en"  # still the one postmortem
    assert again.get_json()["body"] == "# Rewritten"
    assert db.session.scalar(select(func.count(Postmortem.id))) == 1


# --- the timeline, generated from the events ----------------------------------------------------

@pytest.mark.parametrize("language", ["en", "ko"])
def test_timeline_section_lists_the_events_with_times_and_names(incident, agent, lead, language):
    incident_services.change_status(agent, incident, Status.shared, "Posted on the status page")
    incident_services.add_event(lead, incident, EventKind.note, "Gateway vendor confirms the outage")
    incident_services.add_event(agent, incident, EventKind.action, "Switched to the backup gateway")
    db.session.commit()
    moved_at = db.session.scalar(select(TimelineEvent.created_at).where(
        TimelineEvent.incident_id == incident.id, TimelineEvent.kind == EventKind.status_changed))

    pm = services.start(lead, incident, language)
    timeline = section_text(pm.body, SECTIONS_EN[2] if language == "en" else SECTIONS_KO[2])
    lines = timeline.splitlines()
    with force_locale(language):
        opened = gettext("opened the incident (grade %(grade)s, owner %(owner)s)",
                         grade="Orange", owner="Seoyeon Park")
        moved = gettext("moved the status from %(from)s to %(to)s",
                        **{"from": status_label("detected"), "to": status_label("shared")})
        note, action = gettext("Note"), gettext("Action taken")
        when = localtime(moved_at, "short")
    assert len(lines) == 4, timeline
    assert all(line.startswith("- ") for line in lines)
    assert lines[0].endswith(f"Seoyeon Park: {opened}")
    assert lines[1] == f"- **{when}** — Seoyeon Park: {moved}: Posted on the status page"
    assert lines[2].endswith(f"— Minji Kim: {note}: Gateway vendor confirms the outage")
    assert lines[3].endswith(f"— Seoyeon Park: {action}: Switched to the backup gateway")
    if language == "ko":
        assert "상태" in moved  # really the Korean catalogue, not the English fallback
    # Rendered, the timeline is one flat list: a Korean date ("26. 11. 22.") at the start of
    # an item once turned every line into nested numbered lists.
    rendered = render_markdown(timeline)
    assert rendered.count("<li>") == 4 and "<ol>" not in rendered
    assert f"<strong>{when}</strong>" in rendered


# --- states and roles --------------------------------------------------------------------------

def test_agent_asks_for_review_but_only_a_lead_publishes(incident, agent, lead, make_user):
    viewer = make_user("viewer")
    pm = start_filled(agent, incident, "en")
    with pytest.raises(Forbidden):
        services.set_status(viewer, pm, PostmortemStatus.in_review)
    services.set_status(agent, pm, PostmortemStatus.in_review)
    with pytest.raises(Forbidden):
        services.set_status(agent, pm, PostmortemStatus.published)
    with pytest.raises(Forbidden):
        services.publish(agent, pm)
    assert pm.status == PostmortemStatus.in_review
    services.set_status(lead, pm, PostmortemStatus.published)
    db.session.commit()
    assert pm.published_by == lead and pm.published_at is not None
    # No skipping back into review from published: only back to draft, by a lead.
    with pytest.raises(Conflict):
        services.set_status(lead, pm, PostmortemStatus.in_review)
    with pytest.raises(Forbidden):
        services.set_status(agent, pm, PostmortemStatus.draft)
    kinds = db.session.scalars(select(TimelineEvent.data).where(
        TimelineEvent.incident_id == incident.id,
        TimelineEvent.kind == EventKind.postmortem_status).order_by(TimelineEvent.id)).all()
    assert kinds == [{"from": "draft", "to": "in_review"},
                     {"from": "in_review", "to": "published", "version": 2}]  # prompts answered in v2


def test_viewer_may_not_start_or_save(incident, agent, make_user):
    viewer = make_user("viewer")
    with pytest.raises(Forbidden):
        services.start(viewer, incident, "en")
    pm = services.start(agent, incident, "en")
    with pytest.raises(Forbidden):
        services.save(viewer, pm, "# mine now")


def test_web_buttons_and_transitions_follow_the_role(client, login, incident, agent):
    start_filled(agent, incident, "en")
    db.session.commit()
    url = f"/incidents/{incident.id}/postmortem"

    login("agent")
    page = text(client.get(url))
    assert "Ask for review" in page and ">Publish<" not in page.replace("\n", "").replace(" ", "")
    # Forging the publish button changes nothing.
    refused = client.post(f"{url}/status", data={"status": "published"})
    assert refused.status_code in (302, 303)
    assert services.for_incident(incident.id).status == PostmortemStatus.draft
    assert client.post(f"{url}/status", data={"status": "in_review"}).status_code == 302
    assert services.for_incident(incident.id).status == PostmortemStatus.in_review
    page = text(client.get(url))
    assert "Back to draft" in page and 'value="published"' not in page

    login("lead")
    assert 'value="published"' in text(client.get(url))
    assert client.post(f"{url}/status", data={"status": "published"}).status_code == 302
    pm = services.for_incident(incident.id)
    assert pm.status == PostmortemStatus.published


def test_viewer_reads_the_postmortem_and_changes_nothing(client, login, incident, agent):
    pm = services.start(agent, incident, "en")
    db.session.commit()
    body, url = pm.body, f"/incidents/{incident.id}/postmortem"
    login("viewer")
    page = client.get(url)
    assert page.status_code == 200
    assert "<textarea" not in text(page) and "Ask for review" not in text(page)
    assert client.post(url, data={"body": "# hijacked", "version": str(pm.version)}).status_code == 403
    assert client.post(f"{url}/status", data={"status": "in_review"}).status_code == 403
    assert client.post(f"/incidents/{incident.id}/postmortem/start",
                       data={"language": "en"}).status_code == 403
    db.session.expire_all()
    pm = services.for_incident(incident.id)
    assert pm.body == body and pm.status == PostmortemStatus.draft


def test_api_publish_needs_a_lead(api, incident, agent):
    start_filled(agent, incident, "en")
    db.session.commit()
    url = f"/api/v1/incidents/{incident.id}/postmortem/publish"
    assert api("viewer").post(url).status_code == 403
    assert api("agent").post(url).status_code == 403
    assert services.for_incident(incident.id).status == PostmortemStatus.draft
    done = api("lead").post(url)
    assert done.status_code == 200
    assert done.get_json()["status"] == "published" and done.get_json()["published_at"]


# --- Markdown on the page, safely ----------------------------------------------------------

def test_markdown_is_rendered_and_scripts_are_not(client, login, incident, agent):
    pm = services.start(agent, incident, "en")
    services.save(agent, pm, "# Title\n\n**bold move**\n\n<script>alert('pm')</script>\n\n"
                  '<img src="x" onerror="alert(2)">\n\n[link](javascript:alert(3))\n')
    db.session.commit()
    for role in ("agent", "viewer"):
        login(role)
        raw = client.get(f"/incidents/{incident.id}/postmortem").get_data(as_text=True)
        assert "<strong>bold move</strong>" in raw
        assert "<script>alert" not in raw
        assert "onerror" not in raw.replace("onerror=&#34;", "").replace("onerror=&quot;", "")
        assert 'href="javascript' not in raw
    # The editor still shows what was typed, escaped, so nothing is lost.
    login("agent")
    raw = client.get(f"/incidents/{incident.id}/postmortem").get_data(as_text=True)
    assert "&lt;script&gt;alert(" in raw


# --- editing: stale versions and bad input ------------------------------------------------------

def test_stale_version_is_refused_by_the_service(incident, agent, lead):
    pm = services.start(agent, incident, "en")
    db.session.commit()
    seen = pm.version
    services.save(lead, pm, "# first writer\n", expected_version=seen)
    db.session.commit()
    with pytest.raises(StaleEdit):
        services.save(agent, pm, "# second writer\n", expected_version=seen)
    db.session.rollback()
    assert services.for_incident(incident.id).body == "# first writer\n"


def test_stale_version_on_the_web_is_409_and_keeps_the_newer_text(client, login, incident, agent):
    pm = services.start(agent, incident, "en")
    db.session.commit()
    url, seen = f"/incidents/{incident.id}/postmortem", str(pm.version)
    login("agent")
    assert client.post(url, data={"body": "# saved first\n", "version": seen}).status_code == 302
    stale = client.post(url, data={"body": "# saved second\n", "version": seen})
    assert stale.status_code == 409
    assert "Someone saved this postmortem while you were editing" in text(stale)
    db.session.expire_all()
    assert services.for_incident(incident.id).body == "# saved first\n"


def test_stale_version_over_the_api_is_409(api, incident, agent):
    pm = services.start(agent, incident, "en")
    db.session.commit()
    client, seen = api("agent"), pm.version
    url = f"/api/v1/incidents/{incident.id}/postmortem"
    ok = client.put(url, json={"body": "# one", "version": seen})
    assert ok.status_code == 200 and ok.get_json()["version"] > seen
    stale = client.put(url, json={"body": "# two", "version": seen})
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "stale_edit"
    assert client.get(url).get_json()["body"] == "# one"


@pytest.mark.parametrize("body", ["", "   ", "a\x00b"])
def test_empty_or_unstorable_body_is_refused(api, incident, agent, body):
    services.start(agent, incident, "en")
    db.session.commit()
    response = api("agent").put(f"/api/v1/incidents/{incident.id}/postmortem", json={"body": body})
    assert response.status_code == 422


def test_unknown_language_is_refused(api, incident):
    response = api("agent").put(f"/api/v1/incidents/{incident.id}/postmortem", json={"language": "fr"})
    assert response.status_code == 422
    assert services.for_incident(incident.id) is None


def test_no_postmortem_yet_is_404(client, login, api, incident):
    assert api("agent").get(f"/api/v1/incidents/{incident.id}/postmortem").status_code == 404
    login("agent")
    assert client.get(f"/incidents/{incident.id}/postmortem").status_code == 404


# --- publishing satisfies the closing rule ----------------------------------------------------

@pytest.mark.parametrize("grade_name", ["Red", "Orange"])
def test_required_postmortem_blocks_closing_until_published(make_incident, agent, lead, grade_name):
    incident = make_incident(agent, grade=grade_name)
    with pytest.raises(TransitionRefused) as refused:
        incident_services.change_status(lead, incident, Status.closed)
    assert f"A published postmortem is required for {grade_name} incidents." in refused.value.message
    db.session.rollback()
    pm = start_filled(agent, incident, "en")
    services.set_status(agent, pm, PostmortemStatus.in_review)
    db.session.commit()
    with pytest.raises(TransitionRefused):  # in review is not published
        incident_services.change_status(lead, incident, Status.closed)
    db.session.rollback()
    services.publish(lead, services.for_incident(incident.id))
    incident_services.change_status(lead, incident, Status.closed)
    db.session.commit()
    assert incident.status == Status.closed


def test_blue_closes_without_a_postmortem(make_incident, agent):
    incident = make_incident(agent, grade="Blue")
    incident_services.change_status(agent, incident, Status.closed)
    assert incident.status == Status.closed


def test_closing_on_the_web_shows_why_then_works_after_publishing(client, login, make_incident,
                                                                  agent, lead):
    incident = make_incident(agent, grade="Red", title="Customer data exposed")
    login("agent")
    form = {"status": "closed", "expected": "detected"}
    refused = client.post(f"/incidents/{incident.id}/status", data=form)
    assert refused.status_code == 409
    assert "A published postmortem is required for Red incidents." in text(refused)
    db.session.expire_all()
    assert incident_services.get_incident(incident.id).status == Status.detected

    publish_postmortem(lead, incident)
    closed = client.post(f"/incidents/{incident.id}/status", data=form)
    assert closed.status_code == 302
    db.session.expire_all()
    assert incident_services.get_incident(incident.id).status == Status.closed


def test_closing_over_the_api_shows_why_then_works_after_publishing(api, make_incident, agent):
    incident = make_incident(agent, grade="Orange")
    client, lead = api("agent"), api("lead")
    url = f"/api/v1/incidents/{incident.id}/status"
    refused = client.post(url, json={"status": "closed"})
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["problems"] == ["A published postmortem is required for Orange incidents."]

    assert client.put(f"/api/v1/incidents/{incident.id}/postmortem",
                      json={"language": "ko"}).status_code == 200
    pm = services.for_incident(incident.id)
    assert client.put(f"/api/v1/incidents/{incident.id}/postmortem", json={
        "body": filled(pm.body, "ko"), "version": pm.version}).status_code == 200
    assert client.post(url, json={"status": "closed"}).status_code == 409
    assert lead.post(f"/api/v1/incidents/{incident.id}/postmortem/publish").status_code == 200
    closed = client.post(url, json={"status": "closed"})
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"


def test_unpublishing_brings_the_rule_back(make_incident, agent, lead):
    incident = make_incident(agent, grade="Red")
    pm = publish_postmortem(lead, incident)
    services.set_status(lead, pm, PostmortemStatus.draft)
    db.session.commit()
    with pytest.raises(TransitionRefused):
        incident_services.change_status(lead, incident, Status.closed)
