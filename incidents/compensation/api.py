"""Compensation over JSON: proposals, decisions, the approval queue, report and policy."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from app import bounds
from app.api import RULE, Id, api_user, created_once, endpoint, iso, rule, text
from app.bounds import Day
from app.extensions import db
from app.models import Role
from incidents import services as incident_services
from incidents.compensation import services
from incidents.compensation.models import Compensation, CompStatus, CompType
from incidents.schemas import GradeName, Strict

bp = Blueprint("compensation_api", __name__)

# Money is a JSON integer in minor units: 50000.0, though JSON Schema counts it an integer, is
# refused as a sign of a client that computes money in floating point.
_WRITTEN_AS_INTEGER = "Written as a JSON integer: 50000, not 50000.0"
Amount = Annotated[StrictInt, Field(gt=0, le=services.AMOUNT_MAX), rule(_WRITTEN_AS_INTEGER)]
Limit = Annotated[StrictInt, Field(ge=0, le=services.AMOUNT_MAX), rule(_WRITTEN_AS_INTEGER)] | None
# Three letters; bodies trim surrounding spaces and the server reads it in capitals.
Currency = Annotated[str, Field(json_schema_extra={"pattern": r"^\s*[A-Za-z]{3}\s*$"})]
Note = text(5000)


class CompensationIn(Strict):
    type: CompType
    amount: Amount = Field(description="Integer minor units (KRW has none: won)")
    currency: Annotated[Currency, rule("The authority policy's currency (GET "
                                       "/authority-policy); absent or null for it")] | None = None
    customer_id: Annotated[Id, rule(
        "A customer recorded on this incident")] | None = None
    note: Note = ""
    approve: bool = Field(True, description="Approve at once if the proposer's limit covers it")


class DecisionIn(Strict):
    """Approving, paying or cancelling: a reason (a note, when paying) is optional."""
    reason: Note = ""


class RejectIn(Strict):
    """Rejecting: the proposer is told why."""
    reason: text(5000, required=True)


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
    model_config = ConfigDict(json_schema_extra={RULE: "At most one rule for each type and grade"})
    type: CompType
    grade: GradeName
    self_serve: Limit = None
    agent: Limit = None
    lead: Limit = None
    manager: Limit = None


class PolicyIO(Strict):
    currency: Annotated[Currency, rule("An ISO 4217 code (KRW, USD, ...)")]
    rules: list[RuleIO] = Field(max_length=1000)


class PeriodQuery(Strict):
    from_: Annotated[Day, rule("On or before `to`, at most 3,660 days before it")] | None = Field(
        None, alias="from")
    to: Annotated[Day, rule("On or after `from`")] | None = None


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


def comp_dict(c: Compensation) -> dict:
    email = lambda u: u.email if u else None  # noqa: E731
    return {"id": c.id, "incident_id": c.incident_id, "customer_id": c.customer_id,
            "type": c.type.value, "amount": c.amount, "currency": c.currency, "note": c.note,
            "status": c.status.value, "required_role": c.required_role.value,
            "proposed_by": c.proposed_by.email, "proposed_at": iso(c.proposed_at),
            "approved_by": "policy" if c.approved_via == "policy" else email(c.approved_by),
            "approved_at": iso(c.approved_at), "rejected_by": email(c.decided_by),
            "paid_by": email(c.paid_by), "paid_at": iso(c.paid_at),
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
    def view(comp_id: int, data: DecisionIn | RejectIn):
        comp = services.get_compensation(comp_id)
        action(api_user(), comp, data.reason)
        db.session.commit()
        return comp_dict(comp)
    view.__name__ = summary.split()[0].lower()
    return view


for _name, _action, _body in (("Approve", lambda u, c, r: services.approve(u, c), DecisionIn),
                              ("Reject", services.reject, RejectIn),
                              ("Pay", services.pay, DecisionIn),
                              ("Cancel", services.cancel, DecisionIn)):
    endpoint(bp, f"/compensations/<int:comp_id>/{_name.lower()}", "POST",
             summary=f"{_name} a compensation", role=Role.agent, body=_body,
             response=CompensationOut, errors=(404, 409))(_decision(_name, _action))


@endpoint(bp, "/approvals", "GET", summary="Proposals waiting for the caller's role",
          role=Role.agent, response=QueueOut)
def approvals():
    return {"items": [comp_dict(c) for c in services.queue(api_user())]}


@endpoint(bp, "/reports/delegation", "GET", summary="Delegation report", role=Role.lead,
          query=PeriodQuery, response=DelegationOut)
def delegation(params: PeriodQuery):
    start, end = bounds.report_period(params.from_, params.to, default_days=90,
                                      today=datetime.now(UTC).date())
    groups = services.delegation_report(bounds.day_start(start), bounds.day_end(end))
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
