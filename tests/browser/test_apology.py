"""Writing an apology in the browser: draft from the incident, live findings while typing,
versions, approval by a lead, exports; screenshots of the letter page in both languages."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import User
from incidents import services
from incidents.apology import services as apology_services
from incidents.apology.models import Audience
from incidents.models import Incident
from tests.apology.test_drafts import FACTS as TOLD
from tests.browser import letters

FACTS = {
    "en": dict(title="Checkout charged customers twice", impact="Orders were charged twice",
               cause="a faulty configuration change on the payment server",
               resolution="We rolled back the configuration and added an alert for duplicate charges.",
               customer=services.CustomerData(name="Jiwoo Lee", contact="jiwoo.lee@example.com",
                                              impact="Your order of March 2 was charged twice.")),
    "ko": dict(title="결제 페이지 중복 청구", impact="같은 주문이 두 번 결제되었습니다",
               cause="결제 서버 설정 변경 오류", resolution="설정을 되돌리고 중복 결제 감지 알림을 추가했습니다",
               customer=services.CustomerData(name="이지우", contact="jiwoo@example.com",
                                              impact="3월 2일 주문 금액 20,000원이 두 번 결제되었습니다")),
}


def documented(live_app, seed_incident, owner, admin, language: str) -> int:
    return letters.documented(live_app, seed_incident, owner, admin, FACTS[language],
                              TOLD[language]["public"])


def findings(page: Page):
    return page.locator("#findings")


def test_draft_edit_with_live_findings_approve_and_export(page, new_page, live_app, seed_user,
                                                          seed_incident, sign_in, sign_out, tmp_path):
    owner = seed_user("lead", name="Dana Cho", title="Head of Customer Experience",
                      email="dana@example.com")
    agent = seed_user("agent", name="Seoyeon Park")
    lead = seed_user("lead", name="Minji Kim")
    incident_id = documented(live_app, seed_incident, owner, seed_user("admin"), "en")

    sign_in(page, agent)
    letter_url = letters.write_draft(page, incident_id)
    expect(findings(page)).to_contain_text("No problems found.")

    body = page.get_by_label("Letter (Markdown)")
    original = body.input_value()
    cause_line = TOLD["en"]["public"]["public_cause"]
    assert cause_line in original
    # Typing: the page asks the server's check and shows the finding without saving.
    body.fill(original.replace(cause_line, "[fill in the cause]"))
    expect(findings(page).locator('[data-code="placeholder_left"]')).to_be_visible()
    page.get_by_role("button", name="Save as new version").click()
    expect(page.get_by_role("status")).to_contain_text("Saved as version 2.")
    expect(findings(page).locator('[data-code="placeholder_left"]')).to_be_visible()
    expect(page.get_by_role("link", name="Version 2")).to_be_visible()

    # A conditional apology is quoted where it stands.
    body.fill(original.replace("I am truly sorry.", "I am sorry if you experienced any inconvenience."))
    conditional = findings(page).locator('[data-code="conditional_apology"]')
    expect(conditional).to_be_visible()
    expect(conditional.locator("q")).to_contain_text("sorry if")  # the whole sentence is quoted
    expect(findings(page).locator('[data-code="placeholder_left"]')).to_have_count(0)

    # Restore the text: the findings clear while typing, and saving makes version 3.
    body.fill(original)
    expect(findings(page)).to_contain_text("No problems found.")
    page.get_by_role("button", name="Save as new version").click()
    expect(page.get_by_role("status")).to_contain_text("Saved as version 3.")
    expect(findings(page).locator("li.finding")).to_have_count(0)
    # Nobody below lead may approve a customer letter.
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    page.get_by_role("link", name="changes").first.click()
    expect(page.locator(".diff-added")).to_contain_text(cause_line)
    expect(page.locator(".diff-removed")).to_contain_text("[fill in the cause]")
    sign_out(page)

    sign_in(page, lead)
    page.goto(letter_url)
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator("h1 .status")).to_have_text("Approved")
    expect(page.get_by_text(re.compile(r"approved by Minji Kim"))).to_be_visible()

    # Exports: the Markdown file is the letter; the print page is a clean page of it.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Markdown").click()
    download = download_info.value
    assert re.fullmatch(rf"apology-{incident_id}-\d+-v3\.md", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_text(encoding="utf-8") == original.replace("\r\n", "\n").strip() + "\n"
    with page.context.expect_page() as popup_info:
        page.get_by_role("link", name="Print").click()
    printed = popup_info.value
    printed.wait_for_load_state()
    # The letter's own heading, never the incident's internal title.
    expect(printed).to_have_title(re.compile(r"^Our apology for the problem on "))
    expect(printed.locator("article")).to_contain_text(cause_line)
    expect(printed.get_by_role("button")).to_have_count(0)  # nothing but the letter


def _letter_with_a_finding(live_app, seed_incident, owner, admin, language: str) -> int:
    incident_id = documented(live_app, seed_incident, owner, admin, language)
    with live_app.app_context():
        incident = db.session.get(Incident, incident_id)
        user = db.session.get(User, owner.id)
        letter = apology_services.draft(user, incident, audience=Audience.customer, language=language,
                                        customer_id=incident.customers[0].id)
        closing = "다시 한번 깊이 사과드립니다." if language == "ko" else "With my sincere apologies,"
        conditional = ("불편을 느끼셨다면 사과드립니다." if language == "ko"
                       else "We apologize if you experienced any inconvenience.")
        apology_services.edit(user, letter, letter.current.body.replace(closing, conditional + "\n\n" + closing))
        db.session.commit()
        return letter.id


def test_screenshots_of_the_letter_page(new_page, live_app, seed_user, seed_incident, sign_in, tr,
                                        screenshot):
    owners = {"en": seed_user("lead", name="Dana Cho", title="Head of Customer Experience",
                              email="dana@example.com"),
              "ko": seed_user("lead", name="김민지", title="고객경험팀장", email="minji@example.com")}
    admin = seed_user("admin")
    letters = {lang: _letter_with_a_finding(live_app, seed_incident, owners[lang], admin, lang)
               for lang in ("en", "ko")}
    for ui, locale in (("en", "en-US"), ("ko", "ko-KR")):
        reader = seed_user("lead", name="Jisoo Han" if ui == "en" else "한지수", locale=ui)
        page = new_page(locale)
        labels = {msgid: tr(msgid, ui) for msgid in ("E-mail", "Password", "Sign in")}
        sign_in(page, reader, labels)
        for lang, letter_id in letters.items():
            page.goto(f"/apologies/{letter_id}")
            expect(page.locator("html")).to_have_attribute("lang", ui)
            finding = findings(page).locator('[data-code="conditional_apology"]')
            expect(finding).to_be_visible()
            expect(finding).to_contain_text(tr("Conditional apology", ui))
            expect(page.get_by_role("heading", name=tr("Apology check", ui))).to_be_visible()
            path = screenshot(page, f"apology_{lang}_letter_{ui}_ui")
            assert path.stat().st_size > 10_000
