"""Duty rota, notifications and the abusive-customer outcome, over JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import available_timezones

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.api import NOT_BLANK, Email, Id, api_user, endpoint, iso, rule, text
from app.bounds import Moment
from app.extensions import db
from app.models import Role
from incidents import services as incident_services
from incidents.escalation import services
from incidents.escalation.models import Notification, Override, Shift
from incidents.schemas import PageOut, PageQuery, PersonOut, Strict, page_dict

bp = Blueprint("escalation_api", __name__)

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Clock = Annotated[str, Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")]
StartClock = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]  # never 24:00
DutyEmail = Annotated[Email, rule("The address of an active user who may hold the duty: a lead "
                                  "or above for lead, a manager or above for manager")]
# The zones the server knows (the document lists them all; pydantic leaves the check to
# incidents.escalation.rota, which names the field `shift`).
TimeZone = Annotated[str, Field(min_length=1, max_length=64, json_schema_extra=lambda schema: (
    schema.update(enum=sorted(available_timezones()))))]


class ShiftIn(Strict):
    user_email: DutyEmail
    days: list[Day] = Field(min_length=1, max_length=7, json_schema_extra={"uniqueItems": True})
    start: StartClock
    end: Annotated[Clock, rule("Not the same as start (00:00 to 24:00 is a whole day)")]
    timezone: TimeZone = "Asia/Seoul"
    role: Literal["lead", "manager"] | None = Field(None, description="Default: from the user's role")

    @field_validator("end")
    @classmethod
    def _not_start(cls, end: str, info: ValidationInfo) -> str:
        # The rota refuses it too, but names no field; the document can say it here.
        if end == info.data.get("start"):
            raise ValueError("the same as start; a 24-hour shift is 00:00 to 24:00")
        return end


class ShiftOut(BaseModel):
    id: int
    user_email: str
    role: str
    days: list[str]
    start: str
    end: str
    timezone: str


class OverrideIn(Strict):
    user_email: DutyEmail
    role: Literal["lead", "manager"]
    start: Moment
    end: Annotated[Moment, rule("After start, and at most 62 days after it")]
    note: text(500) = ""


class OverrideOut(BaseModel):
    id: int
    user_email: str
    role: str
    start: datetime
    end: datetime


class NowOut(BaseModel):
    lead: PersonOut | None
    manager: PersonOut | None


class NotificationOut(BaseModel):
    id: int
    incident_id: int
    reason: str
    message: str
    created_at: datetime
    read_at: datetime | None
    acknowledged_at: datetime | None


class NotificationsOut(PageOut):
    items: list[NotificationOut]
    unread: int


class OutcomeIn(Strict):
    # Parting ways records the message sent; conceding says what, or links the compensation.
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"properties": {"outcome": {"const": "hold"}}},
        {"properties": {"note": {"pattern": NOT_BLANK}}, "required": ["note"]},
        {"properties": {"outcome": {"const": "concede"}, "compensation_id": {"type": "integer"}},
         "required": ["compensation_id"]}]})

    outcome: Literal["concede", "hold", "part_ways"]
    note: text(5000) = ""
    compensation_id: Annotated[Id, rule(
        "A compensation of this incident")] | None = None


class OutcomeOut(BaseModel):
    incident_id: int
    kind: str
    outcome: str
    note: str
    lead: PersonOut


def _person(user):
    return {"email": user.email, "name": user.name, "title": user.title} if user else None


def shift_dict(s: Shift) -> dict:
    return {"id": s.id, "user_email": s.user.email, "role": s.role.value, "days": s.days,
            "start": s.start, "end": s.end, "timezone": s.timezone}


def override_dict(o: Override) -> dict:
    return {"id": o.id, "user_email": o.user.email, "role": o.role.value, "start": iso(o.start),
            "end": iso(o.end)}


def note_dict(n: Notification) -> dict:
    return {"id": n.id, "incident_id": n.incident_id, "reason": n.reason, "message": n.message,
            "created_at": iso(n.created_at), "read_at": iso(n.read_at),
            "acknowledged_at": iso(n.acknowledged_at)}


@endpoint(bp, "/oncall/shifts", "POST", summary="Add a weekly duty shift", role=Role.lead,
          body=ShiftIn, response=ShiftOut, status=201)
def add_shift(data: ShiftIn):
    user = incident_services.find_user(data.user_email, "user_email")
    shift = services.add_shift(api_user(), user, days=data.days, start=data.start, end=data.end,
                               timezone=data.timezone, role=Role(data.role) if data.role else None)
    db.session.commit()
    return shift_dict(shift)


@endpoint(bp, "/oncall/overrides", "POST", summary="Add a one-off swap", role=Role.lead,
          body=OverrideIn, response=OverrideOut, status=201)
def add_override(data: OverrideIn):
    user = incident_services.find_user(data.user_email, "user_email")
    override = services.add_override(api_user(), user, role=Role(data.role), start=data.start,
                                     end=data.end, note=data.note)
    db.session.commit()
    return override_dict(override)


@endpoint(bp, "/oncall/now", "GET", summary="Who is on duty now", response=NowOut)
def now():
    return {"lead": _person(services.on_duty(Role.lead)),
            "manager": _person(services.on_duty(Role.manager))}


@endpoint(bp, "/notifications", "GET", summary="The caller's notifications, newest first, a page "
          "at a time", query=PageQuery, response=NotificationsOut)
def notifications(params: PageQuery):
    user = api_user()
    return {**page_dict(services.inbox_page(user, params.page, params.per_page), note_dict),
            "unread": services.unread_count(user)}


@endpoint(bp, "/notifications/<int:note_id>/ack", "POST",
          summary="Acknowledge (counts as shared if the incident was only detected)",
          role=Role.agent, response=NotificationOut, errors=(404,))
def acknowledge(note_id: int):
    note = services.acknowledge(api_user(), services.get_notification(api_user(), note_id))
    db.session.commit()
    return note_dict(note)


@endpoint(bp, "/incidents/<int:incident_id>/abuse-outcome", "POST",
          summary="Record how the lead ended an abusive case", role=Role.lead, body=OutcomeIn,
          response=OutcomeOut, errors=(404, 409))
def abuse_outcome(incident_id: int, data: OutcomeIn):
    incident = incident_services.get_incident(incident_id)
    case = services.record_outcome(api_user(), incident, data.outcome, data.note,
                                   data.compensation_id)
    db.session.commit()
    return {"incident_id": incident.id, "kind": case.kind.value, "outcome": case.outcome.value,
            "note": case.outcome_note, "lead": _person(case.lead)}
