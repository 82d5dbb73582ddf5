"""The compensation JSON API: shapes, authority, conflicts, the queue and the policy."""

from __future__ import annotations

import pytest

from app.extensions import db
from incidents.compensation import services
from incidents.compensation.api import CompensationOut, PolicyIO, QueueOut
from incidents.compensation.models import CompStatus, CompType
from incidents.services import CustomerData
from tests import conftest


@pytest.fixture(autouse=True)
def _snapshot_compensation_tables(monkeypatch):
    """The shared snapshot, extended here with the tables this feature writes."""
    monkeypatch.setattr(conftest, "SNAPSHOT_TABLES", (
        *conftest.SNAPSHOT_TABLES, "compensations", "authority_rules", "settings"))


@pytest.fixture
def incident(team, make_incident):
    return make_incident(team["agent"].user, grade="Blue", customers=[
        CustomerData(name="Jiwoo Lee", impact="Charged twice for one order")])


def url(incident) -> str:
    return f"/api/v1/incidents/{incident.id}/compensations"


def created(response) -> CompensationOut:
    assert response.status_code == 201, response.get_json()
    return CompensationOut.model_validate(response.get_json())


def ok(response) -> CompensationOut:
    assert response.status_code == 200, response.get_json()
    return CompensationOut.model_validate(response.get_json())


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_json()
    body = response.get_json()["error"]
    assert body["code"] == code and body["message"]
    return body


# --- proposing -----------------------------------------------------------------------------------

def test_self_serve_proposal_is_approved_by_policy(team, incident):
    comp = created(team["agent"].post(url(incident), json={"type": "coupon", "amount": 5_000}))
    assert (comp.status, comp.required_role, comp.approved_by) == (
        CompStatus.approved, "agent", "policy")
    assert comp.approved_at is not None and comp.currency == "KRW"
    assert comp.proposed_by == team["agent"].user.email


def test_proposal_within_the_proposers_limit_is_approved(team, incident):
    agent = team["agent"]
    comp = created(agent.post(url(incident), json={
        "type": "refund", "amount": 50_000, "currency": "KRW", "note": "Charged twice",
        "customer_id": incident.customers[0].id}))
    assert (comp.status, comp.approved_by) == (CompStatus.approved, agent.user.email)
    assert comp.customer_id == incident.customers[0].id and comp.note == "Charged twice"
    held = created(agent.post(url(incident), json={"type": "refund", "amount": 50_000,
                                                   "approve": False}))
    assert held.status == CompStatus.proposed and held.approved_by is None
    assert held.required_role == "agent"


def test_proposal_above_the_limit_waits_and_cannot_be_self_approved(team, incident, snapshot):
    agent = team["agent"]
    comp = created(agent.post(url(incident), json={"type": "refund", "amount": 50_001}))
    assert (comp.status, comp.required_role, comp.approved_by) == (
        CompStatus.proposed, "lead", None)
    before = snapshot()
    body = error(agent.post(f"/api/v1/compensations/{comp.id}/approve", json={}), 403,
                 "authority_exceeded")
    assert body["required_role"] == "lead"
    assert snapshot() == before
    approved = ok(team["lead"].post(f"/api/v1/compensations/{comp.id}/approve", json={}))
    assert approved.status == CompStatus.approved
    assert approved.approved_by == team["lead"].user.email


@pytest.mark.parametrize("amount", [0, -1, 1.5, 50000.0, True, "5000", None,
                                    services.AMOUNT_MAX + 1])
def test_amount_must_be_a_positive_integer(amount, team, incident, snapshot):
    before = snapshot()
    body = error(team["agent"].post(url(incident), json={"type": "refund", "amount": amount}),
                 422, "validation_failed")
    assert "amount" in body["fields"]
    assert snapshot() == before


def test_largest_amount_is_accepted(team, incident):
    comp = created(team["agent"].post(url(incident), json={"type": "refund",
                                                           "amount": 10**13}))
    assert comp.amount == 10**13 and comp.required_role == "admin"


@pytest.mark.parametrize(("body", "field"), [
    ({"type": "refund", "amount": 1_000, "currency": "USD"}, "currency"),
    ({"type": "refund", "amount": 1_000, "currency": "XYZ"}, "currency"),
    ({"type": "refund", "amount": 1_000, "currency": "KRWX"}, "currency"),
    ({"type": "refund", "amount": 1_000, "customer_id": 999_999}, "customer_id"),
    ({"type": "refund", "amount": 1_000, "approver": "me"}, "approver"),
    ({"type": "bribe", "amount": 1_000}, "type"),
    ({"amount": 1_000}, "type"),
    ({"type": "refund"}, "amount"),
    ({"type": "refund", "amount": 1_000, "note": "a\x00b"}, "note"),
])
def test_bad_proposals_are_refused_with_the_field(body, field, team, incident, snapshot):
    before = snapshot()
    answer = error(team["agent"].post(url(incident), json=body), 422, "validation_failed")
    assert field in answer["fields"]
    assert snapshot() == before


def test_currency_mismatch_names_the_policy_currency(team, incident):
    body = error(team["agent"].post(url(incident), json={"type": "refund", "amount": 1_000,
                                                         "currency": "USD"}),
                 422, "validation_failed")
    assert "KRW" in body["fields"]["currency"] and body["message"] == "Currency mismatch."
    unknown = error(team["agent"].post(url(incident), json={
        "type": "refund", "amount": 1_000, "currency": "ZZZ"}), 422, "validation_failed")
    assert unknown["message"] == "Unknown currency."


def test_customer_of_another_incident_is_refused(team, incident, make_incident, snapshot):
    other = make_incident(team["agent"].user, customers=[CustomerData(name="Somebody else")])
    before = snapshot()
    body = error(team["agent"].post(url(incident), json={
        "type": "refund", "amount": 1_000, "customer_id": other.customers[0].id}),
        422, "validation_failed")
    assert str(incident.id) in body["fields"]["customer_id"]
    assert snapshot() == before


def test_no_proposal_on_a_closed_incident(team, incident, snapshot):
    agent = team["agent"]
    assert agent.post(f"/api/v1/incidents/{incident.id}/status",
                      json={"status": "closed"}).status_code == 200
    before = snapshot()
    error(agent.post(url(incident), json={"type": "refund", "amount": 1_000}), 409, "conflict")
    assert snapshot() == before


def test_viewer_and_strangers_cannot_propose(team, incident, client, snapshot):
    before = snapshot()
    error(team["viewer"].post(url(incident), json={"type": "refund", "amount": 1}), 403,
          "forbidden")
    assert client.post(url(incident), json={"type": "refund", "amount": 1}).status_code == 401
    error(team["agent"].post("/api/v1/incidents/999999/compensations",
                             json={"type": "refund", "amount": 1}), 404, "not_found")
    assert snapshot() == before


def test_list_of_an_incident(team, incident):
    agent = team["agent"]
    first = created(agent.post(url(incident), json={"type": "refund", "amount": 1_000}))
    second = created(agent.post(url(incident), json={"type": "cash", "amount": 9_000}))
    listing = QueueOut.model_validate(team["viewer"].get(url(incident)).get_json())
    assert [c.id for c in listing.items] == [first.id, second.id]
    assert listing.items[1].required_role == "manager"


# --- deciding --------------------------------------------------------------------------------

def test_reject_needs_a_reason_and_authority(team, incident, snapshot):
    comp = created(team["agent"].post(url(incident), json={"type": "refund", "amount": 60_000}))
    path = f"/api/v1/compensations/{comp.id}/reject"
    before = snapshot()
    body = error(team["agent"].post(path, json={"reason": "Not ours"}), 403, "authority_exceeded")
    assert body["required_role"] == "lead"
    body = error(team["lead"].post(path, json={"reason": "  "}), 422, "validation_failed")
    assert "reason" in body["fields"]
    error(team["lead"].post(path, json={"reason": "x", "extra": 1}), 422, "validation_failed")
    error(team["viewer"].post(path, json={"reason": "x"}), 403, "forbidden")
    assert snapshot() == before
    rejected = ok(team["lead"].post(path, json={"reason": "Courier's fault, claim there"}))
    assert rejected.status == CompStatus.rejected
    assert rejected.rejected_by == team["lead"].user.email
    assert rejected.reason == "Courier's fault, claim there" and rejected.approved_at is None


def test_pay_once_only(team, incident, snapshot):
    comp = created(team["agent"].post(url(incident), json={"type": "refund", "amount": 10_000}))
    path = f"/api/v1/compensations/{comp.id}/pay"
    paid = ok(team["agent"].post(path, json={"reason": "PG ref 123"}))
    assert paid.status == CompStatus.paid and paid.paid_by == team["agent"].user.email
    assert paid.paid_at is not None
    before = snapshot()
    body = error(team["lead"].post(path, json={}), 409, "conflict")
    assert f"#{comp.id}" in body["message"] and "paid" in body["message"]
    error(team["lead"].post(f"/api/v1/compensations/{comp.id}/cancel", json={}), 409, "conflict")
    assert snapshot() == before


def test_pay_needs_approval_first(team, incident, snapshot):
    comp = created(team["agent"].post(url(incident), json={"type": "refund", "amount": 90_000}))
    before = snapshot()
    error(team["manager"].post(f"/api/v1/compensations/{comp.id}/pay", json={}), 409, "conflict")
    assert snapshot() == before


@pytest.mark.parametrize("approve", [True, False])
def test_cancel_from_proposed_or_approved(approve, team, incident):
    comp = created(team["agent"].post(url(incident), json={"type": "refund", "amount": 10_000,
                                                           "approve": approve}))
    cancelled = ok(team["agent"].post(f"/api/v1/compensations/{comp.id}/cancel",
                                      json={"reason": "Customer withdrew"}))
    assert cancelled.status == CompStatus.cancelled
    assert cancelled.cancelled_by == team["agent"].user.email
    assert cancelled.reason == "Customer withdrew"
    error(team["agent"].post(f"/api/v1/compensations/{comp.id}/cancel", json={}), 409, "conflict")


def test_admin_approves_beyond_every_limit(team, incident):
    comp = created(team["agent"].post(url(incident), json={"type": "cash", "amount": 1_000_001}))
    assert comp.required_role == "admin"
    body = error(team["manager"].post(f"/api/v1/compensations/{comp.id}/approve", json={}),
                 403, "authority_exceeded")
    assert body["required_role"] == "admin"
    assert ok(team["admin"].post(f"/api/v1/compensations/{comp.id}/approve",
                                 json={})).approved_by == team["admin"].user.email


def test_unknown_compensation_is_404(team):
    for action in ("approve", "reject", "pay", "cancel"):
        error(team["admin"].post(f"/api/v1/compensations/424242/{action}", json={"reason": "x"}),
              404, "not_found")


# --- the queue ---------------------------------------------------------------------------------

def test_approvals_queue_is_the_callers_role_oldest_first(team, incident, make_incident):
    agent = team["agent"]
    red = make_incident(agent.user, grade="Red")
    first = created(agent.post(url(incident), json={"type": "refund", "amount": 60_000}))
    created(agent.post(url(incident), json={"type": "refund", "amount": 400_000}))  # manager
    created(agent.post(url(incident), json={"type": "refund", "amount": 5_000}))  # approved
    second = created(agent.post(url(red), json={"type": "coupon", "amount": 1_000}))
    for_admin = created(agent.post(url(incident), json={"type": "cash", "amount": 2_000_000}))
    queues = {role: QueueOut.model_validate(team[role].get("/api/v1/approvals").get_json())
              for role in ("agent", "lead", "admin")}
    assert [c.id for c in queues["lead"].items] == [first.id, second.id]
    assert [c.id for c in queues["admin"].items] == [for_admin.id]
    assert queues["agent"].items == []
    assert team["viewer"].get("/api/v1/approvals").status_code == 403
    ok(team["lead"].post(f"/api/v1/compensations/{first.id}/approve", json={}))
    again = QueueOut.model_validate(team["lead"].get("/api/v1/approvals").get_json())
    assert [c.id for c in again.items] == [second.id]


# --- closing -----------------------------------------------------------------------------------

def test_unsettled_compensation_blocks_closing(team, incident, snapshot):
    agent = team["agent"]
    waiting = created(agent.post(url(incident), json={"type": "refund", "amount": 70_000}))
    unpaid = created(agent.post(url(incident), json={"type": "credit", "amount": 20_000}))
    status = f"/api/v1/incidents/{incident.id}/status"
    before = snapshot()
    body = error(agent.post(status, json={"status": "closed"}), 409, "transition_refused")
    assert f"#{waiting.id} refund ₩70,000" in body["message"]
    assert f"#{unpaid.id} credit ₩20,000" in body["message"]
    assert snapshot() == before
    ok(agent.post(f"/api/v1/compensations/{unpaid.id}/pay", json={}))
    body = error(agent.post(status, json={"status": "closed"}), 409, "transition_refused")
    assert f"#{waiting.id}" in body["message"] and f"#{unpaid.id}" not in body["message"]
    ok(team["lead"].post(f"/api/v1/compensations/{waiting.id}/approve", json={}))
    body = error(agent.post(status, json={"status": "closed"}), 409, "transition_refused")
    assert "approved but not yet paid" in body["message"]
    ok(agent.post(f"/api/v1/compensations/{waiting.id}/pay", json={}))
    closed = agent.post(status, json={"status": "closed"})
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"


@pytest.mark.parametrize("settle", ["cancel", "reject"])
def test_cancelled_or_rejected_lets_the_incident_close(settle, team, incident):
    agent = team["agent"]
    comp = created(agent.post(url(incident), json={"type": "refund", "amount": 70_000}))
    status = f"/api/v1/incidents/{incident.id}/status"
    error(agent.post(status, json={"status": "closed"}), 409, "transition_refused")
    ok(team["lead"].post(f"/api/v1/compensations/{comp.id}/{settle}", json={"reason": "No"}))
    assert agent.post(status, json={"status": "closed"}).status_code == 200


# --- the policy --------------------------------------------------------------------------------

def test_get_policy(team):
    policy = PolicyIO.model_validate(team["viewer"].get("/api/v1/authority-policy").get_json())
    assert policy.currency == "KRW" and len(policy.rules) == 24
    rules = {(r.type, r.grade): r for r in policy.rules}
    coupon_blue = rules[(CompType.coupon, "Blue")]
    assert (coupon_blue.self_serve, coupon_blue.agent, coupon_blue.lead, coupon_blue.manager) == (
        5_000, 30_000, 100_000, 1_000_000)
    assert rules[(CompType.refund, "Red")].agent is None
    assert rules[(CompType.cash, "Green")].lead is None


@pytest.mark.parametrize("role", ["viewer", "agent", "lead", "manager"])
def test_only_admin_may_put_the_policy(role, team, snapshot):
    before = snapshot()
    error(team[role].put("/api/v1/authority-policy", json={"currency": "KRW", "rules": []}),
          403, "forbidden")
    assert snapshot() == before


def test_put_policy_changes_limits_for_new_proposals_only(team, incident):
    agent = team["agent"]
    waiting = created(agent.post(url(incident), json={"type": "refund", "amount": 80_000}))
    assert waiting.required_role == "lead"
    response = team["admin"].put("/api/v1/authority-policy", json={"currency": "KRW", "rules": [
        {"type": "refund", "grade": "blue", "self_serve": 1_000, "agent": 100_000,
         "lead": 500_000, "manager": None}]})
    assert response.status_code == 200
    policy = PolicyIO.model_validate(response.get_json())
    refund_blue = next(r for r in policy.rules if (r.type, r.grade) == (CompType.refund, "Blue"))
    assert (refund_blue.self_serve, refund_blue.agent, refund_blue.lead, refund_blue.manager) == (
        1_000, 100_000, 500_000, None)
    assert len(policy.rules) == 24  # the other rules stay as they were
    # The waiting proposal keeps the bar it was proposed under: a lead's.
    lead_queue = QueueOut.model_validate(team["lead"].get("/api/v1/approvals").get_json())
    assert [c.id for c in lead_queue.items] == [waiting.id]
    refused = agent.post(f"/api/v1/compensations/{waiting.id}/approve", json={})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["required_role"] == "lead"
    ok(team["lead"].post(f"/api/v1/compensations/{waiting.id}/approve", json={}))
    assert created(agent.post(url(incident), json={"type": "refund", "amount": 80_000})
                   ).status == CompStatus.approved  # new proposals: the new limit
    self_serve = created(agent.post(url(incident), json={"type": "refund", "amount": 1_000,
                                                         "approve": False}))
    assert self_serve.approved_by == "policy"


@pytest.mark.parametrize(("body", "field"), [
    ({"currency": "KRW", "rules": [], "comment": "x"}, "comment"),
    ({"currency": "KRW", "rules": [{"type": "refund", "grade": "Blue", "agnet": 1}]},
     "rules.0.agnet"),
    ({"currency": "KRW", "rules": [{"type": "refund", "grade": "Blue", "agent": -1}]},
     "rules.0.agent"),
    ({"currency": "KRW", "rules": [{"type": "refund", "grade": "Blue", "agent": 1.5}]},
     "rules.0.agent"),
    ({"currency": "KRW", "rules": [{"type": "refund", "grade": "Blue", "lead": 10**13 + 1}]},
     "rules.0.lead"),
    ({"currency": "KRW", "rules": [{"type": "refund", "grade": "Purple"}]}, "grade"),
    ({"currency": "KRW", "rules": [{"type": "loan", "grade": "Blue"}]}, "rules.0.type"),
    ({"currency": "XYZ", "rules": []}, "currency"),
    ({"rules": []}, "currency"),
    ({"currency": "KRW", "rules": [{"type": "refund", "grade": "Blue", "agent": 1},
                                   {"type": "refund", "grade": "blue", "agent": 2}]}, "rules.1"),
])
def test_bad_policy_is_refused_and_nothing_changes(body, field, team, snapshot):
    before = snapshot()
    answer = error(team["admin"].put("/api/v1/authority-policy", json=body), 422,
                   "validation_failed")
    assert field in answer["fields"]
    assert snapshot() == before


def test_currency_change_waits_for_open_compensations(team, incident, snapshot):
    agent, admin = team["agent"], team["admin"]
    comp = created(agent.post(url(incident), json={"type": "refund", "amount": 10_000}))
    before = snapshot()
    body = error(admin.put("/api/v1/authority-policy", json={"currency": "USD", "rules": []}),
                 409, "conflict")
    assert "KRW" in body["message"]
    assert snapshot() == before
    ok(agent.post(f"/api/v1/compensations/{comp.id}/pay", json={}))
    moved = admin.put("/api/v1/authority-policy", json={"currency": "USD", "rules": []})
    assert moved.status_code == 200 and moved.get_json()["currency"] == "USD"
    body = error(agent.post(url(incident), json={"type": "refund", "amount": 1_000,
                                                 "currency": "KRW"}), 422, "validation_failed")
    assert "USD" in body["fields"]["currency"]
    assert created(agent.post(url(incident), json={"type": "refund",
                                                   "amount": 1_000})).currency == "USD"


def test_openapi_documents_the_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/incidents/{incident_id}/compensations", "/api/v1/approvals",
                 "/api/v1/compensations/{comp_id}/approve", "/api/v1/authority-policy",
                 "/api/v1/reports/delegation"):
        assert path in paths
    assert "put" in paths["/api/v1/authority-policy"]


def test_refused_requests_commit_nothing(team, incident, snapshot):
    """The sweep: each refusal above leaves all committed rows alone, seen together here."""
    comp = created(team["agent"].post(url(incident), json={"type": "refund", "amount": 99_000}))
    before = snapshot()
    for caller, path, body in [
        ("agent", f"/api/v1/compensations/{comp.id}/approve", {}),
        ("agent", f"/api/v1/compensations/{comp.id}/pay", {}),
        ("viewer", f"/api/v1/compensations/{comp.id}/cancel", {}),
        ("lead", f"/api/v1/compensations/{comp.id}/reject", {}),
        ("agent", url(incident), {"type": "refund", "amount": 0}),
    ]:
        assert team[caller].post(path, json=body).status_code >= 400
    assert team["admin"].put("/api/v1/authority-policy", json={"currency": "USD",
                                                               "rules": []}).status_code == 409
    assert snapshot() == before
    db.session.expire_all()
    assert services.get_compensation(comp.id).status == CompStatus.proposed


def test_the_snapshot_sees_this_features_tables(team, incident, snapshot):
    before = snapshot()
    assert {"compensations", "authority_rules", "settings"} <= set(before)
    assert before["settings"] == [("policy_currency", "KRW")]
    created(team["agent"].post(url(incident), json={"type": "refund", "amount": 1_000}))
    assert len(snapshot()["compensations"]) == len(before["compensations"]) + 1
