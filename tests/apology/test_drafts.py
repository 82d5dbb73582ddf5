"""Drafts written for the customer from the incident's customer-facing fields: clean when they
are filled, honest when the cause is still being investigated, never carrying staff's own words,
and each removed part (cause, remedy, signatory, prevention) caught by the check, in ko and en."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Role
from incidents import services as incident_services
from incidents.apology import services
from incidents.apology.models import Audience
from incidents.compensation import services as comp_services
from incidents.compensation.models import CompStatus, CompType
from incidents.models import Status

# Staff's own words (title, description, impact, cause, resolution) and what customers are told
# (the public_* fields): a draft takes only the latter.
FACTS = {
    "ko": dict(title="PAY-7 결제 서버 플래그 롤백 건", impact="중복 결제 120건, CS 인입 급증",
               cause="deploy 플래그 dup_guard 누락", resolution="플래그 롤백, 알람 추가 (담당: 운영팀)",
               public=dict(
                   public_summary="결제 페이지에서 주문하신 금액이 두 번 결제되었습니다.",
                   public_harm="같은 금액이 두 번 빠져나가 카드 내역을 확인하시고 저희에게 연락까지 "
                               "하셔야 했습니다.",
                   public_cause="결제 서버의 설정을 바꾸는 과정에서 같은 결제 요청이 두 번 처리되었습니다.",
                   public_fix="설정을 바로 되돌렸고, 두 번 결제된 금액은 모두 취소했습니다.",
                   public_change="결제 설정을 바꿀 때는 반드시 두 사람이 확인하도록 했습니다.\n"
                                 "- 같은 결제가 두 번 처리되면 몇 분 안에 알림이 오도록 했습니다."),
               customer=incident_services.CustomerData(
                   name="이지우", contact="jiwoo@example.com", reference="ORD-1001",
                   impact="내부 메모: 20,000원 2회 승인"),
               owner=dict(name="김민지", title="고객경험팀장", email="minji@example.com")),
    "en": dict(title="PAY-7 rollback of the payment server flag", impact="120 double charges, CS spike",
               cause="dup_guard flag missing from the deploy",
               resolution="Flag rolled back, alarm added (owner: ops)",
               public=dict(
                   public_summary="When you paid for your order, our checkout page charged your card twice.",
                   public_harm="The same amount left your account twice, and you had to check "
                               "your statement and contact us to get it back.",
                   public_cause="A change to the settings of our payment server made it process "
                                "the same payment twice.",
                   public_fix="We undid the change that morning and cancelled every second charge.",
                   public_change="Every change to the payment settings is now checked by a second "
                                 "engineer.\n- An alert now warns us within minutes when a payment is "
                                 "charged twice."),
               customer=incident_services.CustomerData(
                   name="Jiwoo Lee", contact="jiwoo.lee@example.com", reference="ORD-1002",
                   impact="Internal: two captures of 20000"),
               owner=dict(name="Dana Cho", title="Head of Customer Experience",
                          email="dana@example.com")),
}
# Staff's words that must never reach a customer's letter.
INTERNAL = ("title", "impact", "cause", "resolution")


def documented_incident(make_user, make_incident, language: str = "ko", *, comp_status: str = "approved",
                        grade: str = "Blue", contact: str | None = None, owner=None, **public):
    """An incident with internal impact, cause and resolution, every customer-facing field
    filled (overridden by `public`), mitigated and resolved times, one affected customer, and an
    approved (or paid) refund for that customer."""
    facts = FACTS[language]
    owner = owner or make_user("lead", **facts["owner"])
    customer = facts["customer"]
    if contact is not None:
        customer = incident_services.CustomerData(customer.name, contact, customer.reference,
                                                  customer.impact)
    incident = make_incident(owner, grade=grade, title=facts["title"], impact=facts["impact"],
                             cause=facts["cause"], resolution=facts["resolution"],
                             affected_count=120, customers=[customer],
                             **{**facts["public"], **public})
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


def codes_of(letter, text: str) -> list[str]:
    """The check's codes for `text`, checked as the service checks a saved version."""
    return [f["code"] for f in services.findings_for(text, letter.language,
                                                     letter.current.signatories)]


def pending_cause(incident_kw: dict | None = None) -> dict:
    """Customer-facing fields for a cause still under investigation, told within a week."""
    from app.timeutil import utcnow
    return dict(public_cause="", public_cause_due=utcnow().date() + timedelta(days=7),
                **(incident_kw or {}))


# --- where each part sits in the four templates ---------------------------------------------

CAUSE_OPENING = {"ko": "이번 일의 원인을 확인했습니다.", "en": "We have looked into why it happened."}
REMEDY_OPENING = {("ko", "customer"): "피해에 대한 보상으로", ("ko", "public"): "피해를 입으신 고객님께는",
                  ("en", "customer"): "To make up for it,", ("en", "public"): "Customers who were affected"}
CHANGES_OPENING = {"ko": "같은 일이 다시 일어나지 않도록", "en": "So that this does not happen again"}
CLOSING = {("ko", "customer"): "다시 한번 깊이 사과드립니다.", ("ko", "public"): "다시 한번 깊이 사과드립니다.",
           ("en", "customer"): "With my sincere apologies,", ("en", "public"): "With my sincere apologies,"}


def drop_paragraph(text: str, opening: str) -> str:
    """Remove the paragraph that starts with `opening`, and a list that follows it."""
    paragraphs = text.split("\n\n")
    at = next(i for i, p in enumerate(paragraphs) if p.startswith(opening))
    end = at + 1
    while end < len(paragraphs) and paragraphs[end].startswith("- "):
        end += 1
    return "\n\n".join(paragraphs[:at] + paragraphs[end:])


def drop_signature(text: str, closing: str) -> str:
    head, sep, signature = text.partition(closing + "\n")
    assert sep and signature.strip()
    return head + closing + "\n"


REMOVALS = {
    "missing_cause": lambda text, lang, aud: drop_paragraph(text, CAUSE_OPENING[lang]),
    "missing_remedy": lambda text, lang, aud: drop_paragraph(text, REMEDY_OPENING[lang, aud]),
    "no_named_signatory": lambda text, lang, aud: drop_signature(text, CLOSING[lang, aud]),
    "missing_prevention": lambda text, lang, aud: drop_paragraph(text, CHANGES_OPENING[lang]),
}


@pytest.mark.parametrize("comp_status", ["approved", "paid"])
@pytest.mark.parametrize("audience", ["customer", "public"])
@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_fully_told_incident_drafts_a_letter_without_findings(make_user, make_incident, language,
                                                                audience, comp_status):
    incident = documented_incident(make_user, make_incident, language, comp_status=comp_status)
    letter = draft(incident.owner, incident, audience, language)
    body = letter.current.body
    assert letter.current.findings == [], body
    facts = FACTS[language]
    for told in facts["public"].values():
        for line in told.splitlines():
            assert line.lstrip("- ") in body
    for fact in (facts["owner"]["name"], facts["owner"]["title"], facts["owner"]["email"]):
        assert fact in body
    # Staff's own words stay with staff.
    for name in INTERNAL:
        assert facts[name] not in body
    assert facts["customer"].impact not in body
    assert "[" not in body and "항목" not in body
    if audience == "customer":
        assert facts["customer"].name in body
        own = {"ko": "20,000원을 환불해", "en": "a refund of KRW 20,000"}[language]
        assert own in body  # this customer's own refund, as a reader of the language writes it
    else:
        assert "20,000" not in body and facts["customer"].name not in body  # nobody's amount in public
        assert "120" in body


def test_korean_drafts_are_prose_in_the_formal_style_with_korean_dates(make_user, make_incident):
    incident = documented_incident(make_user, make_incident, "ko", comp_status="paid")
    body = draft(incident.owner, incident, "customer", "ko").current.body
    prose = [line for line in body.splitlines()[1:] if line.strip() and not line.startswith("- ")]
    # No "항목: 값" lines: every line of prose is a sentence in 합쇼체, or the signature.
    signature = "고객경험팀장 김민지 드림"
    assert prose[-1] == signature
    for line in prose[:-1]:
        assert ": " not in line, line
        assert line.rstrip(".").endswith(("니다", "니까", "시오", "세요")), line
    # Dates as a Korean reader writes them: "12월 2일 오후 10시 36분", never "2026. 12. 2." or "PM".
    assert "월 " in body and "일 오" in body and "시" in body
    assert not any(mark in body for mark in ("AM", "PM", "₩", ". 12."))
    assert "20,000원을 환불해 드렸습니다" in body  # paid: said as done, with its day


def test_amounts_with_their_particles_and_units(app):
    from incidents.apology import drafting
    assert drafting.amount(500_000, "KRW", "ko") == "500,000원"
    assert drafting.amount(500_000, "KRW", "en") == "KRW 500,000"
    assert drafting.amount(1999, "USD", "en") == "USD 19.99"
    assert drafting.josa("500,000원", "을", "를") == "500,000원을"
    assert drafting.josa("할인 쿠폰", "으로", "로") == "할인 쿠폰으로"
    assert drafting.josa("적립금", "으로", "로") == "적립금으로"
    assert drafting.josa("환불", "으로", "로") == "환불로"  # ㄹ takes 로
    assert drafting.josa("이용 기간 연장", "과", "와") == "이용 기간 연장과"


@pytest.mark.parametrize("audience", ["customer", "public"])
@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_cause_under_investigation_is_told_honestly_with_its_date(make_user, make_incident,
                                                                   language, audience):
    incident = documented_incident(make_user, make_incident, language, **pending_cause())
    letter = draft(incident.owner, incident, audience, language)
    body = letter.current.body
    due = incident.public_cause_due
    promise = {"ko": f"원인은 아직 확인 중이며 {due.month}월 {due.day}일까지 알려 드리겠습니다.",
               "en": f"we will tell you by {due.strftime('%B')} {due.day}, {due.year}."}[language]
    assert promise in body
    assert "[" not in body
    found = [f["code"] for f in letter.current.findings]
    assert "contradiction" not in found and "missing_cause" not in found, body
    assert found == [], body


@pytest.mark.parametrize("language", ["ko", "en"])
def test_claiming_a_cause_next_to_a_pending_one_is_a_contradiction(make_user, make_incident, language):
    incident = documented_incident(make_user, make_incident, language, **pending_cause())
    letter = draft(incident.owner, incident, "customer", language)
    claim = {"ko": "이번 일의 원인은 결제 서버 설정 변경 오류입니다.",
             "en": "The cause was a faulty configuration change on the payment server."}[language]
    edited = letter.current.body.replace("\n\n", f"\n\n{claim}\n\n", 3)
    assert "contradiction" in codes_of(letter, edited), edited
    services.edit(incident.owner, letter, edited)
    db.session.commit()
    assert "contradiction" in services.error_codes(letter.current)


# Removals the classifier does not notice yet (model of 2026-12-02 14:28 UTC): a sentence left
# in the letter is misjudged as the removed part (a contact line as a remedy, what happened as
# a cause, a contact line naming the owner as a signature). Reported to the check's owner;
# strict, so that the mark goes when the check learns them.
MISJUDGED = {("ko", "customer", "missing_remedy"), ("ko", "public", "no_named_signatory"),
             ("en", "customer", "missing_cause"), ("en", "public", "missing_prevention"),
             ("en", "public", "no_named_signatory")}


def _removal_cases():
    for language in ("ko", "en"):
        for audience in ("customer", "public"):
            for code in sorted(REMOVALS):
                marks = [pytest.mark.xfail(strict=True, reason="the check misjudges a sentence left "
                                           "in the letter")] \
                    if (language, audience, code) in MISJUDGED else []
                yield pytest.param(language, audience, code, marks=marks,
                                   id=f"{language}-{audience}-{code}")


@pytest.mark.parametrize(("language", "audience", "code"), list(_removal_cases()))
def test_removing_a_part_of_the_draft_raises_its_code(make_user, make_incident, language, audience,
                                                      code):
    incident = documented_incident(make_user, make_incident, language)
    letter = draft(incident.owner, incident, audience, language)
    assert codes_of(letter, letter.current.body) == []
    edited = REMOVALS[code](letter.current.body, language, audience)
    assert edited != letter.current.body
    assert code in codes_of(letter, edited), edited
    # The same through the service: the saved version carries the finding.
    services.edit(incident.owner, letter, edited)
    db.session.commit()
    assert code in [f["code"] for f in letter.current.findings]


@pytest.mark.parametrize("language", ["ko", "en"])
def test_an_incident_with_nothing_told_drafts_marked_placeholders_that_block(make_user, make_incident,
                                                                            language):
    owner = make_user("lead", **FACTS[language]["owner"])
    incident = make_incident(owner, title="Late parcels", impact="3 depots late",
                             cause="driver shortage", customers=[
                                 incident_services.CustomerData(name="Sam")])
    letter = draft(owner, incident, "customer", language)
    body = letter.current.body
    assert "Late parcels" not in body and "driver shortage" not in body and "3 depots" not in body
    codes = [f["code"] for f in letter.current.findings]
    assert "placeholder_left" in services.error_codes(letter.current)
    placeholders = [body[s:e] for s, e in
                    (f["span"] for f in letter.current.findings if f["code"] == "placeholder_left")]
    cause = {"ko": "[원인, 또는 원인을 알려 드릴 날짜를 입력해 주세요]",
             "en": "[fill in the cause, or the date by which you will tell them]"}[language]
    assert cause in placeholders, (placeholders, codes)
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
    assert "a refund of KRW 20,000" in body
    assert "coupon" not in body


def test_the_remedies_of_another_customer_stay_out_of_a_personal_letter(make_user, make_incident):
    incident = documented_incident(make_user, make_incident, "ko")
    other = incident_services.add_customer(incident.owner, incident, incident_services.CustomerData(
        name="박하늘", contact="010-1111-2222", impact="결제 지연"))
    db.session.commit()
    letter = draft(incident.owner, incident, "customer", "ko")
    assert "20,000원을 환불해" in letter.current.body
    second = services.draft(incident.owner, incident, audience=Audience.customer, language="ko",
                            customer_id=other.id)
    db.session.commit()
    assert "20,000원" not in second.current.body
    assert "missing_remedy" in [f["code"] for f in second.current.findings] or \
        "placeholder_left" in services.error_codes(second.current)


# --- who signs -----------------------------------------------------------------------------------

def signature(letter) -> str:
    return letter.current.body.rstrip("\n").rpartition("\n\n")[2]


def test_a_red_case_owned_by_an_agent_is_signed_by_a_lead(make_user, make_incident):
    agent = make_user("agent", name="Junior Agent", title="Support agent")
    lead = make_user("lead", name="Mina Park", title="Support lead")
    incident = documented_incident(make_user, make_incident, "en", grade="Red", owner=agent)
    letter = draft(agent, incident, "customer", "en")
    assert [s["user_id"] for s in letter.current.signatories] == [lead.id]
    assert "Mina Park\nSupport lead" in signature(letter)
    assert "Junior Agent" not in letter.current.body


def test_a_red_public_notice_prints_the_manager_and_the_owner(make_user, make_incident):
    manager = make_user("manager", name="Hanna Jung", title="Head of Operations")
    incident = documented_incident(make_user, make_incident, "ko", grade="Red")
    letter = draft(incident.owner, incident, "public", "ko")
    assert [s["user_id"] for s in letter.current.signatories] == [manager.id, incident.owner.id]
    assert signature(letter) == "Head of Operations Hanna Jung\n고객경험팀장 김민지"
    assert "이 일을 책임지는 저희가 머리 숙여 사과드립니다." in letter.current.body  # both speak
    assert services.approval_problems(letter) == []
    assert letter.current.findings == [], letter.current.body


def test_a_high_compensation_is_answered_for_by_its_approver(make_user, make_incident):
    incident = documented_incident(make_user, make_incident, "en")
    admin = make_user("admin", name="Hanna Jung", title="Head of Operations")
    comp = comp_services.propose(incident.owner, incident, comp_type=CompType.cash, amount=5_000_000,
                                 customer_id=incident.customers[0].id, approve=False)
    comp_services.approve(admin, comp)
    db.session.commit()
    assert comp.required_role.rank > Role.lead.rank  # above what the owner (a lead) may approve
    letter = draft(incident.owner, incident, "customer", "en")
    assert letter.current.signatories[0]["user_id"] == admin.id
    assert signature(letter).startswith("Hanna Jung\nHead of Operations")
    assert "compensation of KRW 5,000,000" in letter.current.body
