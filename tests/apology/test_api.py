"""The apology JSON API: draft, versions, approve, sent and the check; 422 saves nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from incidents.apology import services
from incidents.apology.api import CheckOut, LetterOut
from incidents.apology.services import BODY_MAX
from tests.apology.test_drafts import documented_incident
from tests.conftest import SNAPSHOT_TABLES

TABLES = (*SNAPSHOT_TABLES, "compensations", "apology_letters", "apology_versions")


@pytest.fixture
def everything(app):
    """Every row of the core and apology tables, read on a separate connection."""
    def take() -> dict[str, list[tuple]]:
        with db.engine.connect() as conn:
            return {t: [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY 1, 2"))]
                    for t in TABLES}
    return take


@pytest.fixture
def incident(make_user, make_incident):
    return documented_incident(make_user, make_incident, "en")


@pytest.fixture
def agent(api):
    return api("agent")


def letter_out(response, status: int = 200) -> LetterOut:
    assert response.status_code == status, response.get_data(as_text=True)
    return LetterOut.model_validate(response.json)


def create(client, incident, audience="customer", language="en") -> LetterOut:
    body = {"audience": audience, "language": language}
    if audience == "customer":
        body["customer_id"] = incident.customers[0].id
    return letter_out(client.post(f"/api/v1/incidents/{incident.id}/apologies", json=body), 201)


def error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.json["error"]
    assert body["message"]
    if code:
        assert body["code"] == code
    return body


@pytest.mark.parametrize(("audience", "language"), [("customer", "en"), ("customer", "ko"),
                                                    ("public", "en"), ("public", "ko")])
def test_draft_returns_the_letter_with_signatories_and_findings(agent, incident, audience, language):
    out = create(agent, incident, audience, language)
    assert (out.audience.value, out.language, out.status, out.version) == (audience, language, "draft", 1)
    assert out.incident_id == incident.id
    assert out.customer_id == (incident.customers[0].id if audience == "customer" else None)
    assert [s.model_dump() for s in out.signatories] == [
        {"name": "Dana Cho", "title": "Head of Customer Experience", "email": "dana@example.com"}]
    assert "Dana Cho" in services.signature_block(out.body)  # printed where it is signed
    assert out.findings == []  # every customer-facing field filled
    fetched = letter_out(agent.get(f"/api/v1/apologies/{out.id}"))
    assert fetched == out


def test_put_saves_a_new_version_with_its_findings(agent, incident):
    out = create(agent, incident)
    body = out.body.replace("We have looked into why it happened.",
                            "We apologize if you experienced any inconvenience. We have looked "
                            "into why it happened.")
    v2 = letter_out(agent.put(f"/api/v1/apologies/{out.id}", json={"body": body, "version": 1}))
    assert v2.version == 2 and v2.body == body
    finding = next(f for f in v2.findings if f.code == "conditional_apology")
    assert finding.severity == "warning"
    assert "apologize if" in body[finding.span[0]:finding.span[1]]
    same = letter_out(agent.put(f"/api/v1/apologies/{out.id}", json={"body": body}))
    assert same.version == 2  # unchanged text saves nothing
    stale = agent.put(f"/api/v1/apologies/{out.id}", json={"body": body + "x", "version": 1})
    error(stale, 409, "stale_edit")


def test_putting_back_the_same_text_saves_nothing_and_keeps_approval(api, agent, incident):
    out = create(agent, incident)
    approved = letter_out(api("lead").post(f"/api/v1/apologies/{out.id}/approve", json={}))
    for body in (out.body, out.body.strip(), "  " + out.body.replace("\n", "\r\n") + "\n\n"):
        again = letter_out(agent.put(f"/api/v1/apologies/{out.id}", json={"body": body}))
        assert (again.version, again.status) == (1, "approved")
    assert approved.body == again.body


def test_put_changes_signatories(api, agent, incident):
    out = create(agent, incident)
    manager = api("manager", name="Hanna Jung", title="CEO", email="hanna@example.com").user
    body = out.body.rstrip("\n") + "\n\nHanna Jung\nCEO\n"
    v2 = letter_out(agent.put(f"/api/v1/apologies/{out.id}", json={
        "body": body, "signatory_emails": ["dana@example.com", manager.email]}))
    assert [s.name for s in v2.signatories] == ["Dana Cho", "Hanna Jung"]
    assert v2.findings == []
    cleared = letter_out(agent.put(f"/api/v1/apologies/{out.id}", json={
        "body": body, "signatory_emails": []}))
    assert cleared.signatories == [] and cleared.version == 3


def test_approve_and_sent(api, agent, incident):
    out = create(agent, incident)
    error(agent.post(f"/api/v1/apologies/{out.id}/approve", json={}), 403, "forbidden")
    lead = api("lead")
    approved = letter_out(lead.post(f"/api/v1/apologies/{out.id}/approve", json={}))
    assert approved.status == "approved" and approved.approved_by == lead.user.email
    assert approved.approved_at is not None
    error(agent.post(f"/api/v1/apologies/{out.id}/sent", json={"channel": "fax"}), 422)
    sent = letter_out(agent.post(f"/api/v1/apologies/{out.id}/sent", json={"channel": "email"}))
    assert (sent.status, sent.sent_channel) == ("sent", "email") and sent.sent_at is not None
    error(agent.put(f"/api/v1/apologies/{out.id}", json={"body": "new"}), 409)
    error(agent.post(f"/api/v1/apologies/{out.id}/sent", json={"channel": "email"}), 409)


def test_a_public_notice_needs_a_manager_and_errors_cannot_be_overridden(api, agent, incident,
                                                                        everything):
    out = create(agent, incident, "public")
    body = out.body.replace("Dana Cho, Head of Customer Experience\n", "The Management\n").replace(
        "contact Dana Cho (Head of Customer Experience) at dana@example.com", "write to us at "
        "help@example.com").replace("as the person who answers for it, I am", "we are")
    letter_out(agent.put(f"/api/v1/apologies/{out.id}", json={"body": body, "signatory_emails": []}))
    error(api("lead").post(f"/api/v1/apologies/{out.id}/approve", json={}), 403)
    manager = api("manager")
    error(manager.post(f"/api/v1/apologies/{out.id}/approve", json={}), 409)  # no signatory
    letter_out(agent.put(f"/api/v1/apologies/{out.id}", json={
        "body": body, "signatory_emails": ["dana@example.com"]}))
    before = everything()
    for payload in ({}, {"override_reason": "Board decision, see minutes."}):
        refused = error(manager.post(f"/api/v1/apologies/{out.id}/approve", json=payload), 409,
                        "conflict")
        assert refused["findings"] == ["collective_signature"]
        assert "Collective signature" in refused["message"]
    assert everything() == before  # refused: nothing approved, nothing on the timeline
    # Signed in the letter by the person chosen: the error is gone and it is approved.
    signed = body.replace("The Management\n", "Dana Cho, Head of Customer Experience\n")
    letter_out(agent.put(f"/api/v1/apologies/{out.id}", json={"body": signed}))
    assert letter_out(manager.post(f"/api/v1/apologies/{out.id}/approve", json={})).status == \
        "approved"


def warned(agent, incident) -> LetterOut:
    """A draft edited to apologise on a condition: a warning, not an error."""
    out = create(agent, incident)
    body = out.body.replace("That should never have happened to you, and I am truly sorry.",
                            "We apologize if this caused you any inconvenience.")
    v2 = letter_out(agent.put(f"/api/v1/apologies/{out.id}", json={"body": body}))
    assert [(f.code, f.severity) for f in v2.findings] == [("conditional_apology", "warning")], body
    return v2


def test_warnings_are_overridden_only_by_a_lead_with_a_reason(api, agent, incident, everything):
    out = warned(agent, incident)
    lead = api("lead")
    before = everything()
    # An agent cannot approve at all, reason or not; a lead needs a reason.
    error(agent.post(f"/api/v1/apologies/{out.id}/approve", json={"override_reason": "fine"}), 403)
    refused = error(lead.post(f"/api/v1/apologies/{out.id}/approve", json={}), 409)
    assert refused["findings"] == ["conditional_apology"]
    error(lead.post(f"/api/v1/apologies/{out.id}/approve", json={"override_reason": "   "}), 409)
    assert everything() == before
    approved = letter_out(lead.post(f"/api/v1/apologies/{out.id}/approve",
                                    json={"override_reason": "Legal asked for this wording."}))
    assert approved.status == "approved"
    assert approved.override_reason == "Legal asked for this wording."
    timeline = agent.get(f"/api/v1/incidents/{incident.id}").json["timeline"]
    assert any(e["kind"] == "apology_approved" and e["body"] == "Legal asked for this wording."
               for e in timeline)


def test_a_letter_with_an_error_cannot_be_approved_or_sent(api, agent, incident, everything):
    out = create(agent, incident)
    lead = api("lead")
    letter_out(lead.post(f"/api/v1/apologies/{out.id}/approve", json={}))
    # Approved, then a gap typed in: the letter returns to draft and cannot be approved.
    gap = out.body.replace("Dear Jiwoo Lee,", "Dear [customer's name],")
    v2 = letter_out(agent.put(f"/api/v1/apologies/{out.id}", json={"body": gap}))
    assert v2.status == "draft"
    assert ("placeholder_left", "error") in [(f.code, f.severity) for f in v2.findings]
    admin = api("admin")
    before = everything()
    for who in (lead, admin):
        refused = error(who.post(f"/api/v1/apologies/{out.id}/approve",
                                 json={"override_reason": "We will fill it by hand."}), 409)
        assert refused["findings"] == ["placeholder_left"]
    error(agent.post(f"/api/v1/apologies/{out.id}/sent", json={"channel": "email"}), 409)
    assert everything() == before


def test_a_letter_approved_before_errors_blocked_is_not_sent(api, agent, incident, everything):
    from incidents.apology.models import ApologyLetter
    out = create(agent, incident)
    letter_out(api("lead").post(f"/api/v1/apologies/{out.id}/approve", json={}))
    # As if approved with an override before errors blocked: its version carries an error.
    letter = db.session.get(ApologyLetter, out.id)
    letter.current.findings = [{"code": "no_named_signatory", "severity": "error",
                                "message": "No named signatory", "span": None}]
    db.session.commit()
    before = everything()
    refused = error(agent.post(f"/api/v1/apologies/{out.id}/sent", json={"channel": "email"}), 409)
    assert refused["findings"] == ["no_named_signatory"]
    assert everything() == before


def test_check_any_text(agent, api):
    response = agent.post("/api/v1/apologies/check", json={"text": (
        "이번 결제 오류로 불편을 느끼셨다면 사과드립니다. 3월 2일 결제 페이지에서 같은 주문이 두 번 "
        "결제되었습니다. 결제 서버 설정을 잘못 바꾼 것이 원인이었습니다. 두 번 결제된 금액은 모두 "
        "환불해 드렸습니다. 앞으로는 설정을 바꿀 때 두 사람이 확인하겠습니다. 문의는 고객센터"
        "(1588-0000)로 해 주십시오.\n\n임직원 일동"), "language": "ko"})
    assert response.status_code == 200
    out = CheckOut.model_validate(response.json)
    codes = [f.code for f in out.findings]
    assert "conditional_apology" in codes and "collective_signature" in codes
    # Any role may run the check; it saves nothing.
    viewer = api("viewer")
    assert viewer.post("/api/v1/apologies/check", json={"text": ""}).status_code == 200
    # Known signatories sharpen the signature rule.
    api("manager", name="Hanna Jung", title="CEO", email="hanna@example.com")
    text = "Hanna Jung\nCEO\n"
    plain = CheckOut.model_validate(agent.post("/api/v1/apologies/check", json={
        "text": text, "language": "en"}).json)
    assert "no_named_signatory" not in [f.code for f in plain.findings]
    other = CheckOut.model_validate(agent.post("/api/v1/apologies/check", json={
        "text": text, "language": "en", "signatory_emails": ["dana@example.com"]}).json)
    assert "no_named_signatory" not in [f.code for f in other.findings]  # unknown e-mail: heuristic


BAD_DRAFTS = [
    {"audience": "everyone", "language": "en"},
    {"audience": "public", "language": "fr"},
    {"audience": "public"},
    {"audience": "customer", "language": "en", "customer_id": "1"},
    {"audience": "customer", "language": "en"},
    {"audience": "customer", "language": "en", "customer_id": 999_999},
    {"audience": "public", "language": "en", "customer_id": 1},
    {"audience": "public", "language": "en", "extra": True},
    {"audience": None, "language": "en"},
]


@pytest.mark.parametrize("payload", BAD_DRAFTS)
def test_invalid_drafts_are_422_and_save_nothing(agent, incident, everything, payload):
    if payload.get("customer_id") == 1:
        payload = {**payload, "customer_id": incident.customers[0].id}
    before = everything()
    error(agent.post(f"/api/v1/incidents/{incident.id}/apologies", json=payload), 422,
          "validation_failed")
    assert everything() == before


def test_drafts_need_an_agent_and_an_incident(api, agent, incident, everything):
    viewer = api("viewer")
    before = everything()
    error(viewer.post(f"/api/v1/incidents/{incident.id}/apologies",
                      json={"audience": "public", "language": "en"}), 403)
    error(agent.post("/api/v1/incidents/999999/apologies",
                     json={"audience": "public", "language": "en"}), 404)
    assert everything() == before


@pytest.mark.parametrize("payload", [
    {"body": ""},
    {"body": "x" * (BODY_MAX + 1)},
    {"body": "nul \x00 byte"},
    {"body": 42},
    {},
    {"body": "ok", "signatory_emails": ["not-an-email"]},
    {"body": "ok", "signatory_emails": ["nobody@example.com"]},
    {"body": "ok", "signatory_emails": "dana@example.com"},
    {"body": "ok", "signatory_emails": ["viewer@example.com"]},
    {"body": "ok", "version": "1"},
    {"body": "ok", "surprise": 1},
])
def test_invalid_edits_are_422_and_save_nothing(api, agent, incident, everything, payload):
    api("viewer", email="viewer@example.com")
    out = create(agent, incident)
    before = everything()
    error(agent.put(f"/api/v1/apologies/{out.id}", json=payload), 422, "validation_failed")
    assert everything() == before


@pytest.mark.parametrize("payload", [
    {"text": "x" * (BODY_MAX + 1)},
    {"text": "hello", "language": "de"},
    {},
    {"text": None},
    {"text": "hello", "signatory_emails": ["nope"]},
])
def test_invalid_checks_are_422(agent, payload):
    error(agent.post("/api/v1/apologies/check", json=payload), 422, "validation_failed")


def test_invalid_approvals_and_sends_save_nothing(api, agent, incident, everything):
    out = create(agent, incident)
    lead = api("lead")
    before = everything()
    error(lead.post(f"/api/v1/apologies/{out.id}/approve", json={"override_reason": 5}), 422)
    error(lead.post(f"/api/v1/apologies/{out.id}/approve", json={"override_reason": "a\x00b"}), 422)
    error(agent.post(f"/api/v1/apologies/{out.id}/sent", json={}), 422)
    error(agent.post(f"/api/v1/apologies/{out.id}/sent", json={"channel": "email"}), 409)
    error(lead.post("/api/v1/apologies/999999/approve", json={}), 404)
    assert everything() == before


def test_check_says_where_each_part_of_a_good_apology_is(agent):
    from incidents.apology.check import ELEMENTS

    text = ("Dear Jiwoo Lee,\n\nI am truly sorry that your order was charged twice on March 2. "
            "You will receive a refund of KRW 20,000.\n")
    response = agent.post("/api/v1/apologies/check", json={"text": text, "language": "en"})
    assert response.status_code == 200
    out = CheckOut.model_validate(response.json)
    assert set(response.json["elements"]) == set(ELEMENTS)
    apology = [text[s:e] for s, e in out.elements.apology]
    assert any("I am truly sorry" in sentence for sentence in apology)
    remedy = [text[s:e] for s, e in out.elements.remedy]
    assert remedy == ["You will receive a refund of KRW 20,000."]
    assert out.elements.contact == [] and "missing_contact" not in [f.code for f in out.findings]
    empty = agent.post("/api/v1/apologies/check", json={"text": ""}).json
    assert empty["elements"] == dict.fromkeys(ELEMENTS, [])
