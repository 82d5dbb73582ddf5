"""On a 390 px phone, no page scrolls sideways: wide tables scroll inside their own box."""

from __future__ import annotations

from app.extensions import db
from app.models import User
from incidents.compensation import services as compensation
from incidents.compensation.models import CompType
from incidents.models import Incident
from tests.browser.test_apology import _letter_with_a_finding
from tests.browser.test_screenshots import seed_realistic_incidents

PHONE = {"width": 390, "height": 800}


def test_no_page_is_wider_than_a_phone(page, live_app, seed_user, seed_incident, sign_in, screenshot,
                                       each_language):
    lead, detail = seed_realistic_incidents(seed_user, seed_incident)
    admin = seed_user("admin", name="Oliver Bennett", title="IT Administrator")
    letter = _letter_with_a_finding(live_app, seed_incident, lead, admin, "ko")
    with live_app.app_context():  # the compensation table, with a pending row and a long note
        incident, proposer = db.session.get(Incident, detail), db.session.get(User, lead.id)
        compensation.propose(proposer, incident, comp_type=CompType.coupon, amount=5_000,
                             currency="KRW", note="배송 지연에 대한 사과 쿠폰, 다음 주문에 사용")
        compensation.propose(proposer, incident, comp_type=CompType.refund, amount=900_000,
                             currency="KRW", approve=False)
        db.session.commit()
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


def test_the_approval_queue_fits_a_phone(page, live_app, seed_user, seed_incident, sign_in,
                                         screenshot, each_language):
    """The queue a manager works through on a phone: the buttons on the screen, not off it."""
    agent = seed_user("agent", name="Seoyeon Park")
    manager = seed_user("manager", name="Jiwoo Park")
    incident_id = seed_incident(agent, title="Courier lost a birthday cake: the whole order",
                                grade="Orange", status="mitigated",
                                impact="Cake for a party of twenty never arrived; the family "
                                       "had to cancel the party at the last minute.")
    with live_app.app_context():
        incident, proposer = db.session.get(Incident, incident_id), db.session.get(User, agent.id)
        compensation.propose(proposer, incident, comp_type=CompType.refund, amount=450_000,
                             currency="KRW", note="Cake, delivery fee and the cancelled venue")
        db.session.commit()
    sign_in(page, manager)
    page.set_viewport_size(PHONE)
    for lang in each_language(page):
        page.goto("/approvals")
        approve = page.get_by_role("button", name="Approve" if lang == "en" else "승인")
        assert page.evaluate("document.documentElement.scrollWidth") == PHONE["width"], lang
        box = approve.bounding_box()
        assert box and box["x"] + box["width"] <= PHONE["width"], (lang, box)
        screenshot(page, f"phone-approvals-{lang}")
