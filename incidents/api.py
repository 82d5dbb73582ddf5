"""Incidents over JSON: parse, call one service, commit, respond."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import select

from app.api import api_user, created_once, endpoint, iso
from app.extensions import db
from app.models import Role, User
from incidents import services
from incidents.escalation.models import AbuseCase
from incidents.models import AffectedCustomer, EventKind, Incident, TimelineEvent
from incidents.schemas import (
    CustomerCreate,
    CustomerOut,
    EventIn,
    EventOut,
    IncidentCreate,
    IncidentDetailOut,
    IncidentListOut,
    IncidentOut,
    IncidentPatch,
    ListQuery,
    StatusChange,
    page_dict,
)
from playbooks import services as playbook_services

bp = Blueprint("incidents_api", __name__)


def _person(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"email": user.email, "name": user.name, "title": user.title}


def incident_dict(incident: Incident, user: User) -> dict:
    return {
        "id": incident.id, "title": incident.title, "description": incident.description,
        "grade": incident.grade.name,
        "category": incident.category.slug if incident.category else None,
        "channel": incident.channel.value if incident.channel else None,
        "status": incident.status.value,
        "detected_at": iso(incident.detected_at), "created_at": iso(incident.created_at),
        "updated_at": iso(incident.updated_at), "shared_at": iso(incident.shared_at),
        "mitigated_at": iso(incident.mitigated_at), "resolved_at": iso(incident.resolved_at),
        "closed_at": iso(incident.closed_at),
        "owner": _person(incident.owner), "reporter": _person(incident.reporter),
        "responders": [_person(u) for u in incident.responders],
        "affected_count": incident.affected_count, "impact": incident.impact,
        "cause": incident.cause, "resolution": incident.resolution,
        **{name: getattr(incident, name) for name in services.PUBLIC_TEXTS},
        "public_cause_due": (incident.public_cause_due.isoformat()
                             if incident.public_cause_due else None),
        "abusive_customer": incident.abusive_customer, "one_stop": incident.one_stop,
        "overdue": services.overdue(incident), "version": incident.version,
        "allowed_transitions": [s.value for s in services.allowed_transitions(user, incident)],
    }


def customer_dict(customer) -> dict:
    return {"id": customer.id, "name": customer.name, "contact": customer.contact,
            "reference": customer.reference, "impact": customer.impact}


def event_dict(event: TimelineEvent) -> dict:
    return {"id": event.id, "kind": event.kind.value, "body": event.body, "data": event.data,
            "actor": _person(event.actor), "created_at": iso(event.created_at)}


def detail_dict(incident: Incident, user: User) -> dict:
    events = db.session.scalars(select(TimelineEvent)
                                .where(TimelineEvent.incident_id == incident.id)
                                .order_by(TimelineEvent.created_at, TimelineEvent.id))
    case = db.session.get(AbuseCase, incident.id)
    abuse = None if case is None else {
        "kind": case.kind.value, "lead": _person(case.lead),
        "previous_owner": _person(case.previous_owner),
        "outcome": case.outcome.value if case.outcome else None, "outcome_note": case.outcome_note}
    return {**incident_dict(incident, user),
            "affected_customers": [customer_dict(c) for c in incident.customers],
            "timeline": [event_dict(e) for e in events], "abuse": abuse}


def _resolve(data, fields: set[str]) -> dict:
    """Turn API names (grade name, e-mails) into the objects services take."""
    changes: dict = {}
    for name in fields:
        value = getattr(data, name)
        if name == "grade":
            changes["grade"] = services.find_grade(value)
        elif name == "category":
            changes["category"] = services.find_category(value) if value else None
        elif name == "owner_email":
            changes["owner"] = services.find_user(value)
        elif name == "responder_emails":
            changes["responders"] = [services.find_user(e, "responder_emails") for e in value]
        elif name not in ("version", "affected_customers", "abuse_kind"):
            changes[name] = value
    return changes


@endpoint(bp, "/incidents", "POST", summary="Open an incident", role=Role.agent,
          body=IncidentCreate, response=IncidentDetailOut, status=201, idempotent=True)
def create(data: IncidentCreate):
    def open_incident() -> int:
        fields = {f for f in data.model_fields_set | {"title", "grade"} if getattr(data, f) is not None}
        changes = _resolve(data, fields - {"title"})
        customers = [services.CustomerData(**c.model_dump()) for c in data.affected_customers]
        incident = services.create_incident(api_user(), title=data.title, customers=customers,
                                            abuse_kind=data.abuse_kind, **changes)
        playbook_services.record_suggestions(incident.id, f"{incident.title}\n{incident.description}")
        return incident.id

    return created_once("incident", data.model_dump(mode="json", exclude_unset=True), open_incident,
                        lambda incident_id: detail_dict(services.load_for_page(incident_id),
                                                        api_user()))


@endpoint(bp, "/incidents", "GET", summary="List incidents, most urgent first",
          query=ListQuery, response=IncidentListOut)
def index(params: ListQuery):
    f = services.IncidentFilter(
        status=params.status, q=params.q,
        grade_id=services.find_grade(params.grade).id if params.grade else None,
        category_id=services.find_category(params.category).id if params.category else None,
        owner_id=services.find_user(params.owner_email).id if params.owner_email else None)
    return page_dict(services.incident_page(f, params.page, params.per_page),
                     lambda incident: incident_dict(incident, api_user()))


@endpoint(bp, "/incidents/<int:incident_id>", "GET", summary="One incident with its timeline",
          response=IncidentDetailOut, errors=(404,))
def detail(incident_id: int):
    return detail_dict(services.load_for_page(incident_id), api_user())


@endpoint(bp, "/incidents/<int:incident_id>", "PATCH", summary="Change an incident's fields",
          role=Role.agent, body=IncidentPatch, response=IncidentDetailOut, errors=(404, 409))
def patch(incident_id: int, data: IncidentPatch):
    incident = services.get_incident(incident_id)
    sent = {f for f in data.model_fields_set if f not in ("version", "abuse_kind")}
    nullable = {"category", "channel", "affected_count", "public_cause_due"}
    changes = _resolve(data, {f for f in sent if getattr(data, f) is not None or f in nullable})
    services.update_incident(api_user(), incident, changes, expected_version=data.version,
                             abuse_kind=data.abuse_kind)
    db.session.commit()
    return detail_dict(incident, api_user())


@endpoint(bp, "/incidents/<int:incident_id>/status", "POST", summary="Move the status",
          role=Role.agent, body=StatusChange, response=IncidentOut, errors=(404, 409))
def status(incident_id: int, data: StatusChange):
    incident = services.get_incident(incident_id)
    services.change_status(api_user(), incident, data.status, data.note,
                           expected=data.expected_status)
    db.session.commit()
    return incident_dict(incident, api_user())


@endpoint(bp, "/incidents/<int:incident_id>/events", "POST", summary="Add a note or action",
          role=Role.agent, body=EventIn, response=EventOut, status=201, errors=(404,),
          idempotent=True)
def add_event(incident_id: int, data: EventIn):
    incident = services.get_incident(incident_id)
    return created_once(
        "event", {"incident": incident_id, **data.model_dump(mode="json", exclude_unset=True)},
        lambda: services.add_event(api_user(), incident, EventKind(data.kind), data.body).id,
        lambda event_id: event_dict(db.session.get(TimelineEvent, event_id)))


@endpoint(bp, "/incidents/<int:incident_id>/customers", "POST",
          summary="Add an affected customer", role=Role.agent, body=CustomerCreate,
          response=CustomerOut, status=201, errors=(404,), idempotent=True)
def add_customer(incident_id: int, data: CustomerCreate):
    incident = services.get_incident(incident_id)
    return created_once(
        "customer", {"incident": incident_id, **data.model_dump(mode="json", exclude_unset=True)},
        lambda: services.add_customer(api_user(), incident,
                                      services.CustomerData(**data.model_dump())).id,
        lambda customer_id: customer_dict(db.session.get(AffectedCustomer, customer_id)))
