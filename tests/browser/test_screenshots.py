"""Full-page screenshots of the main pages in English and Korean, over realistic data."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from incidents.services import CustomerData


def seed_realistic_incidents(seed_user, seed_incident):
    lead = seed_user("lead", name="김민지", title="CX 팀장", email="minji@example.com")
    agent = seed_user("agent", name="Daniel Cho", title="Senior support agent")
    seed_incident(lead, title="결제 페이지 시간 초과 — 카드 결제 실패", grade="Red", category="payment",
                  channel="monitoring", age_minutes=50,  # share target is 15 minutes: overdue
                  description="카드 결제 시 **PG 응답 지연**으로 주문이 실패합니다.")
    detail = seed_incident(
        agent, title="Courier left the parcel at the wrong address", grade="Blue",
        category="delivery", channel="phone", status="mitigated", age_minutes=190, affected_count=1,
        description="The courier marked the parcel **delivered** at 14:05, photo shows a different door.\n\n"
                    "- Order 2026-118734\n- Customer called twice",
        impact="Birthday gift did not arrive on the day.",
        customers=(CustomerData("이수진", "010-2345-6789", "ORD-2026-118734",
                                "Gift for a birthday; customer is upset."),),
        notes=("Asked the courier to collect the parcel from the neighbour.",
               "고객에게 사과 문자와 5,000원 쿠폰을 보냈습니다."))
    seed_incident(agent, title="배송 지연 문의 폭주 (수도권)", grade="Orange", category="delivery",
                  channel="chat", status="shared", age_minutes=40)
    seed_incident(lead, title="Refund not received after 10 days", grade="Green", category="billing",
                  channel="email", status="resolved", age_minutes=600)
    seed_incident(agent, title="포인트 적립 누락 문의", grade="Blue", category="billing", channel="chat",
                  age_minutes=25)
    return lead, detail


def test_screenshots_of_list_incident_and_form(page, seed_user, seed_incident, sign_in, screenshot, tr,
                                               each_language):
    lead, detail = seed_realistic_incidents(seed_user, seed_incident)
    sign_in(page, lead)

    for lang in each_language(page):
        page.goto("/incidents/")
        rows = page.locator("table.incidents tbody tr")
        expect(rows).to_have_count(5)
        expect(rows.first).to_contain_text("결제 페이지 시간 초과")  # most urgent grade first
        expect(page.locator("tr.overdue")).to_have_count(1)
        expect(page.locator("tr.overdue")).to_contain_text(tr("not shared in time", lang))
        screenshot(page, f"incident-list-{lang}")

        page.goto(f"/incidents/{detail}")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Courier left the parcel")
        expect(page.locator("ol.timeline")).to_contain_text("5,000원 쿠폰")
        expect(page.get_by_role("listitem").filter(has_text="이수진")).to_contain_text("ORD-2026-118734")
        screenshot(page, f"incident-detail-{lang}")

        page.goto("/incidents/new")
        meaning = "고객 한 명이" if lang == "ko" else "One customer harmed"
        expect(page.get_by_role("radio", name=re.compile(r"^Blue\b"))).to_have_accessible_name(
            re.compile(meaning))
        screenshot(page, f"incident-form-{lang}")
