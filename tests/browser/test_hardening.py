"""The pages issue 16 changed, in a real browser and in both languages: a published postmortem
with changes waiting, what an agent sees of it, the password change, the sign-in limit and a
report period out of range."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import expect

from app.extensions import db
from app.models import User
from incidents.postmortem import services as pm_services
from incidents.services import get_incident

FIRST = "## Summary\n\nThe card gateway certificate expired; payments failed for 40 minutes.\n"
FIX = "## Summary\n\nThe card gateway certificate expired; payments failed for 42 minutes.\n"


def _published(live_app: Flask, lead, incident_id: int) -> None:
    with live_app.test_request_context():
        user = db.session.get(User, lead.id)
        incident = get_incident(incident_id)
        pm = pm_services.start(user, incident, "en")
        pm_services.save(user, pm, FIRST)
        pm_services.publish(user, pm)
        pm_services.save(user, pm, FIX)
        db.session.commit()


def test_a_published_postmortem_with_changes_waiting(live_app, new_page, seed_user, seed_incident,
                                                     sign_in, screenshot, tr, each_language):
    lead = seed_user("lead", name="김민지", title="CX 팀장")
    agent = seed_user("agent", name="Daniel Cho")
    incident_id = seed_incident(lead, title="카드 결제 실패", grade="Orange")
    _published(live_app, lead, incident_id)

    page = new_page()
    sign_in(page, lead)
    for lang in each_language(page):
        page.goto(f"/incidents/{incident_id}/postmortem")
        expect(page.get_by_role("status")).to_contain_text(
            tr("Saved changes are waiting to be published. Readers, search and playbooks still "
               "see version %(n)s, as published.", lang, n=2))
        expect(page.get_by_role("button", name=tr("Publish the changes", lang))).to_be_visible()
        expect(page.get_by_role("link", name=tr("Version %(n)s", lang, n=2))).to_be_visible()
        screenshot(page, f"postmortem-changes-waiting-{lang}")

    reader = new_page()
    sign_in(reader, agent)
    reader.goto(f"/incidents/{incident_id}/postmortem")
    expect(reader.locator("textarea")).to_have_count(0)
    expect(reader.get_by_text(tr("Only a lead or above may change a published postmortem."))
           ).to_have_count(0)  # changes are waiting: the banner says so instead
    screenshot(reader, "postmortem-published-agent-en")

    page.get_by_role("button", name=tr("Publish the changes", "ko")).click()
    expect(page.get_by_text(tr("Publish the changes", "ko"))).to_have_count(0)
    expect(page.locator(".markdown").first).to_contain_text("42 minutes")


def test_password_change_explains_a_weak_password(page, seed_user, sign_in, screenshot, tr,
                                                  each_language):
    agent = seed_user("agent", name="이수진")
    sign_in(page, agent)
    for lang in each_language(page):
        page.goto("/account")
        page.get_by_label(tr("Current password", lang), exact=True).fill(agent.password)
        page.get_by_label(tr("New password", lang), exact=True).fill("password123")
        page.get_by_label(tr("Repeat new password", lang), exact=True).fill("password123")
        page.get_by_role("button", name=tr("Change password", lang)).click()
        expect(page.locator("main")).to_contain_text(tr("This is a very common password.", lang))
        screenshot(page, f"password-change-refused-{lang}")


def test_sign_in_limit_speaks_korean(new_page, live_app, seed_user, screenshot, tr):
    person = seed_user("agent")
    page = new_page(locale="ko-KR")
    limit = int(live_app.config["LOGIN_RATE_LIMIT"].split()[0])
    for _ in range(limit + 1):
        page.goto("/login")
        page.get_by_label(tr("E-mail", "ko"), exact=True).fill(person.email)
        page.get_by_label(tr("Password", "ko"), exact=True).fill("not the password")
        page.get_by_role("button", name=tr("Sign in", "ko"), exact=True).click()
    expect(page.locator("main")).to_contain_text("로그인 실패가 너무 많습니다")
    screenshot(page, "sign-in-limit-ko")


def test_a_report_period_out_of_range_is_named_on_the_form(page, seed_user, sign_in, screenshot,
                                                           tr, each_language):
    lead = seed_user("lead")
    sign_in(page, lead)
    for lang in each_language(page):
        page.goto("/dashboard?start=0001-01-01&end=9999-12-31")
        expect(page.locator("main")).to_contain_text(tr(
            "Give a date between %(first)s and %(last)s.", lang, first="1970-01-01",
            last="2999-12-31"))
        screenshot(page, f"dashboard-period-out-of-range-{lang}")
