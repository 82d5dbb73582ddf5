"""Search and playbooks over JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from flask import Blueprint
from pydantic import BaseModel, Field

from app import search
from app.api import api_user, created_once, endpoint, iso, rule, text
from app.models import Role
from playbooks import services
from playbooks.models import Playbook
from playbooks.services import TEXT_MAX, PlaybookLine

bp = Blueprint("playbooks_api", __name__)

PlaybookText = text(TEXT_MAX)
# Tags are stored trimmed, in lower case; a comma would split one in two.
Tag = Annotated[text(40), Field(json_schema_extra={"pattern": r"^[^\x00,]*$"})]


class PlaybookIn(PlaybookLine):
    """An import line as a request body: the same fields, each with what the server takes."""

    title: text(200, required=True)
    summary: PlaybookText = ""
    symptoms: PlaybookText = ""
    # Published for the next person facing the same problem: without first steps it is refused
    # (an import line may carry none; see playbooks.services.require_first_steps).
    steps: text(TEXT_MAX, required=True)
    authority: PlaybookText | None = None
    compensation: PlaybookText | None = None
    message: PlaybookText | None = None
    escalation: PlaybookText | None = None
    prevention: PlaybookText | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    language: Literal["ko", "en"]
    grade: Annotated[text(40), rule("A grade's name, in any case; empty for none")] | None = None
    category: Annotated[text(200), rule("A category's key or name; empty for none")] | None = None


class SearchQuery(BaseModel):
    model_config = {"extra": "forbid"}
    q: str = Field(min_length=1, max_length=500)
    type: Literal["playbook", "postmortem", ""] = ""
    limit: int = Field(10, ge=1, le=50)
    page: int = Field(1, ge=1, le=1000)
    grade: str = ""
    category: str = ""
    tag: str = ""


class SimilarQuery(BaseModel):
    model_config = {"extra": "forbid"}
    text: str = Field(min_length=1, max_length=2000)
    limit: int = Field(5, ge=1, le=20)


class ResultOut(BaseModel):
    type: str
    id: int
    title: str
    score: float
    snippet: str


class ResultsOut(BaseModel):
    results: list[ResultOut]
    total: int | None = None


class PlaybookOut(PlaybookLine):
    model_config = {"extra": "allow"}
    id: int
    version: int
    recurrence_count: int
    status: str
    removed: list[dict] | None = None
    updated_at: datetime


def _result(hit: search.Hit) -> dict:
    return {"type": hit.type, "id": hit.id, "title": hit.title, "score": hit.score,
            "snippet": hit.snippet}


@endpoint(bp, "/search", "GET", summary="Search playbooks and published postmortems",
          query=SearchQuery, response=ResultsOut)
def search_(params: SearchQuery):
    found = search.search(params.q, types=[params.type] if params.type else [], grade=params.grade,
                          category=params.category, tag=params.tag, page=params.page,
                          per_page=params.limit)
    return {"results": [_result(h) for h in found.hits], "total": found.total}


@endpoint(bp, "/playbooks/similar", "GET", summary="Playbooks similar to a new incident's text",
          query=SimilarQuery, response=ResultsOut)
def similar(params: SimilarQuery):
    return {"results": [_result(h) for h in services.similar(params.text, params.limit)]}


def playbook_dict(p: Playbook, removed=None) -> dict:
    data = p.snapshot()
    data.update(id=p.id, version=p.version, recurrence_count=p.recurrence_count,
                status=p.status.value, updated_at=iso(p.updated_at), prevention=p.prevention)
    if removed is not None:
        data["removed"] = [{"kind": r.kind, "value": r.value} for r in removed]
    return data


@endpoint(bp, "/playbooks", "POST", summary="Publish a playbook (fields as in an import line)",
          role=Role.lead, body=PlaybookIn, response=PlaybookOut, status=201, idempotent=True)
def create(data: PlaybookIn):
    removed: list | None = None

    def publish() -> int:
        nonlocal removed
        services.require_first_steps(services.to_data(data))
        playbook, removed = services.publish_new(api_user(), services.to_data(data), note="api")
        return playbook.id

    def answer(playbook_id: int) -> dict:
        # A replay publishes nothing; what the first request removed is found the same way.
        gone = removed if removed is not None else services.redacted(services.to_data(data), ())[1]
        return playbook_dict(services.get(playbook_id), gone)

    return created_once("playbook", data.model_dump(mode="json", exclude_unset=True), publish,
                        answer)


@endpoint(bp, "/playbooks/<int:playbook_id>", "GET", summary="One playbook", response=PlaybookOut,
          errors=(404,))
def detail(playbook_id: int):
    return playbook_dict(services.get(playbook_id))
