"""Drafts written from the incident's facts: clean when the incident is fully documented, and
each removed part (cause, remedy, signatory, prevention) is caught by the check, in ko and en."""

from __future__ import annotations

import pytest

from app.extensions import db
from incidents import services as incident_services
from incidents.apology import services
from incidents.apology.check import ERROR
from incidents.apology.models import Audience
from incidents.compensation import services as comp_services
from incidents.compensation.models import CompStatus, CompType
from incidents.models import Status

FACTS = {
    "ko": dict(title="결제 페이지 중복 청구", impact="같은 주문이 두 번 결제되었습니다",
               cause="결제 서버 설정 변경 오류", resolution="설정을 되돌리고 중복 결제 감지 알림을 추가했습니다",
               customer=incident_services.CustomerData(
                   name="이지우", contact="jiwoo@example.com", reference="ORD-1001",
                   impact="3월 2일 주문 금액 20,000원이 두 번 결제되었습니다"),
               owner=dict(name="김민지", title="고객경험팀장", email="minji@example.com")),
    "en": dict(title="Checkout charged customers twice", impact="Orders were charged twice",
               cause="a faulty configuration change on the payment server",
               resolution="We rolled back the configuration and added an alert for duplicate charges.",
               customer=incident_services.CustomerData(
                   name="Jiwoo Lee", contact="jiwoo.lee@example.com", reference="ORD-1002",
                   impact="Your order of March 2 was charged twice."),
               owner=dict(name="Dana Cho", title="Head of Customer Experience",
                          email="dana@example.com")),
}


def documented_incident(make_user, make_incident, language: str = "ko", *, comp_status: str = "approved",
                        grade: str = "Blue", contact: str | None = None, owner=None):
    """An incident with impact, cause, resolution, mitigated and resolved times, one affected
    customer with impact, and an approved (or paid) refund for that customer."""
    facts = FACTS[language]
    owner = owner or make_user("lead", **facts["owner"])
    customer = facts["customer"]
    if contact is not None:
        customer = incident_services.CustomerData(customer.name, contact, customer.reference,
                                                  customer.impact)
    incident = make_incident(owner, grade=grade, title=facts["title"], impact=facts["impact"],
                             cause=facts["cause"], resolution=facts["resolution"],
                             affected_count=120, customers=[customer])
    incident_services.change_status(owner, incident, Status.resolved)  # sets mitigated too
    comp = comp_services.propose(owner, incident, comp_type=CompType.refund, amount=20_000,
                                 customer_id=incident.customers[0].id)
    if comp.status == CompStatus.proposed:
        comp_services.approve(make_user("admin"), comp)
    if comp_status == "paid":
        comp_services.pay(owner, comp)
    db.session.commit()
    assert incident.mitigated_at and incident.resolved_at
    return incident


def draft(actor, incident, audience: str, language: str):
    letter = services.draft(actor, incident, audience=Audience(audience), language=language,
                            customer_id=incident.customers[0].id if audience == "customer" else None)
    db.session.commit()
    return letter


def recheck(letter, text: str) -> list[str]:
    """Error codes for `text` checked as the service checks a saved version."""
    found = services.findings_for(text, letter.language, letter.current.signatories)
    return [f["code"] for f in found if f["severity"] == ERROR]


# --- where each part sits in the four templates ---------------------------------------------

CAUSE_LINE = {"ko": "이번 일의 원인은", "en": "The cause was"}
REMEDY_HEADING = {("ko", "customer"): "## 고객님께 드리는 보상",
                  ("ko", "public"): "## 피해를 입으신 고객님께 드리는 보상",
                  ("en", "customer"): "## What you will receive",
                  ("en", "public"): "## What affected customers receive"}
PREVENTION_HEADING = {"ko": "## 재발을 막기 위해 바꾸는 점",
                      "en": "## What will change so it does not happen again"}
CLOSING = {("ko", "customer"): "다시 한번 깊이 사과드립니다.", ("ko", "public"): "다시 한번 깊이 사과드립니다.",
           ("en", "customer"): "With my sincere apologies,", ("en", "public"): "With our sincere apologies,"}


def drop_line(text: str, prefix: str) -> str:
    lines = text.splitlines()
    kept = [line for line in lines if not line.startswith(prefix)]
    assert len(kept) == len(lines) - 1, prefix
    return "\n".join(kept) + "\n"


def drop_section(text: str, heading: str) -> str:
    """Remove a heading and the list under it."""
    lines = text.splitlines()
    start = lines.index(heading)
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith("- ")):
        end += 1
    assert any(line.startswith("- ") for line in lines[start:end])
    return "\n".join(lines[:start] + lines[end:]) + "\n"


def drop_signature(text: str, closing: str) -> str:
    head, sep, _signature = text.partition(closing + "\n")
    assert sep and _signature.strip()
    return head + closing + "\n"


REMOVALS = {
    "missing_cause": lambda text, lang, aud: drop_line(text, CAUSE_LINE[lang]),
    "missing_remedy": lambda text, lang, aud: drop_section(text, REMEDY_HEADING[lang, aud]),
    "no_named_signatory": lambda text, lang, aud: drop_signature(text, CLOSING[lang, aud]),
    "missing_prevention": lambda text, lang, aud: drop_section(text, PREVENTION_HEADING[lang]),
}


@pytest.mark.parametrize("comp_status", ["approved", "paid"])
@pytest.mark.parametrize("audience", ["customer", "public"])
@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_fully_documented_incident_drafts_without_errors(make_user, make_incident, language,
                                                           audience, comp_status):
    incident = documented_incident(make_user, make_incident, language, comp_status=comp_status)
    letter = draft(incident.owner, incident, audience, language)
    body = letter.current.body
    assert [f for f in letter.current.findings if f["severity"] == ERROR] == [], body
    assert letter.current.findings == []
    facts = FACTS[language]
    # Written from the facts: cause, resolution, harm, the signatory, the owner as contact.
    for fact in (facts["cause"], facts["resolution"], facts["owner"]["name"],
                 facts["owner"]["title"], facts["owner"]["email"]):
        assert fact in body
    assert "[" not in body
    if audience == "customer":
        assert facts["customer"].name in body and facts["customer"].impact in body
        assert "20,000" in body  # this customer's own refund
    else:
        assert "20,000" not in body and facts["customer"].name not in body  # nobody's amount in public
        assert "120" in body


@pytest.mark.parametrize("code", sorted(REMOVALS))
@pytest.mark.parametrize("audience", ["customer", "public"])
@pytest.mark.parametrize("language", ["ko", "en"])
def test_removing_a_part_of_the_draft_raises_its_code(make_user, make_incident, language, audience,
                                                      code):
    incident = documented_incident(make_user, make_incident, language)
    letter = draft(incident.owner, incident, audience, language)
    assert recheck(letter, letter.current.body) == []
    edited = REMOVALS[code](letter.current.body, language, audience)
    assert edited != letter.current.body
    assert recheck(letter, edited) == [code], edited
    # The same through the service: the saved version carries the finding.
    services.edit(incident.owner, letter, edited)
    db.session.commit()
    assert code in [f["code"] for f in letter.current.findings]


@pytest.mark.parametrize("language", ["ko", "en"])
def test_an_undocumented_incident_drafts_visible_placeholders(make_user, make_incident, language):
    owner = make_user("lead", **FACTS[language]["owner"])
    incident = make_incident(owner, title="Late parcels", customers=[
        incident_services.CustomerData(name="Sam")])
    letter = draft(owner, incident, "customer", language)
    codes = [f["code"] for f in letter.current.findings]
    assert "placeholder_left" in codes
    assert "missing_remedy" in codes
    placeholders = [letter.current.body[s:e] for s, e in
                    (f["span"] for f in letter.current.findings if f["code"] == "placeholder_left")]
    cause = "[원인 확인 중]" if language == "ko" else "[cause not yet known]"
    assert cause in placeholders
    assert all(p.startswith("[") and p.endswith("]") for p in placeholders)


@pytest.mark.parametrize("status", ["proposed", "cancelled"])
def test_only_approved_or_paid_compensation_is_offered(make_user, make_incident, status):
    incident = documented_incident(make_user, make_incident, "en")
    admin = make_user("admin")
    comp = comp_services.propose(admin, incident, comp_type=CompType.coupon, amount=3_000_000,
                                 customer_id=incident.customers[0].id, approve=False)
    assert comp.status == CompStatus.proposed  # above any self-serve limit
    if status == "cancelled":
        comp_services.cancel(admin, comp, "duplicate")
    db.session.commit()
    body = draft(incident.owner, incident, "customer", "en").current.body
    assert "A refund" in body
    assert "coupon" not in body


def test_the_remedies_of_another_customer_stay_out_of_a_personal_letter(make_user, make_incident):
    incident = documented_incident(make_user, make_incident, "ko")
    other = incident_services.add_customer(incident.owner, incident, incident_services.CustomerData(
        name="박하늘", contact="010-1111-2222", impact="결제 지연"))
    db.session.commit()
    letter = draft(incident.owner, incident, "customer", "ko")
    assert "환불" in letter.current.body
    second = services.draft(incident.owner, incident, audience=Audience.customer, language="ko",
                            customer_id=other.id)
    db.session.commit()
    assert "환불 ₩20,000" not in second.current.body
    assert "missing_remedy" in [f["code"] for f in second.current.findings]
