"""Compensation over JSON: proposals, decisions, the approval queue, report and policy."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from flask import Blueprint
from pydantic import BaseModel, Field, StrictInt

from app.api import api_user, created_once, endpoint
from app.extensions import db
from app.models import Role
from app.timeutil import as_utc
from incidents import services as incident_services
from incidents.compensation import services
from incidents.compensation.models import Compensation, CompStatus, CompType
from incidents.schemas import Strict, Text

bp = Blueprint("compensation_api", __name__)

Amount = Annotated[StrictInt, Field(gt=0, le=services.AMOUNT_MAX)]
Limit = Annotated[StrictInt, Field(ge=0, le=services.AMOUNT_MAX)] | None


class CompensationIn(Strict):
    type: CompType
    amount: Amount = Field(description="Integer minor units (KRW has none: won)")
    currency: Annotated[str, Field(min_length=3, max_length=3)] | None = None
    customer_id: StrictInt | None = None
    note: Text = ""
    approve: bool = Field(True, description="Approve at once if the proposer's limit covers it")


class DecisionIn(Strict):
    reason: Text = ""


class CompensationOut(BaseModel):
    id: int
    incident_id: int
    customer_id: int | None
    type: CompType
    amount: int
    currency: str
    note: str
    status: CompStatus
    required_role: Literal["agent", "lead", "manager", "admin"]
    proposed_by: str
    proposed_at: datetime
    approved_by: str | None = Field(description="E-mail, 'policy' for self-serve, or null")
    approved_at: datetime | None
    rejected_by: str | None
    paid_by: str | None
    paid_at: datetime | None
    cancelled_by: str | None
    reason: str


class QueueOut(BaseModel):
    items: list[CompensationOut]


class RuleIO(Strict):
    type: CompType
    grade: Annotated[str, Field(min_length=1, max_length=40)]
    self_serve: Limit = None
    agent: Limit = None
    lead: Limit = None
    manager: Limit = None


class PolicyIO(Strict):
    currency: Annotated[str, Field(min_length=3, max_length=3)]
    rules: list[RuleIO] = Field(max_length=1000)


class PeriodQuery(Strict):
    from_: date | None = Field(None, alias="from")
    to: date | None = None


class DelegationGroupOut(BaseModel):
    category: str
    type: str
    count: int
    total_amount: int
    median_amount: float | None
    escalations: int
    median_wait_minutes: float | None
    approved_as_proposed: float | None
    candidate: bool
    suggested_agent_limit: int | None


class DelegationOut(BaseModel):
    currency: str
    start: date
    end: date
    groups: list[DelegationGroupOut]
    candidates: list[DelegationGroupOut]


def _iso(value):
    value = as_utc(value)
    return value.isoformat() if value else None


def comp_dict(c: Compensation) -> dict:
    email = lambda u: u.email if u else None  # noqa: E731
    return {"id": c.id, "incident_id": c.incident_id, "customer_id": c.customer_id,
            "type": c.type.value, "amount": c.amount, "currency": c.currency, "note": c.note,
            "status": c.status.value, "required_role": c.required_role.value,
            "proposed_by": c.proposed_by.email, "proposed_at": _iso(c.proposed_at),
            "approved_by": "policy" if c.approved_via == "policy" else email(c.approved_by),
            "approved_at": _iso(c.approved_at), "rejected_by": email(c.decided_by),
            "paid_by": email(c.paid_by), "paid_at": _iso(c.paid_at),
            "cancelled_by": email(c.cancelled_by), "reason": c.reason}


@endpoint(bp, "/incidents/<int:incident_id>/compensations", "POST", summary="Propose compensation",
          role=Role.agent, body=CompensationIn, response=CompensationOut, status=201,
          errors=(404, 409), idempotent=True)
def propose(incident_id: int, data: CompensationIn):
    incident = incident_services.get_incident(incident_id)
    return created_once(
        "compensation", {"incident": incident_id, **data.model_dump(mode="json", exclude_unset=True)},
        lambda: services.propose(api_user(), incident, comp_type=data.type, amount=data.amount,
                                 currency=data.currency, customer_id=data.customer_id,
                                 note=data.note, approve=data.approve).id,
        lambda comp_id: comp_dict(services.get_compensation(comp_id)))


@endpoint(bp, "/incidents/<int:incident_id>/compensations", "GET",
          summary="Compensations of an incident", response=QueueOut, errors=(404,))
def for_incident(incident_id: int):
    incident = incident_services.get_incident(incident_id)
    return {"items": [comp_dict(c) for c in services.for_incident(incident)]}


def _decision(summary: str, action):
    def view(comp_id: int, data: DecisionIn):
        comp = services.get_compensation(comp_id)
        action(api_user(), comp, data.reason)
        db.session.commit()
        return comp_dict(comp)
    view.__name__ = summary.split()[0].lower()
    return view


for _name, _action in (("Approve", lambda u, c, r: services.approve(u, c)),
                       ("Reject", services.reject), ("Pay", services.pay),
                       ("Cancel", services.cancel)):
    endpoint(bp, f"/compensations/<int:comp_id>/{_name.lower()}", "POST",
             summary=f"{_name} a compensation", role=Role.agent, body=DecisionIn,
             response=CompensationOut, errors=(404, 409))(_decision(_name, _action))


@endpoint(bp, "/approvals", "GET", summary="Proposals waiting for the caller's role",
          role=Role.agent, response=QueueOut)
def approvals():
    return {"items": [comp_dict(c) for c in services.queue(api_user())]}


@endpoint(bp, "/reports/delegation", "GET", summary="Delegation report", role=Role.lead,
          query=PeriodQuery, response=DelegationOut)
def delegation(params: PeriodQuery):
    end = params.to or datetime.now(UTC).date()
    start = params.from_ or end - timedelta(days=89)
    groups = services.delegation_report(datetime.combine(start, time.min, tzinfo=UTC),
                                        datetime.combine(end + timedelta(days=1), time.min,
                                                         tzinfo=UTC))
    rows = [g.as_dict() for g in groups]
    return {"currency": services.policy_currency(), "start": start.isoformat(),
            "end": end.isoformat(), "groups": rows, "candidates": [r for r in rows if r["candidate"]]}


def _policy_dict() -> dict:
    return {"currency": services.policy_currency(), "rules": [
        {"type": r.type.value, "grade": r.grade.name, "self_serve": r.self_serve,
         "agent": r.agent, "lead": r.lead, "manager": r.manager} for r in services.policy_rules()]}


@endpoint(bp, "/authority-policy", "GET", summary="The authority policy", response=PolicyIO)
def get_policy():
    return _policy_dict()


@endpoint(bp, "/authority-policy", "PUT", summary="Replace the authority policy's rules",
          role=Role.admin, body=PolicyIO, response=PolicyIO, errors=(409,))
def put_policy(data: PolicyIO):
    rules = [services.RuleData(r.type, incident_services.find_grade(r.grade), r.self_serve,
                               r.agent, r.lead, r.manager) for r in data.rules]
    services.set_policy(api_user(), data.currency, rules)
    db.session.commit()
    return _policy_dict()
