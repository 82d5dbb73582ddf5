"""Dashboard figures over JSON: the same numbers the dashboard shows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from app.api import ApiError, endpoint
from app.extensions import db
from app.models import Category
from incidents.dashboard import metrics

bp = Blueprint("dashboard_api", __name__)


class MetricsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: date | None = Field(None, alias="from")
    to: date | None = None
    category: str | None = None
    metric: str | None = Field(None, description="Growth figure for the inquiry ratio")


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
    end_day = params.to or datetime.now(UTC).date()
    start_day = params.from_ or end_day - timedelta(days=29)
    if start_day > end_day:
        raise ApiError(422, "validation_failed", "from is after to.", {"from": "Must be on or before to."})
    category = None
    if params.category:
        category = db.session.scalar(select(Category).where(Category.slug == params.category))
        if category is None:
            raise ApiError(422, "validation_failed", "Unknown category.",
                           {"category": f"Unknown category {params.category}."})
    start = datetime.combine(start_day, time.min, tzinfo=UTC)
    end = datetime.combine(end_day + timedelta(days=1), time.min, tzinfo=UTC)
    return metrics.compute(start, end, category, params.metric)
