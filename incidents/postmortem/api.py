"""Postmortems, action items and playbooks from incidents, over JSON."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from flask import Blueprint
from flask_babel import gettext as _
from pydantic import BaseModel, Field

from app.api import Id, api_user, created_once, endpoint, iso, text
from app.bounds import Day
from app.errors import Conflict
from app.extensions import db
from app.models import Role
from app.timeutil import utcnow
from incidents import services as incident_services
from incidents.postmortem import playbook as making
from incidents.postmortem import services
from incidents.postmortem.models import ActionItem, ActionKind, Postmortem
from incidents.schemas import PageOut, PageQuery, StaffEmail, Strict, Version, page_dict
from playbooks.api import PlaybookOut, playbook_dict

bp = Blueprint("postmortem_api", __name__)

PostmortemText = text(services.BODY_MAX, required=True)
ActionTitle = text(300, required=True)


class PostmortemIn(Strict):
    body: PostmortemText | None = None
    language: Literal["ko", "en"] = "ko"
    version: Version | None = None


class BlameOut(BaseModel):
    code: Literal["blames_named_person"]
    severity: Literal["warning"]
    message: str
    span: list[int] | None = Field(description="[start, end) of the sentence in `body`, in "
                                               "characters")


class PostmortemOut(BaseModel):
    id: int
    incident_id: int
    language: str
    status: Literal["draft", "in_review", "published"]
    body: str = Field(description="The working text: the latest saved version")
    version: int = Field(description="Send it back with PUT to refuse the save if someone "
                                     "else saved in between")
    published_at: datetime | None
    published_body: str | None = Field(description="What readers, search and playbooks see: "
                                                   "the text as last published")
    published_version: int | None = Field(description="Which saved version was published")
    unpublished_changes: bool = Field(description="Saved changes wait for a lead to publish")
    findings: list[BlameOut] = Field(description="Warnings: sentences of the working text that "
                                                 "blame a named person (staff or customer)")
    unfilled_sections: list[str] = Field(description="Sections still holding a template prompt, "
                                                     "or left empty: publishing is refused until "
                                                     "they are written")


class PlaybookFromIncidentIn(Strict):
    playbook_id: Id | None = Field(
        None, description="Add to this playbook as a recurrence")
    new: bool = Field(False, description="Make a new playbook even if one of this kind exists")


class ActionIn(Strict):
    title: ActionTitle
    owner_email: StaffEmail
    kind: ActionKind
    due_date: Day | None = None


class ActionOut(BaseModel):
    id: int
    incident_id: int
    title: str
    owner: str
    kind: ActionKind
    due_date: date | None
    status: Literal["open", "done"]
    closed_at: datetime | None


class ActionsOut(PageOut):
    items: list[ActionOut]


def pm_dict(pm: Postmortem) -> dict:
    return {"id": pm.id, "incident_id": pm.incident_id, "language": pm.language,
            "status": pm.status.value, "body": pm.body, "version": pm.version,
            "published_at": iso(pm.published_at),
            "published_body": pm.published_body, "published_version": pm.published_number,
            "unpublished_changes": pm.unpublished_changes,
            "findings": services.blame_findings(pm),
            "unfilled_sections": services.unfilled_sections(pm.body)}


def action_dict(item: ActionItem) -> dict:
    return {"id": item.id, "incident_id": item.incident_id, "title": item.title,
            "owner": item.owner.email, "kind": item.kind.value,
            "due_date": item.due_date.isoformat() if item.due_date else None,
            "status": item.status.value,
            "closed_at": iso(item.closed_at)}


@endpoint(bp, "/incidents/<int:incident_id>/postmortem", "GET", summary="The postmortem",
          response=PostmortemOut, errors=(404,))
def get_postmortem(incident_id: int):
    incident_services.get_incident(incident_id)
    return pm_dict(services.get_for_incident(incident_id))


@endpoint(bp, "/incidents/<int:incident_id>/postmortem", "PUT",
          summary="Start (from the template) or save the postmortem", role=Role.agent,
          body=PostmortemIn, response=PostmortemOut, errors=(404, 409))
def put_postmortem(incident_id: int, data: PostmortemIn):
    incident = incident_services.get_incident(incident_id)
    pm = services.for_incident(incident_id)
    if pm is None:
        pm = services.start(api_user(), incident, data.language)
    if data.body is not None:
        services.save(api_user(), pm, data.body, expected_version=data.version)
    db.session.commit()
    return pm_dict(pm)


@endpoint(bp, "/incidents/<int:incident_id>/postmortem/publish", "POST",
          summary="Publish the postmortem", role=Role.lead, response=PostmortemOut,
          errors=(404, 409))
def publish(incident_id: int):
    pm = services.get_for_incident(incident_id)
    services.publish(api_user(), pm)
    db.session.commit()
    return pm_dict(pm)


@endpoint(bp, "/incidents/<int:incident_id>/playbook", "POST",
          summary="Make a playbook from a closed incident (or add it as a recurrence)",
          role=Role.lead, body=PlaybookFromIncidentIn, response=PlaybookOut, status=201,
          errors=(404, 409))
def make_playbook(incident_id: int, data: PlaybookFromIncidentIn):
    incident = incident_services.get_incident(incident_id)
    proposal = making.propose(incident, data.playbook_id, new=data.new)
    if not proposal.data.steps.strip():
        # The body names no steps: what is missing is in the stored postmortem, not the request.
        raise Conflict(_("The postmortem gives no first steps; write them on the playbook page "
                         "before publishing."))
    playbook, removed, _created = making.make(api_user(), incident, proposal.data, proposal.target)
    db.session.commit()
    return playbook_dict(playbook, proposal.removed + removed)


@endpoint(bp, "/incidents/<int:incident_id>/action-items", "POST", summary="Add an action item",
          role=Role.agent, body=ActionIn, response=ActionOut, status=201, errors=(404,),
          idempotent=True)
def add_action(incident_id: int, data: ActionIn):
    incident = incident_services.get_incident(incident_id)
    owner = incident_services.find_user(data.owner_email)
    return created_once(
        "action", {"incident": incident_id, **data.model_dump(mode="json", exclude_unset=True)},
        lambda: services.add_action(api_user(), incident, title=data.title, owner=owner,
                                    kind=data.kind, due_date=data.due_date).id,
        lambda item_id: action_dict(services.get_action(item_id)))


@endpoint(bp, "/action-items/<int:item_id>/done", "POST", summary="Close an action item",
          role=Role.agent, response=ActionOut, errors=(404, 409))
def complete(item_id: int):
    item = services.complete_action(api_user(), services.get_action(item_id))
    db.session.commit()
    return action_dict(item)


@endpoint(bp, "/action-items", "GET", summary="Open action items, overdue first, a page at a time",
          query=PageQuery, response=ActionsOut)
def open_items(params: PageQuery):
    return page_dict(services.open_actions(utcnow().date(), params.page, params.per_page),
                     action_dict)
