"""A letter from the past team: typing a new incident's title shows the matching playbook,
which opens in a new tab; screenshots of the playbook, postmortem and search pages."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app import search
from app.extensions import db
from app.models import Category, User
from incidents.postmortem import playbook as making
from playbooks import services as playbook_services
from tests.postmortem import ready_incident

STEPS = "1. Switch the payment gateway to the backup provider.\n2. Tell customers within ten minutes."


def publish_playbook(live_app, lead_id: int) -> int:
    with live_app.app_context():
        payment = db.session.scalar(db.select(Category).where(Category.slug == "payment"))
        playbook, _removed = playbook_services.publish_new(
            db.session.get(User, lead_id), playbook_services.PlaybookData(
                title="Card payment fails at checkout", symptoms="Error 500 when paying by card",
                steps=STEPS, category=payment, language="en"))
        db.session.commit()
        search.apply_pending()
        return playbook.id


def test_typing_a_title_shows_the_playbook_and_opens_it(page, live_app, seed_user, sign_in):
    lead = seed_user("lead", name="Minji Kim")
    agent = seed_user("agent", name="Seoyeon Park")
    playbook_id = publish_playbook(live_app, lead.id)
    sign_in(page, agent)

    page.goto("/incidents/new")
    similar = page.locator("#similar")
    title = page.get_by_label("Title", exact=True)
    title.press_sequentially("Office printer out of toner", delay=20)
    page.wait_for_timeout(800)  # past the debounce: the answer for unrelated text is empty
    expect(similar.get_by_role("link")).to_have_count(0)

    title.fill("")
    title.press_sequentially("Card payment fails", delay=30)
    region = page.get_by_role("region", name="Similar playbooks")
    expect(region).to_be_visible()
    expect(region).to_contain_text("A letter from the past team")
    link = region.get_by_role("link", name="Card payment fails at checkout")
    expect(link).to_have_count(1)
    expect(region).to_contain_text("Switch the payment gateway to the backup provider.")

    with page.context.expect_page() as opened:
        link.click()
    tab = opened.value
    tab.wait_for_load_state()
    expect(tab).to_have_url(re.compile(rf"/playbooks/{playbook_id}$"))
    expect(tab.get_by_role("heading", level=1)).to_contain_text("Card payment fails at checkout")
    expect(tab.locator(".pb-steps")).to_contain_text("Tell customers within ten minutes.")
    # The form the agent was filling in is still there, with what was typed.
    expect(title).to_have_value("Card payment fails")


def seed_for_screenshots(live_app, seed_user) -> tuple[int, int, int]:
    """A playbook with two versions, and a third incident ready to be added to it."""
    lead = seed_user("lead", name="김민지", title="결제팀 리드", email="minji@example.com")
    agent = seed_user("agent", name="Daniel Cho", title="Senior support agent")
    with live_app.test_request_context():
        lead_user, agent_user = db.session.get(User, lead.id), db.session.get(User, agent.id)
        first = ready_incident(agent_user, lead_user)
        proposal = making.propose(first)
        playbook, _removed, _created = making.make(lead_user, first, proposal.data, None)
        db.session.commit()
        search.apply_pending()
        second = ready_incident(
            agent_user, lead_user, title="Card payment fails again",
            customer={"name": "Lee Jiwoo", "contact": "010-5555-1212", "reference": "ORD-2025-0042"},
            letter="Dear future team: check the gateway certificate before anything else.",
            actions=("Renewed the gateway certificate by hand",))
        proposal = making.propose(second)
        making.make(lead_user, second, proposal.data, proposal.target)
        db.session.commit()
        search.apply_pending()
        third = ready_incident(
            agent_user, lead_user, title="카드 결제 실패 — 결제 오류 500",
            description="Card payment fails at checkout with error 500",
            customer={"name": "김민수", "contact": "minsu@example.kr", "reference": "주문-7788"},
            letter="미래의 팀에게: 먼저 예비 결제대행사로 전환하세요. 김민수 고객님(010-1234-5678, "
                   "minsu@example.kr)께 다시 연락하세요.", language="ko")
        return lead, playbook.id, third.id


def test_screenshots_of_playbook_postmortem_and_search(page, live_app, seed_user, sign_in,
                                                      screenshot, tr, each_language):
    lead, playbook_id, ready_id = seed_for_screenshots(live_app, seed_user)
    sign_in(page, lead)
    for lang in each_language(page):
        page.goto(f"/playbooks/{playbook_id}")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Card payment fails at checkout")
        expect(page.locator("ol.versions li")).to_have_count(2)
        expect(page.locator("main")).not_to_contain_text("Kim Minsu")
        screenshot(page, f"playbook_{lang}")
        page.goto(f"/playbooks/{playbook_id}?version=1")
        expect(page.locator("main")).to_contain_text(tr("You are looking at version %(n)s.", lang, n=1))
        screenshot(page, f"playbook_version1_{lang}")

        page.goto(f"/incidents/{ready_id}/playbook")
        removed = page.locator(".removed-box")
        for value in ("김민수", "010-1234-5678", "minsu@example.kr"):
            expect(removed).to_contain_text(value)
        expect(page.get_by_label(tr("First steps", lang), exact=True)).not_to_have_value(
            re.compile("김민수"))
        screenshot(page, f"playbook_make_{lang}")

        page.goto(f"/incidents/{ready_id}/postmortem")
        expect(page.locator(".markdown h2").first).to_be_visible()
        screenshot(page, f"postmortem_{lang}")

        page.goto("/search?q=payment+gateway")
        expect(page.locator("ol.results li").first).to_be_visible()
        screenshot(page, f"search_{lang}")
