"""API request and response shapes (pydantic): they validate and document the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from app.pagination import MAX_PAGE
from app.textcheck import bad_text
from incidents.models import Channel, Status


def _storable(value: str) -> str:
    if bad_text(value):
        raise ValueError("contains characters that cannot be stored (NUL or lone surrogates)")
    return value


Text = Annotated[str, Field(max_length=20_000), AfterValidator(_storable)]
Short = Annotated[str, Field(max_length=200), AfterValidator(_storable)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CustomerIn(Strict):
    name: Short = ""
    contact: Short = ""
    reference: Short = ""
    impact: Text = ""


class IncidentFields(Strict):
    description: Text = ""
    category: Short | None = Field(None, description="Category key or name")
    channel: Channel | None = None
    detected_at: datetime | None = Field(None, description="ISO 8601 with an offset")
    owner_email: EmailStr | None = None
    impact: Text = ""
    cause: Text = ""
    resolution: Text = ""
    affected_count: int | None = Field(None, ge=0, le=1_000_000_000)
    responder_emails: list[EmailStr] | None = Field(None, max_length=100)
    abusive_customer: bool = False
    abuse_kind: Literal["threat", "extortion", "harassment", "insult", "other"] | None = Field(
        None, description="What crossed the line, with abusive_customer")
    one_stop: bool = False


class IncidentCreate(IncidentFields):
    title: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_storable)]
    grade: Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_storable)]
    affected_customers: list[CustomerIn] = Field(default_factory=list, max_length=500)


class IncidentPatch(Strict):
    """Every field optional; only the fields sent are changed."""

    title: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_storable)] | None = None
    grade: Short | None = None
    description: Text | None = None
    category: Short | None = None
    channel: Channel | None = None
    detected_at: datetime | None = None
    owner_email: EmailStr | None = None
    impact: Text | None = None
    cause: Text | None = None
    resolution: Text | None = None
    affected_count: int | None = Field(None, ge=0, le=1_000_000_000)
    responder_emails: list[EmailStr] | None = Field(None, max_length=100)
    abusive_customer: bool | None = None
    abuse_kind: Literal["threat", "extortion", "harassment", "insult", "other"] | None = None
    one_stop: bool | None = None
    version: int | None = Field(None, description="Refuse the edit if the incident has moved on")


class StatusChange(Strict):
    status: Status
    note: Text = ""
    expected_status: Status | None = Field(None, description="Refuse if the status has moved on")


class EventIn(Strict):
    kind: Literal["note", "action"]
    body: Annotated[str, Field(min_length=1, max_length=20_000), AfterValidator(_storable)]


class CustomerCreate(CustomerIn):
    """An affected customer added to an existing incident."""


class ListQuery(Strict):
    status: Literal["open", "all", "detected", "shared", "mitigated", "resolved", "closed"] = "open"
    grade: str | None = None
    category: str | None = None
    owner_email: str | None = None
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
