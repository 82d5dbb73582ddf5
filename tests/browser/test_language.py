"""Language: the header switch, remembered on the user, and the browser's Accept-Language."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

HANGUL = re.compile(r"[가-힣]")
# Strings on the incident list and the login page. The Korean catalogue is work in progress,
# so each test asks the running app which of them it translates and expects exactly those.
LIST_STRINGS = ("Incidents", "Open incident", "Sign out", "Filter", "Reset", "Status", "Age")
LOGIN_STRINGS = ("Sign in", "E-mail", "Password")


def korean_of(tr, msgids) -> dict[str, str]:
    return {m: tr(m, "ko") for m in msgids if tr(m, "ko") != m}


def expect_korean_list(page: Page, tr) -> None:
    # Signing in lands on the dashboard; the list is one click away.
    if "/incidents/" not in page.url:
        page.goto("/incidents/")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    for korean in korean_of(tr, LIST_STRINGS).values():
        expect(page.locator("body")).to_contain_text(korean)
    # Data and Babel's locale data follow the language even where the catalogue has gaps:
    # category names come in Korean, and durations are formatted by Korean CLDR rules.
    category = page.get_by_label(tr("Category", "ko"), exact=True)
    expect(category.locator("option", has_text="배송")).to_have_count(1)
    expect(page.locator("table.incidents tbody tr").first.locator("td").last).to_have_text(HANGUL)


def login_labels(tr, locale: str) -> dict[str, str]:
    return {m: tr(m, locale) for m in LOGIN_STRINGS}


def test_switching_to_korean_is_remembered_on_the_user(new_page, seed_user, seed_incident, sign_in,
                                                       sign_out, tr):
    agent = seed_user("agent", name="Seoyeon Park")
    seed_incident(agent, title="배송 지연 문의 폭주", grade="Orange", category="delivery", age_minutes=95)
    page = new_page("en-US")
    sign_in(page, agent)
    page.goto("/incidents/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-current", "true")

    page.get_by_role("button", name="한국어").click()

    expect(page).to_have_url(re.compile(r"/incidents/"))
    expect_korean_list(page, tr)
    expect(page.get_by_role("button", name="한국어")).to_have_attribute("aria-current", "true")
    page.reload()
    expect_korean_list(page, tr)

    sign_out(page, tr("Sign out", "ko"))
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    sign_in(page, agent, login_labels(tr, "ko"))
    expect_korean_list(page, tr)

    # A new browser with an English Accept-Language: English until the user signs in,
    # then the language they chose, kept on their account.
    elsewhere = new_page("en-US")
    elsewhere.goto("/login")
    expect(elsewhere.locator("html")).to_have_attribute("lang", "en")
    sign_in(elsewhere, agent)
    expect_korean_list(elsewhere, tr)

    elsewhere.get_by_role("button", name="English").click()
    expect(elsewhere.locator("html")).to_have_attribute("lang", "en")
    expect(elsewhere.get_by_role("heading", name="Incidents", exact=True)).to_be_visible()


def test_a_korean_browser_gets_korean_before_any_choice(new_page, seed_user, seed_incident, sign_in,
                                                        tr, screenshot):
    agent = seed_user("agent", name="Seoyeon Park")
    seed_incident(agent, title="Refund not received", grade="Blue", category="billing")
    page = new_page("ko-KR")

    page.goto("/")

    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    labels = login_labels(tr, "ko")
    for msgid in korean_of(tr, LOGIN_STRINGS):
        expect(page.locator("main")).to_contain_text(labels[msgid])
    screenshot(page, "login-ko")
    sign_in(page, agent, labels)
    expect_korean_list(page, tr)


def test_an_english_browser_gets_english(new_page, seed_user):
    seed_user("agent")
    page = new_page("en-GB")
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_the_admin_menu_stays_on_one_line_on_a_laptop_screen(page, seed_user, sign_in):
    # The page fixture is 1280 px wide, a common laptop screen. The longest menu, an
    # admin's, must not wrap under the header in either language.
    sign_in(page, seed_user("admin", name="Oliver Bennett"))
    for locale in ("en", "ko"):
        page.locator(f"button[name=locale][value={locale}]").click()
        page.goto("/incidents/")
        expect(page.locator("html")).to_have_attribute("lang", locale)
        nav = page.locator("header nav")
        tops = nav.evaluate("n => [...n.children].map(c => Math.round(c.getBoundingClientRect().top))")
        assert len(tops) == 9 and len(set(tops)) == 1, (locale, tops)


def test_on_narrower_screens_the_menu_moves_to_its_own_row_rather_than_squeezing(page, seed_user,
                                                                                 sign_in):
    # Between a phone and a laptop the admin's menu does not fit beside the name and account
    # links. It takes a row of its own; squeezed between them it had stacked into nine lines.
    sign_in(page, seed_user("admin", name="Oliver Bennett"))
    for locale in ("en", "ko"):
        page.locator(f"button[name=locale][value={locale}]").click()
        expect(page.locator("html")).to_have_attribute("lang", locale)
        for width in (1100, 900, 700):
            page.set_viewport_size({"width": width, "height": 800})
            page.goto("/incidents/")
            rows = page.locator("header nav").evaluate(
                "n => new Set([...n.children].map(c => Math.round(c.getBoundingClientRect().top))).size")
            assert rows <= 2, (locale, width, rows)
            height = page.locator("header.top").evaluate("h => h.getBoundingClientRect().height")
            assert height < 150, (locale, width, height)
