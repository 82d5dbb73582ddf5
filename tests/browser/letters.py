"""Steps the apology browser tests share: an incident documented enough to write to its
customers, and a draft written from its page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import User
from incidents.compensation import services as comp_services
from incidents.compensation.models import CompStatus, CompType
from incidents.models import Incident


def documented(live_app, seed_incident, owner, admin, facts: dict, public: dict) -> int:
    """A resolved incident with `facts` (title, impact, cause, resolution, customer), what
    customers may be told (`public`), one affected customer and an approved refund for them."""
    incident_id = seed_incident(owner, title=facts["title"], status="resolved",
                                impact=facts["impact"], cause=facts["cause"],
                                resolution=facts["resolution"], customers=(facts["customer"],),
                                affected_count=120, **public)
    with live_app.app_context():
        incident = db.session.get(Incident, incident_id)
        comp = comp_services.propose(db.session.get(User, owner.id), incident,
                                     comp_type=CompType.refund, amount=20_000,
                                     customer_id=incident.customers[0].id)
        if comp.status == CompStatus.proposed:
            comp_services.approve(db.session.get(User, admin.id), comp)
        db.session.commit()
    return incident_id


def write_draft(page: Page, incident_id: int) -> str:
    """From the incident page, an English personal letter to the affected customer; returns
    the letter page's URL."""
    page.goto(f"/incidents/{incident_id}")
    section = page.locator("#apologies")
    section.get_by_text("Write apology").click()
    section.get_by_label("One affected customer (personal letter)").check()
    section.get_by_label("English").check()
    section.get_by_role("button", name="Write draft").click()
    expect(page).to_have_url(re.compile(r"/apologies/\d+$"))
    return page.url
