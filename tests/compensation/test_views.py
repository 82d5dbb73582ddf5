"""Compensation on the web: the incident page's panel, the queue, the policy grid, closing."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Grade
from incidents.compensation import services
from incidents.compensation.models import AuthorityRule, Compensation, CompStatus, CompType
from incidents.models import Status
from incidents.services import CustomerData
from tests import conftest
from tests.conftest import grade


@pytest.fixture(autouse=True)
def _snapshot_compensation_tables(monkeypatch):
    monkeypatch.setattr(conftest, "SNAPSHOT_TABLES", (
        *conftest.SNAPSHOT_TABLES, "compensations", "authority_rules", "settings"))


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def comp_rows(page: str) -> dict[int, tuple[str, list[str]]]:
    """Per compensation in the panel's table: the row's text and the buttons it offers."""
    rows = {}
    for chunk in re.findall(r'<tr class="comp-[a-z]+">(.*?)</tr>', page, re.S):
        comp_id = int(re.search(r"<td>(\d+)</td>", chunk).group(1))
        buttons = re.findall(r"<button[^>]*>([^<]+)</button>", chunk)
        rows[comp_id] = (re.sub(r"<[^>]+>", " ", chunk), buttons)
    return rows


def propose(user, incident, amount, comp_type=CompType.refund, **kw) -> Compensation:
    comp = services.propose(user, incident, comp_type=comp_type, amount=amount, **kw)
    db.session.commit()
    return comp


@pytest.fixture
def incident(make_user, make_incident):
    return make_incident(make_user("agent"), grade="Blue", impact="Order arrived a day late",
                         customers=[CustomerData(name="Jiwoo Lee", impact="Missed a birthday")])


# --- authority shown where the work is done ---------------------------------------------------

@pytest.mark.parametrize(("role", "grade_name", "expected"), [
    ("agent", "Blue", ["Refund: you may approve up to ₩50,000 yourself",
                       "Coupon or discount: you may approve up to ₩30,000 yourself · "
                       "up to ₩5,000 is approved automatically",
                       "Cash (consequential damages): needs a senior colleague's approval"]),
    ("agent", "Red", ["Refund: needs a senior colleague's approval",
                      "Coupon or discount: needs a senior colleague's approval<"]),
    ("lead", "Blue", ["Refund: you may approve up to ₩300,000 yourself",
                      "Service credit: you may approve up to ₩200,000 yourself"]),
    ("manager", "Orange", ["Cash (consequential damages): you may approve up to ₩1,000,000 "
                           "yourself", "Refund: you may approve up to ₩3,000,000 yourself"]),
])
def test_incident_page_shows_the_readers_authority(role, grade_name, expected, login, client,
                                                   make_incident):
    incident = make_incident(grade=grade_name)
    login(role)
    page = text(client.get(f"/incidents/{incident.id}"))
    assert f"Your authority on this {grade_name} incident" in page
    for line in expected:
        assert line in page


def test_authority_in_korean_uses_korean_currency_format(login, client, incident):
    login("agent")
    page = text(client.get(f"/incidents/{incident.id}", headers={"Accept-Language": "ko"}))
    assert "₩50,000" in page and "₩5,000" in page


def test_viewer_sees_the_list_but_no_form_and_no_buttons(login, client, incident, make_user):
    comp = propose(make_user("agent"), incident, 70_000)
    login("viewer")
    page = text(client.get(f"/incidents/{incident.id}"))
    assert comp_rows(page)[comp.id][1] == []
    assert "Propose compensation" not in page and "Your authority" not in page


# --- proposing through the form ---------------------------------------------------------------

def test_propose_in_major_units(login, client, incident):
    agent = login("agent")
    response = client.post(f"/incidents/{incident.id}/compensations", data={
        "comp_type": "refund", "amount": "12,000", "currency": "KRW", "customer": "0",
        "note": "Late delivery", "approve": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/incidents/{incident.id}#compensation")
    comp = db.session.scalars(select(Compensation)).one()
    assert (comp.amount, comp.currency, comp.status, comp.approved_by_id) == (
        12_000, "KRW", CompStatus.approved, agent.id)
    assert comp.note == "Late delivery" and comp.customer_id is None
    page = text(client.get(response.headers["Location"]))
    assert "Compensation approved (by you): ₩12,000." in page
    assert "₩12,000" in comp_rows(page)[comp.id][0]


def test_propose_for_a_customer_without_approving(login, client, incident):
    login("agent")
    response = client.post(f"/incidents/{incident.id}/compensations", data={
        "comp_type": "coupon", "amount": "20000", "currency": "krw",
        "customer": str(incident.customers[0].id)})
    assert response.status_code == 302
    comp = db.session.scalars(select(Compensation)).one()
    assert comp.status == CompStatus.proposed and comp.customer_id == incident.customers[0].id
    page = text(client.get(f"/incidents/{incident.id}"))
    assert "Proposed ₩20,000; waiting for Agent approval." in page
    assert "Jiwoo Lee" in comp_rows(page)[comp.id][0]


def test_beyond_my_limit_names_the_approving_role_in_korean(login, client, incident):
    login("agent", locale="ko")
    client.post(f"/incidents/{incident.id}/compensations", data={
        "comp_type": "refund", "amount": "70000", "currency": "KRW", "customer": "0",
        "approve": "y"})
    page = text(client.get(f"/incidents/{incident.id}"))
    assert "₩70,000 보상을 제안했습니다. 팀장 승인을 기다립니다." in page  # not "lead"


def test_fractional_won_is_refused_with_what_was_typed(login, client, incident, snapshot):
    login("agent")
    before = snapshot()
    response = client.post(f"/incidents/{incident.id}/compensations", data={
        "comp_type": "credit", "amount": "12.5", "currency": "KRW", "customer": "0",
        "note": "Half a won?", "approve": "y"})
    assert response.status_code == 422
    page = text(response)
    assert "Give an amount like 30000 (at most 0 decimals)." in page
    assert 'value="12.5"' in page and "Half a won?" in page
    assert re.search(r'<option selected value="credit">|<option value="credit" selected>', page)
    assert "<details open" in page
    assert snapshot() == before


@pytest.mark.parametrize(("data", "message", "status"), [
    ({"amount": "abc"}, "Give an amount like 30000", 422),
    ({"amount": "0"}, "Give a positive amount in minor units.", 422),
    ({"amount": "-5"}, "Give an amount like 30000", 422),  # no sign: amounts are positive
    ({"amount": ""}, "This field is required.", 422),
    ({"currency": "USD"}, "The authority policy is in KRW", 422),
    ({"currency": "ZZZ"}, "Use an ISO-4217 code", 422),
    ({"customer": "999"}, "Not a valid choice", 422),
])
def test_bad_form_input_is_refused(data, message, status, login, client, incident, snapshot):
    login("agent")
    before = snapshot()
    form = {"comp_type": "refund", "amount": "1000", "currency": "KRW", "customer": "0", **data}
    response = client.post(f"/incidents/{incident.id}/compensations", data=form)
    assert response.status_code == status
    assert message in text(response)
    assert snapshot() == before


def test_viewer_cannot_post_a_proposal(login, client, incident, snapshot):
    login("viewer")
    before = snapshot()
    response = client.post(f"/incidents/{incident.id}/compensations", data={
        "comp_type": "refund", "amount": "1000", "currency": "KRW", "customer": "0"})
    assert response.status_code == 403
    assert snapshot() == before


def test_no_proposal_on_a_closed_incident(login, client, incident, make_user, snapshot):
    from incidents import services as incident_services

    incident_services.change_status(make_user("agent"), incident, Status.closed)
    db.session.commit()
    login("agent")
    page = text(client.get(f"/incidents/{incident.id}"))
    assert "Propose compensation" not in page
    before = snapshot()
    response = client.post(f"/incidents/{incident.id}/compensations", data={
        "comp_type": "refund", "amount": "1000", "currency": "KRW", "customer": "0"})
    assert response.status_code == 409
    assert "reopen it before proposing compensation" in text(response)
    assert snapshot() == before


# --- the list and its buttons -----------------------------------------------------------------

def test_buttons_follow_the_readers_authority(login, client, incident, make_user):
    proposer = make_user("agent")
    waiting = propose(proposer, incident, 70_000)                 # needs a lead
    approved = propose(proposer, incident, 10_000)                # unpaid
    paid = propose(proposer, incident, 5_000, CompType.coupon)    # self-serve
    services.pay(proposer, paid)
    db.session.commit()
    expected = {
        "agent": {waiting.id: ["Cancel"], approved.id: ["Mark paid", "Cancel"], paid.id: []},
        "lead": {waiting.id: ["Approve", "Reject", "Cancel"],
                 approved.id: ["Mark paid", "Cancel"], paid.id: []},
    }
    for role, buttons in expected.items():
        login(role)
        rows = comp_rows(text(client.get(f"/incidents/{incident.id}")))
        assert {i: b for i, (_t, b) in rows.items()} == buttons, role
    assert "waiting for Lead" in rows[waiting.id][0]
    assert "approved by policy (self-serve)" in rows[paid.id][0]
    assert "paid by" in rows[paid.id][0]


def test_agent_cannot_approve_above_their_limit_on_the_web(login, client, incident, snapshot):
    agent = login("agent")
    comp = propose(agent, incident, 70_000)
    before = snapshot()
    response = client.post(f"/compensations/{comp.id}/approve", data={})
    assert response.status_code == 403
    assert ("₩70,000 is above what your role may approve for refund on a Blue incident; "
            "a lead must decide.") in text(response)
    assert snapshot() == before


def test_lead_approves_then_agent_pays_then_it_closes(login, client, incident, make_user,
                                                      snapshot):
    proposer = make_user("agent")
    comp = propose(proposer, incident, 70_000, note="Missed the party")
    login("lead")
    response = client.post(f"/compensations/{comp.id}/approve", data={})
    assert response.status_code == 302
    assert "Approved." in text(client.get(f"/incidents/{incident.id}"))
    login("agent")
    before = snapshot()
    refused = client.post(f"/incidents/{incident.id}/status",
                          data={"status": "closed", "expected": "detected"})
    assert refused.status_code == 409
    assert (f"Cannot close yet: Compensation #{comp.id} refund ₩70,000 is approved but not yet "
            "paid.") in text(refused)
    assert snapshot() == before
    assert client.post(f"/compensations/{comp.id}/pay", data={"reason": "Bank transfer"}
                       ).status_code == 302
    again = client.post(f"/compensations/{comp.id}/pay", data={})
    assert again.status_code == 409 and "is paid; it cannot be changed that way" in text(again)
    closed = client.post(f"/incidents/{incident.id}/status",
                         data={"status": "closed", "expected": "detected"})
    assert closed.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(incident), incident.id).status == Status.closed


def test_waiting_proposal_blocks_closing_on_the_web(login, client, incident, make_user):
    comp = propose(make_user("agent"), incident, 70_000)
    login("agent")
    refused = client.post(f"/incidents/{incident.id}/status",
                          data={"status": "closed", "expected": "detected"})
    assert refused.status_code == 409
    assert (f"Compensation #{comp.id} refund ₩70,000 is still waiting for Lead approval."
            in text(refused))
    assert client.post(f"/compensations/{comp.id}/cancel", data={"reason": "Withdrawn"}
                       ).status_code == 302
    assert client.post(f"/incidents/{incident.id}/status",
                       data={"status": "closed", "expected": "detected"}).status_code == 302


def test_reject_needs_a_reason_on_the_web(login, client, incident, make_user, snapshot):
    comp = propose(make_user("agent"), incident, 70_000)
    login("lead")
    before = snapshot()
    response = client.post(f"/compensations/{comp.id}/reject", data={"reason": ""})
    assert response.status_code == 422 and "This field is required." in text(response)
    assert snapshot() == before
    assert client.post(f"/compensations/{comp.id}/reject",
                       data={"reason": "Courier's liability"}).status_code == 302
    page = text(client.get(f"/incidents/{incident.id}"))
    assert "rejected by" in comp_rows(page)[comp.id][0]
    assert "Courier's liability" in comp_rows(page)[comp.id][0]


def test_timeline_shows_compensation_events(login, client, incident, make_user):
    agent = make_user("agent")
    comp = propose(agent, incident, 70_000, note="Missed a birthday dinner")
    services.approve(make_user("lead"), comp)
    services.pay(agent, comp, note="Transfer ref 42")
    db.session.commit()
    login("viewer")
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    timeline = page[page.index('<ol class="timeline"'):]
    for kind in ("proposed", "approved", "paid"):
        assert f'class="event event-compensation_{kind}"' in timeline
    assert "Missed a birthday dinner" in timeline and "Transfer ref 42" in timeline
    what = f"compensation #{comp.id} (Refund, ₩70,000)"
    readable = html.unescape(re.sub(r"\s+", " ", timeline))
    for line in (f"proposed {what}", f"approved {what}", f"marked {what} as paid"):
        assert line in readable
    self_serve = propose(agent, incident, 5_000, CompType.coupon)
    page = text(client.get(f"/incidents/{incident.id}"))
    assert (f"compensation #{self_serve.id} (Coupon or discount, ₩5,000) was approved "
            "automatically by the self-serve policy") in re.sub(r"\s+", " ", page)


# --- the approval queue -----------------------------------------------------------------------

def test_approvals_page_lists_the_leads_queue_oldest_first(login, client, make_user,
                                                           make_incident):
    from datetime import UTC, datetime, timedelta

    agent = make_user("agent")
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    blue = make_incident(agent, grade="Blue", title="Parcel lost", impact="Order never came",
                         customers=[CustomerData(name="Minho", impact="Gift for a funeral lost")])
    red = make_incident(agent, grade="Red", title="Food poisoning", impact="Customer fell ill")
    later = propose(agent, blue, 90_000, now=t0 + timedelta(hours=1),
                    customer_id=blue.customers[0].id)
    first = propose(agent, red, 20_000, now=t0)
    propose(agent, blue, 900_000, now=t0)     # a manager's
    login("lead")
    page = text(client.get("/approvals"))
    rows = re.findall(r"<tr>\s*<td>.*?</tr>", page, re.S)
    assert len(rows) == 2
    assert "Red" in rows[0] and f"#{red.id} Food poisoning" in rows[0]
    assert "Customer fell ill" in rows[0] and "₩20,000" in rows[0]
    assert "Blue" in rows[1] and "Gift for a funeral lost" in rows[1] and "₩90,000" in rows[1]
    assert "Order never came" not in rows[1]  # the customer's own harm comes first
    response = client.post(f"/compensations/{first.id}/approve", data={"from": "queue"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/approvals")
    page = text(client.get("/approvals"))
    assert f"#{red.id} Food poisoning" not in page and f"#{blue.id} Parcel lost" in page
    assert "Approved." in page
    assert later.status == CompStatus.proposed


def test_refusal_from_the_queue_stays_on_the_queue(login, client, make_user, incident):
    comp = propose(make_user("agent"), incident, 900_000)
    login("lead")
    response = client.post(f"/compensations/{comp.id}/approve", data={"from": "queue"})
    assert response.status_code == 403
    page = text(response)
    assert "Waiting for your approval" in page and "a manager must decide" in page


def test_approvals_page_access(login, client):
    login("agent")
    assert "Nothing is waiting for you." in text(client.get("/approvals"))
    login("viewer")
    assert client.get("/approvals").status_code == 403


# --- the policy grid --------------------------------------------------------------------------

def grid_form(client) -> dict[str, str]:
    """Every input of the policy page, as the browser would send it back."""
    page = client.get("/admin/authority").get_data(as_text=True)
    fields = dict(re.findall(r'<input id="[^"]*" name="([^"]+)"[^>]*value="([^"]*)"', page))
    fields["csrf_token"] = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    fields["currency"] = re.search(r'name="currency" value="([^"]*)"', page).group(1)
    return fields


def test_policy_grid_shows_and_saves(login, client):
    login("admin")
    blue, red = grade("Blue").id, grade("Red").id
    form = grid_form(client)
    assert len([k for k in form if k.count(".") == 2]) == 6 * 4 * 4
    assert form[f"refund.{blue}.agent"] == "50000"
    assert form[f"coupon.{blue}.self_serve"] == "5000"
    assert form[f"refund.{red}.agent"] == "" and form["currency"] == "KRW"
    form[f"refund.{blue}.agent"] = "70,000"
    form[f"cash.{red}.lead"] = "250000"
    form[f"coupon.{blue}.self_serve"] = ""
    response = client.post("/admin/authority", data=form)
    assert response.status_code == 302
    assert "Authority policy saved." in text(client.get("/admin/authority"))
    db.session.expire_all()
    assert services.rule_for(CompType.refund, grade("Blue")).agent == 70_000
    assert services.rule_for(CompType.cash, grade("Red")).lead == 250_000
    assert services.rule_for(CompType.coupon, grade("Blue")).self_serve is None
    assert services.rule_for(CompType.refund, grade("Green")).agent == 50_000


@pytest.mark.parametrize(("value", "message"), [("abc", "Not an amount."),
                                                ("12.5", "Not an amount."),
                                                ("-1", "Not an amount."),
                                                ("1e999999", "Not an amount.")])
def test_policy_grid_bad_amount_saves_nothing(value, message, login, client, snapshot):
    login("admin")
    blue = grade("Blue").id
    form = grid_form(client)
    form[f"refund.{blue}.agent"] = "60000"
    form[f"refund.{blue}.lead"] = value
    before = snapshot()
    response = client.post("/admin/authority", data=form)
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert f'value="{value}"' in page and 'value="60000"' in page  # what was typed stays
    # The message sits on the very cell that is wrong.
    assert re.search(rf'<td class="has-errors"><label class="sr-only" for="refund\.{blue}\.lead"',
                     page)
    assert page.count('class="has-errors"') == 1
    assert snapshot() == before


def test_policy_grid_is_admin_only(login, client, snapshot):
    for role in ("viewer", "agent", "lead", "manager"):
        login(role)
        assert client.get("/admin/authority").status_code == 403
        before = snapshot()
        assert client.post("/admin/authority", data={"currency": "USD"}).status_code == 403
        assert snapshot() == before


def test_policy_grid_currency_change_conflict(login, client, incident, make_user, snapshot):
    propose(make_user("agent"), incident, 10_000)  # approved, unpaid
    login("admin")
    form = grid_form(client)
    form["currency"] = "USD"
    before = snapshot()
    response = client.post("/admin/authority", data=form)
    assert response.status_code == 409
    assert "Settle or cancel the open compensations in KRW" in text(response)
    assert snapshot() == before
    assert db.session.scalar(select(AuthorityRule).join(Grade).where(
        AuthorityRule.type == CompType.refund, Grade.name == "Blue")).agent == 50_000


def test_propose_form_labels_point_at_their_own_inputs(login, client, incident):
    """Other forms on the incident page also have `note` and `customer` fields."""
    login("agent")
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    panel = page[page.index('id="compensation"'):]
    panel = panel[:panel.index("</section>")]
    for target in re.findall(r'<label[^>]*for="([^"]+)"', panel):
        assert len(re.findall(rf'\sid="{re.escape(target)}"', page)) == 1, target
