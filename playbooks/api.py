"""Search and playbooks over JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import Blueprint
from pydantic import BaseModel, Field

from app import search
from app.api import api_user, endpoint
from app.extensions import db
from app.models import Role
from playbooks import services
from playbooks.models import Playbook
from playbooks.services import PlaybookLine

bp = Blueprint("playbooks_api", __name__)


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
                status=p.status.value, updated_at=p.updated_at.isoformat(),
                prevention=p.prevention)
    if removed is not None:
        data["removed"] = [{"kind": r.kind, "value": r.value} for r in removed]
    return data


@endpoint(bp, "/playbooks", "POST", summary="Publish a playbook (fields as in an import line)",
          role=Role.lead, body=PlaybookLine, response=PlaybookOut, status=201)
def create(data: PlaybookLine):
    playbook, removed = services.publish_new(api_user(), services.to_data(data), note="api")
    db.session.commit()
    return playbook_dict(playbook, removed)


@endpoint(bp, "/playbooks/<int:playbook_id>", "GET", summary="One playbook", response=PlaybookOut,
          errors=(404,))
def detail(playbook_id: int):
    return playbook_dict(services.get(playbook_id))
