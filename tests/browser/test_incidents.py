"""Opening an incident and working it through its statuses, as an agent and as a lead."""

from __future__ import annotations

import re
import time

from flask import request
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app.extensions import db
from incidents.models import Incident


def grade_radio(page: Page, name: str):
    # Anchored: "Red" is also inside "Postmortem required." in the other grades' labels.
    return page.get_by_role("radio", name=re.compile(rf"^{name}\b"))


def status_steps(page: Page):
    return page.get_by_role("region", name="Status").get_by_role("listitem")


def open_incident(page: Page, title: str, grade: str) -> None:
    page.goto("/incidents/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Open incident").click()
    expect(page.get_by_role("heading", name="Open incident")).to_be_visible()
    page.get_by_label("Title", exact=True).fill(title)
    grade_radio(page, grade).check()
    page.get_by_role("button", name="Open incident").click()


def test_agent_opens_an_incident_and_works_it_to_closed(page, seed_user, sign_in, sign_out):
    agent = seed_user("agent", name="Seoyeon Park")
    lead = seed_user("lead", name="Minji Kim")
    sign_in(page, agent)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Open incident").click()
    picker = page.get_by_role("group", name="Grade")
    # The picker explains every grade, so an agent can choose without asking.
    for grade, meaning in [("Red", "Threatens the company"), ("Orange", "Serious harm"),
                           ("Blue", "One customer harmed or angry"), ("Green", "Minor inconvenience")]:
        expect(picker.get_by_role("radio", name=re.compile(rf"^{grade}\b"))).to_have_accessible_name(
            re.compile(meaning))
    expect(grade_radio(page, "Red")).to_have_accessible_name(re.compile("Postmortem required"))
    page.get_by_label("Title", exact=True).fill("Courier left the parcel at the wrong address")
    grade_radio(page, "Blue").check()
    expect(grade_radio(page, "Blue")).to_be_checked()
    page.get_by_role("button", name="Open incident").click()

    expect(page).to_have_url(re.compile(r"/incidents/\d+$"))
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"Incident #\d+ opened\."))
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Courier left the parcel at the wrong address")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Blue")
    expect(status_steps(page).filter(has_text="Detected")).to_have_class("current")

    for status in ("Shared", "Mitigated"):
        page.get_by_role("button", name=f"Mark {status}").click()
        expect(page.get_by_role("status")).to_have_text(f"Status is now {status}.")
        expect(status_steps(page).filter(has_text=status)).to_have_class("current")

    page.get_by_label("Text", exact=True).fill("Called the courier; parcel collected from the neighbour.")
    page.get_by_role("button", name="Add to timeline").click()
    timeline = page.locator("ol.timeline")
    expect(timeline.get_by_role("listitem").first).to_contain_text(
        "Called the courier; parcel collected from the neighbour.")
    expect(timeline.get_by_role("listitem").first).to_contain_text("Seoyeon Park")

    for status in ("Resolved", "Closed"):
        page.get_by_role("button", name=f"Mark {status}").click()
        expect(page.get_by_role("status")).to_have_text(f"Status is now {status}.")
        expect(status_steps(page).filter(has_text=status)).to_have_class("current")
    expect(timeline).to_contain_text("moved the status from Resolved to Closed")
    # A closed incident is settled record: only a lead may reopen it.
    expect(page.get_by_role("button", name=re.compile("^Mark "))).to_have_count(0)
    expect(page.get_by_role("button", name="Reopen")).to_have_count(0)
    incident_url = page.url

    sign_out(page)
    sign_in(page, lead)
    page.goto(incident_url)
    page.get_by_role("button", name="Reopen").click()
    expect(page.get_by_role("status")).to_have_text("Status is now Shared.")
    expect(status_steps(page).filter(has_text="Shared")).to_have_class("current")
    expect(timeline).to_contain_text("moved the status from Closed to Shared")


def test_closing_a_red_incident_needs_a_postmortem(page, seed_user, sign_in):
    sign_in(page, seed_user("lead"))
    open_incident(page, "Allergen missing from the dessert label", "Red")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Red")

    page.get_by_role("button", name="Mark Closed").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "Cannot close yet: A published postmortem is required for Red incidents.")
    expect(status_steps(page).filter(has_text="Detected")).to_have_class("current")
    expect(page.get_by_role("button", name="Mark Shared")).to_be_visible()


def test_an_empty_title_is_refused_with_the_grade_kept(page, seed_user, sign_in):
    sign_in(page, seed_user("agent"))
    open_incident(page, "", "Orange")

    expect(page.get_by_role("heading", name="Open incident")).to_be_visible()
    expect(page.get_by_role("alert").first).to_contain_text("Please correct the fields marked below.")
    expect(page.get_by_label("Title", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(grade_radio(page, "Orange")).to_be_checked()


def test_on_a_phone_each_incident_is_a_card_that_fits_the_screen(page, seed_user, seed_incident,
                                                                  sign_in):
    agent = seed_user("agent", name="Seo-yeon Kim")
    seed_incident(agent, title="배달 도시락 섭취 후 식중독 증상 — 고객 병원 진료", grade="Red")
    sign_in(page, agent)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/incidents/")
    sizes = page.evaluate("""() => {
        const row = document.querySelector('table.incidents tbody tr');
        const box = el => el.getBoundingClientRect();
        const cell = n => box(row.children[n - 1]);
        return {page: document.documentElement.scrollWidth, wrap: document.querySelector('.table-wrap').scrollWidth,
                row: box(row), title: cell(3), grade: cell(1), owner: cell(5), age: cell(7)};
    }""")
    assert sizes["page"] == 390, sizes  # nothing pushes the page, header and filters, sideways
    assert sizes["wrap"] <= 390, sizes  # nor the list: nothing is left to scroll to
    row, title = sizes["row"], sizes["title"]
    # The title has the card's whole width, on a line below the grade, not a narrow column.
    assert title["width"] > 0.8 * row["width"], sizes
    assert title["top"] >= sizes["grade"]["bottom"], sizes
    for name in ("owner", "age"):  # the owner and the age sit inside the card, on screen
        cell = sizes[name]
        assert cell["width"] > 0 and cell["right"] <= row["right"] and cell["top"] >= title["bottom"], sizes
    card = page.locator("table.incidents tbody tr").first
    expect(card).to_contain_text("Seo-yeon Kim")
    expect(card.locator("td").nth(1)).to_have_text(re.compile(r"^\d+$"))  # "#" comes from the CSS


def test_on_a_tablet_the_list_is_still_a_table(page, seed_user, seed_incident, sign_in):
    agent = seed_user("agent")
    seed_incident(agent, title="Parcel marked delivered but not received", grade="Blue")
    sign_in(page, agent)
    page.set_viewport_size({"width": 800, "height": 800})
    page.goto("/incidents/")
    expect(page.locator("table.incidents thead")).to_be_visible()
    display = page.evaluate("getComputedStyle(document.querySelector('table.incidents tbody tr')).display")
    assert display == "table-row"


def test_a_note_sent_after_signing_out_in_another_tab_is_given_back(page, seed_user, seed_incident,
                                                                    sign_in, sign_out):
    agent = seed_user("agent", name="Seo-yeon Kim")
    incident = seed_incident(agent, title="Courier left the parcel at the wrong address")
    sign_in(page, agent)
    page.goto(f"/incidents/{incident}")
    note = "Customer called again at 02:10: wants a replacement, not a refund."
    page.locator("form.event-form").get_by_label("Text", exact=True).fill(note)

    other_tab = page.context.new_page()  # same browser, same session
    other_tab.goto("/incidents/")
    sign_out(other_tab)

    page.get_by_role("button", name="Add to timeline").click()
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    expect(page.get_by_role("textbox", name="What you typed")).to_have_value(note)

    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("E-mail", exact=True).fill(agent.email)
    page.get_by_label("Password", exact=True).fill(agent.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"**/incidents/{incident}")  # back at the form, not at its POST address
    expect(page.locator("ol.timeline")).not_to_contain_text("wants a replacement")


def test_a_second_click_on_a_slow_page_sends_the_note_once(page, live_app, seed_user, seed_incident,
                                                           sign_in):
    # The timeline is append-only: a note sent twice could never be taken back.
    @live_app.before_request
    def answer_notes_slowly():  # as a busy server does: the second click comes before the page
        if request.method == "POST" and request.path.endswith("/events"):
            time.sleep(0.5)

    agent = seed_user("agent")
    incident = seed_incident(agent, title="Checkout down for all users")
    sign_in(page, agent)
    page.goto(f"/incidents/{incident}")
    page.locator("form.event-form").get_by_label("Text", exact=True).fill("Rolled back the 02:00 deploy.")
    with page.expect_navigation(url=re.compile(rf"/incidents/{incident}$")):
        # In the page itself: Playwright would wait for the navigation before a second click.
        page.evaluate("""() => {
            const button = document.querySelector('form.event-form button[type=submit]');
            button.click();
            setTimeout(() => button.click(), 200);
        }""")
    page.reload()
    expect(page.locator("ol.timeline li", has_text="Rolled back the 02:00 deploy.")).to_have_count(1)


def test_a_form_sent_again_after_its_answer_was_lost_opens_one_incident(page, live_app, seed_user,
                                                                        sign_in):
    # The server opened the incident, but its answer never reached the browser (a dropped
    # connection). On the browser's error page the agent presses reload, which sends the
    # form again.
    sign_in(page, seed_user("agent"))
    lost = []

    def lose_the_first_answer(route):
        if route.request.method == "POST" and not lost:
            lost.append(route.fetch(max_redirects=0))  # the server did its work...
            route.abort("connectionreset")  # ...and the browser hears nothing of it
        else:
            route.continue_()

    page.route("**/incidents/new", lose_the_first_answer)
    open_incident(page, "Card payments declined at checkout", "Orange")
    expect(page.get_by_role("heading", name="Open incident")).not_to_be_visible()
    assert lost and lost[0].status == 302
    page.reload()

    expect(page).to_have_url(re.compile(re.escape(lost[0].headers["location"]) + "$"))
    # (Playwright's fetch kept the first answer's cookie, so its "opened" message shows too.)
    expect(page.get_by_role("status").filter(has_text="it was not opened twice")).to_be_visible()
    with live_app.app_context():
        assert db.session.scalar(select(func.count(Incident.id))) == 1
