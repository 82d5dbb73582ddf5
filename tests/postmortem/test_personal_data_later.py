"""Customers' personal data stays out of playbooks, search and exports, also when it arrives
late: tags are redacted, a customer recorded after publishing is scrubbed from the playbooks
and the index, and the marker reads in the text's language (issue 16, class 4)."""

from __future__ import annotations

import json

from app import redact, search
from app.extensions import db
from incidents import services as incident_services
from incidents.postmortem import playbook as making
from incidents.postmortem import services as pm_services
from incidents.services import CustomerData
from playbooks import services as playbook_services
from playbooks.models import TEXT_FIELDS
from tests.postmortem import ready_incident

LATE = {"name": "Choi Yuna", "contact": "010-4321-8765", "reference": "ORD-2031-5566"}
LETTER = ("Dear future team: switch the payment gateway to the backup provider first. "
          "Choi Yuna wrote from 010-4321-8765 about order ORD2031 5566; call her back.")


def _hits(query: str) -> list[str]:
    search.apply_pending()
    return [f"{h.type}:{h.id}" for h in search.search(query, per_page=50).hits]


def _everything(playbook) -> str:
    snapshot = playbook.snapshot()
    current = "\n".join(str(snapshot[f]) for f in ("title", *TEXT_FIELDS, "tags"))
    return current + "\n".join(json.dumps(v.content, ensure_ascii=False)
                               for v in playbook.versions)


def test_tags_holding_personal_data_are_dropped(lead):
    data = playbook_services.PlaybookData(
        title="Double charge", summary="Refund both", language="en",
        tags=["refund", "kim@example.com", "010-2345-6789", "Kim Minsu", "payment",
              "kim at example dot com"])
    playbook, removed = playbook_services.publish_new(lead, data, known=["Kim Minsu"])
    db.session.commit()
    assert playbook.tags == ["refund", "payment"]
    assert {r.kind for r in removed} >= {"email", "phone", "known"}


def test_tags_over_the_api_are_redacted(api):
    lead = api("lead")
    response = lead.post("/api/v1/playbooks", json={
        "title": "Late delivery", "language": "ko", "summary": "배송 지연 안내",
        "steps": "택배사에 배송 현황을 확인합니다.",
        "tags": ["delivery", "hong@example.org", "+82 10 1234 5678"]})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["tags"] == ["delivery"]
    search.apply_pending()
    for hit in search.search("delivery", per_page=10).hits:
        assert hit.tags == ["delivery"]


def test_a_customer_recorded_after_publishing_is_scrubbed_everywhere(agent, lead):
    incident = ready_incident(agent, lead, letter=LETTER)
    proposal = making.propose(incident)
    playbook, _removed, _created = making.make(lead, incident, proposal.data, proposal.target)
    db.session.commit()
    pm = pm_services.for_incident(incident.id)
    # Not a customer yet when published: the name and the order stay in the text.
    assert "Choi Yuna" in _everything(playbook)
    assert f"playbook:{playbook.id}" in _hits("Choi Yuna")

    incident_services.add_customer(agent, incident, CustomerData(**LATE))
    db.session.commit()

    text = _everything(playbook)
    for spelling in ("Choi Yuna", "Yuna", "4321", "8765", "ORD2031", "5566"):
        assert spelling not in text, spelling
    assert playbook.versions[-1].note  # the scrub is a version of its own
    for query in ("Choi Yuna", "Yuna Choi", "010-4321-8765", "ORD-2031-5566"):
        found = _hits(query)
        assert f"playbook:{playbook.id}" not in found, query
        assert f"postmortem:{pm.id}" not in found, query
    stored = [fields for fields in search.searcher().all_stored_fields()]
    assert not any("Yuna" in f.get("body", "") + f.get("title", "") for f in stored)
    exported = "\n".join(playbook_services.export_lines())
    assert "Yuna" not in exported and "4321" not in exported


def test_the_marker_reads_in_the_playbooks_language(lead):
    data = playbook_services.PlaybookData(
        title="배송 지연", summary="홍길동 고객님께 010-2345-6789로 연락했습니다.", language="ko")
    playbook, _removed = playbook_services.publish_new(lead, data, known=["홍길동"])
    db.session.commit()
    assert redact.marker_for("ko") in playbook.summary
    assert redact.MARKER not in playbook.summary
    english = playbook_services.PlaybookData(
        title="Late delivery", summary="We called Kim Minsu on 010-2345-6789.", language="en")
    playbook, _removed = playbook_services.publish_new(lead, english, known=["Kim Minsu"])
    db.session.commit()
    assert redact.MARKER in playbook.summary


def test_a_korean_postmortem_is_indexed_with_the_korean_marker(agent, lead, make_incident):
    incident = make_incident(actor=lead, title="결제 오류",
                             customers=[CustomerData(name="김민수", contact="010-1111-2222")])
    pm = pm_services.start(lead, incident, "ko")
    pm_services.save(lead, pm, "## 요약\n\n김 민수 고객님(010 - 1111 - 2222)께 사과드렸습니다.")
    pm_services.publish(lead, pm)
    db.session.commit()
    search.apply_pending()
    stored = [f for f in search.searcher().all_stored_fields() if f["key"] == f"postmortem:{pm.id}"]
    assert stored and redact.marker_for("ko") in stored[0]["body"]
    assert "민수" not in stored[0]["body"] and "1111" not in stored[0]["body"]
