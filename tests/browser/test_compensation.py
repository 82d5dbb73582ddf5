"""Compensation through the authority funnel: an agent proposes beyond their limit, a lead
approves from the queue, the agent pays, and only then does the incident close."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from incidents.services import CustomerData


def compensation(page: Page):
    return page.locator("#compensation")


def comp_row(page: Page, amount: str):
    return compensation(page).get_by_role("row").filter(has_text=amount)


def test_agent_proposes_lead_approves_agent_pays_incident_closes(page, seed_user, seed_incident,
                                                                 sign_in, sign_out):
    agent = seed_user("agent", name="Seoyeon Park")
    lead = seed_user("lead", name="Minji Kim")
    incident_id = seed_incident(agent, title="Courier lost a birthday cake", grade="Blue",
                                status="mitigated", customers=(CustomerData(
                                    name="Jiwoo Lee", impact="Cake for a party never arrived"),))

    # The agent sees their own authority, then proposes more than it.
    sign_in(page, agent)
    page.goto(f"/incidents/{incident_id}")
    panel = compensation(page)
    panel.get_by_text("Propose compensation", exact=True).click()
    expect(panel.get_by_role("note")).to_contain_text("Refund: you may approve up to ₩50,000 yourself")
    panel.get_by_label("Type", exact=True).select_option("refund")
    panel.get_by_label("Amount", exact=True).fill("70,000")
    expect(panel.get_by_label("Currency", exact=True)).to_have_value("KRW")
    panel.get_by_label("For customer", exact=True).select_option(label="Jiwoo Lee")
    panel.get_by_label("Why, in a sentence", exact=True).fill("Cake and delivery fee")
    expect(panel.get_by_label("Approve now if it is within my authority")).to_be_checked()
    panel.get_by_role("button", name="Propose", exact=True).click()

    # The answer lands at the panel (#compensation), and its message with it, not above the fold.
    message = compensation(page).get_by_role("status")
    expect(message).to_have_text("Proposed ₩70,000; waiting for Lead approval.")
    expect(message).to_be_in_viewport()
    row = comp_row(page, "₩70,000")
    expect(row).to_contain_text("waiting for Lead")
    expect(row.get_by_role("button", name="Approve")).to_have_count(0)
    # Closing now is refused and says why.
    page.get_by_role("button", name="Mark Closed").click()
    expect(page.get_by_role("alert").first).to_contain_text("still waiting for Lead approval")
    sign_out(page)

    # The lead finds it in the queue, with the grade and the customer's harm, and approves.
    sign_in(page, lead)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    expect(page.get_by_role("heading", name="Waiting for your approval")).to_be_visible()
    queued = page.get_by_role("row").filter(has_text="Courier lost a birthday cake")
    expect(queued).to_contain_text("Blue")
    expect(queued).to_contain_text("Cake for a party never arrived")
    expect(queued).to_contain_text("₩70,000")
    queued.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_have_text("Approved.")
    expect(page.get_by_text("Nothing is waiting for you.")).to_be_visible()
    sign_out(page)

    # The agent pays it; then the incident closes.
    sign_in(page, agent)
    page.goto(f"/incidents/{incident_id}")
    row = comp_row(page, "₩70,000")
    expect(row).to_contain_text("approved by Minji Kim")
    row.get_by_role("button", name="Mark paid").click()
    expect(compensation(page).get_by_role("status")).to_have_text("Marked as paid.")
    expect(compensation(page).get_by_role("status")).to_be_in_viewport()
    expect(comp_row(page, "₩70,000")).to_contain_text("paid by Seoyeon Park")
    expect(comp_row(page, "₩70,000").get_by_role("button")).to_have_count(0)
    page.get_by_role("button", name="Mark Closed").click()
    expect(page.get_by_role("status")).to_have_text("Status is now Closed.")
    expect(page).to_have_url(re.compile(rf"/incidents/{incident_id}$"))
    expect(page.locator("ol.timeline")).to_contain_text("Cake and delivery fee")
