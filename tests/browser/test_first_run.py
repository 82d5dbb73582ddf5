"""First run: a fresh install asks for the first admin, then signs them in."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_fresh_app_sets_up_the_first_admin(page, screenshot):
    page.goto("/")

    expect(page).to_have_url(re.compile(r"/setup$"))
    expect(page.get_by_role("heading", name="Welcome to Incidentbook")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Jiwoo Han")
    page.get_by_label("Job title", exact=True).fill("Head of Customer Experience")
    page.get_by_label("E-mail", exact=True).fill("jiwoo@example.com")
    page.get_by_label("Password", exact=True).fill("a long enough secret")
    page.get_by_label("Repeat password", exact=True).fill("a long enough secret")
    screenshot(page, "setup-en")
    page.get_by_role("button", name="Create admin account").click()

    expect(page).to_have_url(re.compile(r"/incidents/$"))
    expect(page.get_by_role("status")).to_contain_text("Welcome, Jiwoo Han")
    expect(page.get_by_role("heading", name="Incidents", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Jiwoo Han")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # The first account is the admin: the admin pages are in the menu.
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_text("More", exact=True).click()  # admin pages sit in the "More" menu
    expect(nav.get_by_role("link", name="Users")).to_be_visible()


def test_setup_refuses_mismatched_passwords_and_keeps_the_form(page):
    page.goto("/setup")
    page.get_by_label("Name", exact=True).fill("Jiwoo Han")
    page.get_by_label("Job title", exact=True).fill("Head of CX")
    page.get_by_label("E-mail", exact=True).fill("jiwoo@example.com")
    page.get_by_label("Password", exact=True).fill("a long enough secret")
    page.get_by_label("Repeat password", exact=True).fill("a different secret!")
    page.get_by_role("button", name="Create admin account").click()

    expect(page).to_have_url(re.compile(r"/setup$"))
    expect(page.get_by_text("The passwords differ.")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Jiwoo Han")


def test_sign_out_and_back_in(page, seed_user, sign_in, sign_out, screenshot):
    lead = seed_user("lead", name="Minji Kim")
    sign_in(page, lead)
    sign_out(page)

    expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "login-en")
    page.get_by_label("E-mail", exact=True).fill(lead.email)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("E-mail or password is wrong.")
    sign_in(page, lead)
    expect(page).to_have_url(re.compile(r"/dashboard$"))  # the home page after sign-in
