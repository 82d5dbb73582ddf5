"""Apologies over JSON: draft, new versions, approve, mark sent, and the check on any text."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from app.api import Email, Id, api_user, created_once, endpoint, iso, rule, text
from app.extensions import db
from app.models import Role, User
from incidents import services as incident_services
from incidents.apology import report, services
from incidents.apology.models import ApologyLetter, Audience
from incidents.schemas import Strict, Version

bp = Blueprint("apology_api", __name__)

Signatory = Annotated[Email, rule("The address of an active user who is not a read-only viewer")]
LetterText = text(services.BODY_MAX, required=True)
CheckText = text(services.BODY_MAX)
Reason = text(5000)


class DraftIn(Strict):
    # A letter to a customer names one; a public notice names none.
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"properties": {"audience": {"const": "customer"}, "customer_id": {"type": "integer"}},
         "required": ["customer_id"]},
        {"properties": {"audience": {"const": "public"}, "customer_id": {"type": "null"}}}]})

    audience: Audience
    customer_id: Annotated[Id, rule(
        "One of this incident's affected customers")] | None = None
    language: Literal["ko", "en"]


class EditIn(Strict):
    body: LetterText
    signatory_emails: list[Signatory] | None = Field(None, max_length=20)
    version: Version | None = Field(
        None, description="Refuse if another version was saved")


class ApproveIn(Strict):
    override_reason: Reason = ""


class SentIn(Strict):
    channel: Literal["email", "sms", "chat", "phone", "post", "website", "social", "in_person"]


class CheckIn(Strict):
    text: CheckText
    language: Literal["ko", "en"] = "ko"
    signatory_emails: list[Email] = Field(default_factory=list, max_length=20)


class FindingOut(BaseModel):
    code: str
    severity: Literal["error", "warning"]
    message: str
    span: list[int] | None


Span = Annotated[list[int], Field(min_length=2, max_length=2, description=(
    "[start, end) of a sentence, in characters (Unicode code points) of the text"))]


class ElementsOut(BaseModel):
    """Where the text holds each part of a good apology: the sentences, or [] when missing."""
    apology: list[Span]
    facts: list[Span] = Field(description="What happened and when")
    harm: list[Span] = Field(description="The harm to the customer")
    cause: list[Span] = Field(description="The cause, or that it is still investigated and when "
                                          "it will be told")
    remedy: list[Span] = Field(description="What the customer gets (in a short notice: or what "
                                           "was done)")
    change: list[Span] = Field(description="What will change so it does not happen again")
    contact: list[Span] = Field(description="How to reach a person")
    speaker: list[Span] = Field(description="A named person who speaks or signs")


class CheckOut(BaseModel):
    findings: list[FindingOut]
    elements: ElementsOut


class SignatoryOut(BaseModel):
    name: str
    title: str
    email: str


class LetterOut(BaseModel):
    id: int
    incident_id: int
    audience: Audience
    customer_id: int | None
    language: str
    status: Literal["draft", "approved", "sent"]
    version: int
    body: str
    signatories: list[SignatoryOut]
    findings: list[FindingOut]
    approved_by: str | None
    approved_at: datetime | None
    override_reason: str
    sent_at: datetime | None
    sent_channel: str


def letter_dict(letter: ApologyLetter) -> dict:
    current = letter.current
    return {"id": letter.id, "incident_id": letter.incident_id, "audience": letter.audience.value,
            "customer_id": letter.customer_id, "language": letter.language,
            "status": letter.status.value, "version": current.number, "body": current.body,
            "signatories": [{k: s[k] for k in ("name", "title", "email")}
                            for s in current.signatories],
            "findings": current.findings,
            "approved_by": letter.approved_by.email if letter.approved_by else None,
            "approved_at": iso(letter.approved_at), "override_reason": letter.override_reason,
            "sent_at": iso(letter.sent_at),
            "sent_channel": letter.sent_channel}


@endpoint(bp, "/incidents/<int:incident_id>/apologies", "POST",
          summary="Draft an apology from the incident's facts", role=Role.agent, body=DraftIn,
          response=LetterOut, status=201, errors=(404,), idempotent=True)
def create(incident_id: int, data: DraftIn):
    incident = incident_services.get_incident(incident_id)
    return created_once(
        "apology", {"incident": incident_id, **data.model_dump(mode="json", exclude_unset=True)},
        lambda: services.draft(api_user(), incident, audience=data.audience,
                               language=data.language, customer_id=data.customer_id).id,
        lambda letter_id: letter_dict(services.get_letter(letter_id)))


@endpoint(bp, "/apologies/<int:letter_id>", "GET", summary="An apology letter (current version)",
          response=LetterOut, errors=(404,))
def detail(letter_id: int):
    return letter_dict(services.get_letter(letter_id))


@endpoint(bp, "/apologies/<int:letter_id>", "PUT", summary="Save a new version", role=Role.agent,
          body=EditIn, response=LetterOut, errors=(404, 409))
def edit(letter_id: int, data: EditIn):
    letter = services.get_letter(letter_id)
    services.edit(api_user(), letter, data.body, data.signatory_emails, expected_version=data.version)
    db.session.commit()
    return letter_dict(letter)


@endpoint(bp, "/apologies/<int:letter_id>/approve", "POST", summary="Approve the current version",
          role=Role.lead, body=ApproveIn, response=LetterOut, errors=(404, 409))
def approve(letter_id: int, data: ApproveIn):
    letter = services.get_letter(letter_id)
    services.approve(api_user(), letter, data.override_reason)
    db.session.commit()
    return letter_dict(letter)


@endpoint(bp, "/apologies/<int:letter_id>/sent", "POST", summary="Record that it was sent",
          role=Role.agent, body=SentIn, response=LetterOut, errors=(404, 409))
def sent(letter_id: int, data: SentIn):
    letter = services.get_letter(letter_id)
    services.mark_sent(api_user(), letter, data.channel)
    db.session.commit()
    return letter_dict(letter)


@endpoint(bp, "/apologies/check", "POST", summary="Run the apology check on any text",
          body=CheckIn, response=CheckOut)
def check(data: CheckIn):
    signers = db.session.scalars(select(User).where(User.email.in_(
        [e.lower() for e in data.signatory_emails]))).all() if data.signatory_emails else []
    found = report.report(data.text, data.language, [services.signatory_dict(u) for u in signers])
    return {"findings": found.findings,
            "elements": {element: [list(span) for span in spans]
                         for element, spans in found.elements.items()}}
