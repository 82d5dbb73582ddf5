"""On a 390 px phone, no page scrolls sideways: wide tables scroll inside their own box."""

from __future__ import annotations

from tests.browser.test_apology import _letter_with_a_finding
from tests.browser.test_screenshots import seed_realistic_incidents

PHONE = {"width": 390, "height": 800}


def test_no_page_is_wider_than_a_phone(page, live_app, seed_user, seed_incident, sign_in, screenshot,
                                       each_language):
    lead, detail = seed_realistic_incidents(seed_user, seed_incident)
    admin = seed_user("admin", name="Oliver Bennett", title="IT Administrator")
    letter = _letter_with_a_finding(live_app, seed_incident, lead, admin, "ko")
    sign_in(page, admin)
    page.set_viewport_size(PHONE)
    paths = ["/incidents/", f"/incidents/{detail}", "/incidents/new", f"/incidents/{detail}/edit",
             "/dashboard", f"/apologies/{letter}", "/approvals", "/actions", "/admin/users",
             "/admin/grades", "/admin/categories", "/search?q=delivery"]
    for lang in each_language(page):
        for path in paths:
            response = page.goto(path)
            assert response.status == 200, path
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width == PHONE["width"], (lang, path, width)
        page.goto("/incidents/")
        screenshot(page, f"phone-incident-list-{lang}")
        page.goto("/dashboard")
        screenshot(page, f"phone-dashboard-{lang}")
