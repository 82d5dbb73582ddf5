"""Published work is not rewritten by anyone who may draft it: changing a published postmortem
takes the role that publishes it, the published text stays (for readers, search and playbooks)
until the change is published, and every version is kept (issue 16, class 5)."""

from __future__ import annotations

import pytest

from app import search
from app.errors import Forbidden
from app.extensions import db
from incidents.postmortem import services
from incidents.postmortem.models import PostmortemStatus, PostmortemVersion

FIRST = "## Summary\n\nThe card gateway certificate expired; payments failed for 40 minutes.\n"
REWRITE = "## Summary\n\nNothing happened. Everything was fine.\n"
FIX = "## Summary\n\nThe card gateway certificate expired; payments failed for 42 minutes.\n"


@pytest.fixture
def published(make_user, make_incident):
    lead = make_user("lead")
    incident = make_incident(actor=lead, title="Card payments fail")
    pm = services.start(lead, incident, "en")
    services.save(lead, pm, FIRST)
    services.publish(lead, pm)
    db.session.commit()
    search.apply_pending()
    return pm


def _searchable(pm) -> str:
    search.apply_pending()
    found = [f for f in search.searcher().all_stored_fields() if f["key"] == f"postmortem:{pm.id}"]
    return found[0]["body"] if found else ""


def test_an_agents_put_on_a_published_postmortem_is_refused(api, published, snapshot):
    agent = api("agent")
    incident_id = published.incident_id
    response = agent.put(f"/api/v1/incidents/{incident_id}/postmortem",
                         json={"body": REWRITE})
    assert response.status_code == 403
    assert "lead" in response.get_json()["error"]["message"].lower()
    db.session.expire_all()
    pm = services.for_incident(incident_id)
    assert pm.body == FIRST and pm.published_body == FIRST
    assert "40 minutes" in _searchable(pm)
    assert "Nothing happened" not in _searchable(pm)


def test_an_agent_on_the_web_reads_it_without_a_form(client, login, published):
    login("agent")
    page = client.get(f"/incidents/{published.incident_id}/postmortem")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<textarea" not in text and "Only a lead or above may change a published" in text
    response = client.post(f"/incidents/{published.incident_id}/postmortem",
                           data={"body": REWRITE, "version": str(published.version)})
    assert response.status_code == 403
    db.session.expire_all()
    assert services.for_incident(published.incident_id).body == FIRST


def test_a_leads_change_waits_for_publishing_and_every_version_stays(api, published):
    lead = api("lead")
    url = f"/api/v1/incidents/{published.incident_id}/postmortem"
    saved = lead.put(url, json={"body": FIX})
    assert saved.status_code == 200, saved.get_json()
    body = saved.get_json()
    assert body["status"] == "published" and body["unpublished_changes"] is True
    assert body["body"].strip() == FIX.strip() and body["published_body"] == FIRST
    assert body["published_version"] == 2  # version 1 is the template, 2 the first text
    assert "40 minutes" in _searchable(published)  # search still has what was published

    republished = lead.post(f"{url}/publish")
    assert republished.status_code == 200, republished.get_json()
    body = republished.get_json()
    assert body["unpublished_changes"] is False
    assert body["published_body"].strip() == FIX.strip()
    assert body["published_version"] == 3
    assert "42 minutes" in _searchable(published)

    again = lead.post(f"{url}/publish")  # a retried publish changes nothing
    assert again.status_code == 200 and again.get_json()["published_version"] == 3
    numbers = db.session.scalars(db.select(PostmortemVersion.number).where(
        PostmortemVersion.postmortem_id == published.id).order_by(PostmortemVersion.number)).all()
    assert numbers == [1, 2, 3]
    texts = [services.get_version(published, n).body for n in numbers]
    assert [t.strip() for t in texts[1:]] == [FIRST.strip(), FIX.strip()]


def test_the_service_refuses_an_agent_and_keeps_the_text(make_user, published):
    agent = make_user("agent")
    with pytest.raises(Forbidden):
        services.save(agent, published, REWRITE)
    db.session.rollback()
    assert published.body == FIRST and published.status == PostmortemStatus.published


def test_drafts_are_still_written_by_agents_and_versioned(make_user, make_incident):
    agent = make_user("agent")
    incident = make_incident(actor=agent)
    pm = services.start(agent, incident, "en")
    services.save(agent, pm, FIRST)
    services.save(agent, pm, FIX)
    db.session.commit()
    assert [v.number for v in services.versions(pm)] == [3, 2, 1]
    assert pm.published_body is None and not pm.unpublished_changes


def test_versions_on_the_web(client, login, published, make_user):
    lead = login("lead")
    services.save(lead, published, FIX)
    db.session.commit()
    page = client.get(f"/incidents/{published.incident_id}/postmortem").get_data(as_text=True)
    assert "Saved changes are waiting to be published" in page
    assert "Publish the changes" in page
    old = client.get(f"/incidents/{published.incident_id}/postmortem/versions/2")
    assert old.status_code == 200 and "40 minutes" in old.get_data(as_text=True)
    assert client.get(f"/incidents/{published.incident_id}/postmortem/versions/99"
                      ).status_code == 404
    response = client.post(f"/incidents/{published.incident_id}/postmortem/status",
                           data={"status": "published"})
    assert response.status_code == 302
    db.session.expire_all()
    assert services.for_incident(published.incident_id).published_body == FIX
