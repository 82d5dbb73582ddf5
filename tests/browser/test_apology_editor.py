"""The apology editor in the browser: each part of a good apology marked in the letter and listed
as found or missing, a finding fixed by typing, approval; a letter with a placeholder refused
approval and export; screenshots of Korean and English letters, to a customer and public, on a
desktop and on a phone."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import User
from incidents.apology import services as apology_services
from incidents.apology.models import Audience
from incidents.models import Incident
from tests.apology.test_drafts import FACTS
from tests.browser import letters

SHOTS = Path("/tmp/shots")
CONTACT = {"en": "If you have any questions, please write to me directly at dana@example.com; "
                 "I will answer you myself.",
           "ko": "더 궁금하신 점이나 불편하신 점이 있으시면 저에게 직접 연락해 주십시오. "
                 "이메일(minji@example.com)로 보내 주시면 제가 직접 답변드리겠습니다."}


def documented(live_app, seed_incident, owner, admin, language: str) -> int:
    return letters.documented(live_app, seed_incident, owner, admin, FACTS[language],
                              FACTS[language]["public"])


def owner_of(seed_user, language: str):
    return seed_user("lead", **FACTS[language]["owner"])


def row(page: Page, element: str):
    return page.locator(f'#elements li[data-element="{element}"]')


def selected_text(page: Page) -> str:
    return page.evaluate("() => { const t = document.querySelector('textarea[name=body]');"
                         " return t.value.slice(t.selectionStart, t.selectionEnd); }")


def test_draft_see_the_parts_fix_a_finding_by_typing_and_approve(page, live_app, seed_user, seed_incident,
                                                                 sign_in, sign_out):
    owner = owner_of(seed_user, "en")
    agent = seed_user("agent", name="Seoyeon Park")
    lead = seed_user("lead", name="Minji Kim")
    incident_id = documented(live_app, seed_incident, owner, seed_user("admin"), "en")

    sign_in(page, agent)
    letter_url = letters.write_draft(page, incident_id)

    # Each part is listed with the sentence that holds it, and marked and named in the copy.
    expect(row(page, "apology")).to_have_attribute("data-state", "found")
    expect(row(page, "contact")).to_have_attribute("data-state", "found")
    expect(row(page, "contact").locator("a.quote")).to_have_text(CONTACT["en"])
    mirror = page.locator("#letter-mirror")
    expect(mirror.locator("mark .tag.el-contact")).to_have_text("How to reach a person")
    expect(mirror.locator("mark.el-apology").first).to_be_visible()

    # Clicking a part selects its sentence in the editor.
    row(page, "contact").locator("a.quote").click()
    assert selected_text(page) == CONTACT["en"]

    # Take the contact out: the check says it is missing while typing, without saving.
    body = page.get_by_label("Letter (Markdown)")
    original = body.input_value()
    body.fill(original.replace(CONTACT["en"] + "\n\n", ""))
    expect(row(page, "contact")).to_have_attribute("data-state", "missing")
    expect(row(page, "contact")).to_contain_text("missing")
    expect(page.locator('#findings [data-code="missing_contact"]')).to_be_visible()
    expect(mirror.locator(".tag.el-contact")).to_have_count(0)

    # Type a way to reach a person back in: the finding goes away live.
    signature_at = body.input_value().index("With my sincere apologies,")
    body.evaluate("(t, at) => t.setSelectionRange(at, at)", signature_at)
    body.press_sequentially("Call me on 02-555-0134 or write to dana@example.com.\n\n", delay=5)
    expect(page.locator('#findings [data-code="missing_contact"]')).to_have_count(0)
    expect(row(page, "contact")).to_have_attribute("data-state", "found")
    expect(row(page, "contact").locator("a.quote")).to_contain_text("02-555-0134")
    expect(mirror.locator("mark", has=page.locator(".tag.el-contact")).filter(has_text="02-555-0134")).to_have_count(1)
    # The live panel's links select in the text as it is now.
    row(page, "contact").locator("a.quote").click()
    assert selected_text(page) == "Call me on 02-555-0134 or write to dana@example.com."
    page.get_by_role("button", name="Save as new version").click()
    expect(page.get_by_role("status")).to_contain_text("Saved as version 2.")
    expect(row(page, "contact")).to_have_attribute("data-state", "found")
    sign_out(page)

    sign_in(page, lead)
    page.goto(letter_url)
    expect(page.locator("#findings")).to_contain_text("No problems found.")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator("h1 .status")).to_have_text("Approved")


def test_a_letter_with_a_placeholder_is_refused_approval_and_export(page, live_app, seed_user, seed_incident,
                                                                   sign_in):
    owner = owner_of(seed_user, "ko")
    incident_id = documented(live_app, seed_incident, owner, seed_user("admin"), "ko")
    with live_app.app_context():
        incident = db.session.get(Incident, incident_id)
        user = db.session.get(User, owner.id)
        letter = apology_services.draft(user, incident, audience=Audience.customer, language="ko",
                                        customer_id=incident.customers[0].id)
        apology_services.edit(user, letter, letter.current.body.replace(
            "20,000원을 환불해", "[보상 금액]을 환불해"))
        db.session.commit()
        letter_id = letter.id

    sign_in(page, owner)  # a lead: may approve a customer letter
    page.goto(f"/apologies/{letter_id}")
    placeholder = page.locator('#findings [data-code="placeholder_left"]')
    expect(placeholder).to_contain_text("Placeholder left")
    expect(placeholder.locator("q")).to_have_text("[보상 금액]")
    expect(page.locator("#letter-mirror mark.flag-error")).to_contain_text("[보상 금액]")
    expect(page.locator("#letter-mirror mark.flag-error .flag-tag")).to_contain_text("Placeholder left")
    # The marked copy scrolls on its own on a wide screen: it opens at the first problem.
    expect(page.locator("#letter-mirror mark.flag-error")).to_be_in_viewport()
    # Neither approval nor export is offered, and the page says why.
    expect(page.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)
    expect(page.locator(".approval-blocked")).to_be_visible()
    expect(page.get_by_role("link", name="Markdown")).to_have_count(0)
    expect(page.locator(".exports-blocked")).to_be_visible()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "apology-ko-customer-placeholder.png"), full_page=True)
    # An export asked for anyway is refused with the reason.
    page.goto(f"/apologies/{letter_id}/export.md")
    expect(page.get_by_role("alert")).to_contain_text("Placeholder left")

    # Filling the gap in the editor clears the error live.
    body = page.get_by_label("Letter (Markdown)")
    body.fill(body.input_value().replace("[보상 금액]", "20,000원"))
    expect(page.locator('#findings [data-code="placeholder_left"]')).to_have_count(0)
    expect(page.locator("#letter-mirror mark.flag-error")).to_have_count(0)


def _letters(live_app, seed_incident, seed_user) -> dict[tuple[str, str], int]:
    admin = seed_user("admin")
    letters = {}
    for language in ("en", "ko"):
        owner = owner_of(seed_user, language)
        incident_id = documented(live_app, seed_incident, owner, admin, language)
        with live_app.app_context():
            incident = db.session.get(Incident, incident_id)
            user = db.session.get(User, owner.id)
            for audience in (Audience.customer, Audience.public):
                letter = apology_services.draft(
                    user, incident, audience=audience, language=language,
                    customer_id=incident.customers[0].id if audience == Audience.customer else None)
                db.session.commit()
                letters[language, audience.value] = letter.id
    return letters


def test_screenshots_of_the_editor(new_page, browser, live_server, live_app, seed_user, seed_incident,
                                   sign_in, tr):
    SHOTS.mkdir(exist_ok=True)
    letters = _letters(live_app, seed_incident, seed_user)
    writers = {"en": seed_user("agent", name="Seoyeon Park", locale="en"),
               "ko": seed_user("agent", name="박서연", locale="ko")}
    for (language, audience), letter_id in letters.items():
        page = new_page("ko-KR" if language == "ko" else "en-US")
        labels = {msgid: tr(msgid, language) for msgid in ("E-mail", "Password", "Sign in")}
        sign_in(page, writers[language], labels)
        page.goto(f"/apologies/{letter_id}")
        expect(page.locator("#letter-mirror mark").first).to_be_visible()
        expect(page.locator("#elements li")).to_have_count(8)
        page.screenshot(path=str(SHOTS / f"apology-{language}-{audience}.png"), full_page=True)

    # A phone, 390 px wide: nothing wider than the screen, the check right under the editor.
    context = browser.new_context(base_url=live_server, locale="ko-KR",
                                  viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    try:
        phone = context.new_page()
        sign_in(phone, writers["ko"], {msgid: tr(msgid, "ko") for msgid in ("E-mail", "Password", "Sign in")})
        phone.goto(f"/apologies/{letters['ko', 'customer']}")
        expect(phone.locator("#elements li")).to_have_count(8)
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
        editor = phone.locator(".letter-editor").bounding_box()
        check = phone.locator(".findings-card").bounding_box()
        marked = phone.locator(".letter-marked").bounding_box()
        assert editor["y"] < check["y"] < marked["y"]
        phone.screenshot(path=str(SHOTS / "apology-ko-customer-phone.png"), full_page=True)
        phone.locator(".findings-card").screenshot(path=str(SHOTS / "apology-ko-customer-phone-check.png"))
    finally:
        context.close()
