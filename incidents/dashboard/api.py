"""Dashboard figures over JSON: the same numbers the dashboard shows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from app import bounds
from app.api import ApiError, endpoint, rule
from app.extensions import db
from app.models import Category
from incidents.dashboard import metrics

bp = Blueprint("dashboard_api", __name__)


class MetricsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: Annotated[bounds.Day, rule("On or before `to`, at most 3,660 days before it")] | None = (
        Field(None, alias="from"))
    to: Annotated[bounds.Day, rule("On or after `from`")] | None = None
    category: Annotated[str, Field(max_length=40), rule("A category's key")] | None = None
    metric: str | None = Field(None, max_length=40,
                               description="Growth figure for the inquiry ratio")


class TimeFigure(BaseModel):
    median: float | None
    p90: float | None
    count: int
    by_grade: dict[str, dict]


class MetricsOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    time_to_share_minutes: TimeFigure
    time_to_mitigate_minutes: TimeFigure
    time_to_resolve_minutes: TimeFigure
    one_stop_rate: float | None
    inquiry_ratio: float | None
    open_by_grade: dict[str, dict]
    compensation_by_type: dict[str, int]
    apologies_sent: int
    action_items: dict[str, int]


@endpoint(bp, "/metrics", "GET", summary="Dashboard figures for a period", query=MetricsQuery,
          response=MetricsOut)
def get_metrics(params: MetricsQuery):
    start_day, end_day = bounds.report_period(params.from_, params.to, default_days=30,
                                              today=datetime.now(UTC).date())
    category = None
    if params.category:
        category = db.session.scalar(select(Category).where(Category.slug == params.category))
        if category is None:
            raise ApiError(422, "validation_failed", "Unknown category.",
                           {"category": f"Unknown category {params.category}."})
    return metrics.compute(bounds.day_start(start_day), bounds.day_end(end_day), category,
                           params.metric)
