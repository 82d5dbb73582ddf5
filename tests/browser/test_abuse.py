"""An agent flags an abusive customer; the case moves to the lead on duty, who records the
decision. Plus full-page screenshots of the dashboard in English and Korean."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.extensions import db
from app.models import User
from incidents.escalation import services as escalation_services
from tests.dashboard.test_metrics import build_dataset

ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def put_on_duty(live_app, admin, lead):
    with live_app.app_context():
        escalation_services.add_shift(db.session.get(User, admin.id), db.session.get(User, lead.id),
                                      days=ALL_DAYS, start="00:00", end="24:00", timezone="Asia/Seoul")
        db.session.commit()


def test_agent_flags_abusive_and_the_lead_on_duty_decides(live_app, new_page, seed_user, seed_incident,
                                                          sign_in, sign_out):
    admin = seed_user("admin", name="Hana Admin")
    seed_user("lead", name="Aaron Off-duty", title="CX lead")
    lead = seed_user("lead", name="김민지", title="CX 팀장", email="minji@example.com")
    agent = seed_user("agent", name="Daniel Cho", title="Support agent")
    put_on_duty(live_app, admin, lead)
    incident = seed_incident(agent, title="Customer demands a free TV or 'reviews everywhere'",
                             grade="Blue", category="product_defect", channel="phone")

    page = new_page()
    sign_in(page, agent)
    page.goto(f"/incidents/{incident}/edit")
    page.get_by_label("Abusive customer", exact=True).check()
    page.get_by_label("What crossed the line", exact=True).select_option(label="Extortion")
    page.get_by_role("button", name="Save changes", exact=True).click()

    page.wait_for_url(re.compile(rf"/incidents/{incident}$"))
    owner = page.locator("dt", has_text="Accountable owner").locator("xpath=following-sibling::dd[1]")
    expect(owner).to_contain_text("김민지")
    abuse = page.locator("section.abuse")
    expect(abuse).to_contain_text("Extortion")
    expect(abuse).to_contain_text("This case is in 김민지's hands now.")
    expect(abuse).to_contain_text("Daniel Cho was taken off the case")
    expect(abuse.get_by_role("button", name="Record decision")).to_have_count(0)
    sign_out(page)

    sign_in(page, lead)
    expect(page.locator(".count-badge")).to_have_text("2")  # told of the opening and of the case
    page.goto(f"/incidents/{incident}")
    abuse = page.locator("section.abuse")
    expect(abuse).not_to_contain_text("hands now")
    abuse.get_by_label("Decision").select_option("part_ways")
    abuse.get_by_role("button", name="Record decision").click()
    expect(page.locator(".flash-error")).to_contain_text("Record the message sent to the customer.")
    abuse = page.locator("section.abuse")
    abuse.get_by_label("Decision").select_option("part_ways")
    abuse.get_by_label(re.compile("^Note")).fill(
        "We have refunded the order and will not take further orders from this account.")
    abuse.get_by_role("button", name="Record decision").click()
    expect(page.locator(".flash-success")).to_contain_text("Decision recorded.")
    abuse = page.locator("section.abuse")
    expect(abuse).to_contain_text("Part ways (end the relationship)")
    expect(abuse).to_contain_text("decided by 김민지")
    expect(abuse.locator("blockquote")).to_contain_text("will not take further orders")
    expect(page.locator("ol.timeline")).to_contain_text("Daniel Cho")


def test_dashboard_screenshots(live_app, page, seed_user, sign_in, screenshot, tr, each_language):
    with live_app.app_context():
        build_dataset(language="ko")
    viewer = seed_user("manager", name="Seo-yeon Park", title="Head of CX")
    sign_in(page, viewer)
    for lang in each_language(page):
        page.goto("/dashboard")
        expect(page.get_by_role("heading", level=1)).to_have_text(tr("Dashboard", lang))
        expect(page.locator("svg.chart")).to_have_count(6)
        expect(page.locator("ol.festering li").first).to_contain_text("파손 소파")
        screenshot(page, f"dashboard_{lang}")
