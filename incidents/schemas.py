"""API request and response shapes (pydantic): they validate and document the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.api import NOT_BLANK, Email, rule, text, whole
from app.bounds import ID_MAX, Day, Moment, moment_pattern
from app.pagination import MAX_PAGE
from incidents.models import Channel, Status

Text = text(20_000)
Short = text(200)
Title = text(200, required=True)
GradeName = Annotated[text(40, required=True), rule(
    "A grade's name, in any case (Red, Orange, Blue and Green to begin with)")]
CategoryKey = Annotated[Short, rule("A category's key or name (delivery, payment, ...); empty for none")]
# Owners, responders and action item owners: anyone on the staff, never a read-only viewer.
StaffEmail = Annotated[Email, rule("The address of an active user who is not a read-only viewer")]
Version = whole(1, ID_MAX)
# What customers are told (apology drafts take these, never the staff's own fields).
Told = Annotated[Text, Field(description="What customers are told; apology drafts use it")]
CauseDue = Annotated[Day, rule(
    "The day by which customers are told a cause not known yet; from today, within a year")]
AbuseKind = Literal["threat", "extortion", "harassment", "insult", "other"]
DetectedAt = Annotated[Moment, Field(json_schema_extra={"pattern": moment_pattern("2[0-9]{3}")}), rule(
    "ISO 8601 with an offset; not in the future, nor before 2000")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CustomerIn(Strict):
    # incidents.services refuses a customer with all four fields blank (its message asks for a
    # name, contact or reference, but an impact alone is taken).
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": [name], "properties": {name: {"pattern": NOT_BLANK}}}
        for name in ("name", "contact", "reference", "impact")]})

    name: Short = ""
    contact: Short = ""
    reference: Short = ""
    impact: Text = ""


class IncidentFields(Strict):
    # An abusive customer needs the kind of abuse (incidents.escalation.services.flag_abusive).
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"properties": {"abusive_customer": {"const": False}}},
        {"required": ["abuse_kind"], "properties": {"abuse_kind": {"type": "string"}}}]})

    description: Text = ""
    category: CategoryKey | None = None
    channel: Channel | None = None
    detected_at: DetectedAt | None = None
    owner_email: StaffEmail | None = None
    impact: Text = ""
    cause: Text = ""
    resolution: Text = ""
    affected_count: whole(0, 1_000_000_000) | None = None
    responder_emails: list[StaffEmail] | None = Field(None, max_length=100)
    public_summary: Told = ""
    public_harm: Told = ""
    public_cause: Told = ""
    public_cause_due: CauseDue | None = None
    public_fix: Told = ""
    public_change: Told = ""
    abusive_customer: bool = False
    abuse_kind: AbuseKind | None = Field(None, description="What crossed the line, with "
                                                           "abusive_customer")
    one_stop: bool = False


class IncidentCreate(IncidentFields):
    title: Title
    grade: GradeName
    affected_customers: list[CustomerIn] = Field(default_factory=list, max_length=500)


class IncidentPatch(Strict):
    """Every field optional; only the fields sent are changed."""

    # Absent: unchanged. Never null: an incident always has a title.
    title: Title = None
    grade: GradeName | None = None
    description: Text | None = None
    category: CategoryKey | None = None
    channel: Channel | None = None
    detected_at: DetectedAt | None = None
    owner_email: StaffEmail | None = None
    impact: Text | None = None
    cause: Text | None = None
    resolution: Text | None = None
    affected_count: whole(0, 1_000_000_000) | None = None
    responder_emails: list[StaffEmail] | None = Field(None, max_length=100)
    public_summary: Told | None = None
    public_harm: Told | None = None
    public_cause: Told | None = None
    public_cause_due: CauseDue | None = Field(None, description="null clears it")
    public_fix: Told | None = None
    public_change: Told | None = None
    abusive_customer: bool | None = None
    abuse_kind: Annotated[AbuseKind, rule(
        "Needed when abusive_customer becomes true")] | None = None
    one_stop: bool | None = None
    version: Version | None = Field(None, description="Refuse the edit if the incident has moved on")


class StatusChange(Strict):
    status: Status
    note: Text = ""
    expected_status: Status | None = Field(None, description="Refuse if the status has moved on")


class EventIn(Strict):
    kind: Literal["note", "action"]
    body: text(20_000, required=True)


class CustomerCreate(CustomerIn):
    """An affected customer added to an existing incident."""


class ListQuery(Strict):
    status: Literal["open", "all", "detected", "shared", "mitigated", "resolved", "closed"] = "open"
    grade: Annotated[str, Field(max_length=40), rule("A grade's name, in any case")] | None = None
    category: Annotated[str, Field(max_length=200), rule("A category's key or name")] | None = None
    owner_email: Annotated[str, Field(max_length=254),
                           rule("The address of an active user who is not a viewer")] | None = None
    q: str = Field("", max_length=200)
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(25, ge=1, le=100)


class PersonOut(BaseModel):
    email: str
    name: str
    title: str


class CustomerOut(BaseModel):
    id: int
    name: str
    contact: str
    reference: str
    impact: str


class EventOut(BaseModel):
    id: int
    kind: str
    body: str
    data: dict
    actor: PersonOut | None
    created_at: datetime


class IncidentOut(BaseModel):
    id: int
    title: str
    description: str
    grade: str
    category: str | None
    channel: Channel | None
    status: Status
    detected_at: datetime
    created_at: datetime
    updated_at: datetime
    shared_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    owner: PersonOut
    reporter: PersonOut
    responders: list[PersonOut]
    affected_count: int | None
    impact: str
    cause: str
    resolution: str
    public_summary: str
    public_harm: str
    public_cause: str
    public_cause_due: date | None
    public_fix: str
    public_change: str
    abusive_customer: bool
    one_stop: bool
    overdue: list[str]
    version: int
    allowed_transitions: list[Status] = Field(description="For the calling user")


class AbuseOut(BaseModel):
    kind: str
    lead: PersonOut
    previous_owner: PersonOut
    outcome: Literal["concede", "hold", "part_ways"] | None
    outcome_note: str


class IncidentDetailOut(IncidentOut):
    affected_customers: list[CustomerOut]
    timeline: list[EventOut]
    abuse: AbuseOut | None = None


class PageQuery(Strict):
    """A page of a list that can grow without end."""
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=100)


class PageOut(BaseModel):
    """What a paged list answers besides its items."""
    total: int
    page: int
    per_page: int


def page_dict(page, item: Callable[[object], dict]) -> dict:
    """A Pagination as the API answers it: its items through `item`, and where it is."""
    return {"items": [item(i) for i in page.items], "total": page.total, "page": page.page,
            "per_page": page.per_page}


class IncidentListOut(PageOut):
    items: list[IncidentOut]
