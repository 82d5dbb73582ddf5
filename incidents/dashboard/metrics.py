"""Dashboard figures for a period and optional category, from a handful of queries."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import func, literal, select

from app.errors import ValidationFailed
from app.extensions import db
from app.i18n import gettext as _
from app.models import Category, Grade, Role
from app.timeutil import as_utc, utcnow
from incidents.apology.models import ApologyLetter
from incidents.compensation.models import Compensation, CompStatus
from incidents.dashboard.models import GrowthFigure
from incidents.dashboard.stats import summary
from incidents.models import OPEN_STATUSES, Incident
from incidents.postmortem.models import ActionItem, ActionStatus, PlaybookSource
from incidents.services import require_role
from playbooks.models import Playbook

AGE_BUCKETS = (("under_1h", timedelta(hours=1)), ("under_1d", timedelta(days=1)),
               ("under_7d", timedelta(days=7)), ("over_7d", None))


def minutes_between(later, earlier):
    """Minutes from `earlier` to `later`, computed by the database (NULL if either is NULL):
    parsing thousands of datetimes in Python costs more than the whole query."""
    if db.engine.dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 1440.0
    return func.extract("epoch", later - earlier) / 60.0


def _now_literal(now: datetime):
    if db.engine.dialect.name == "sqlite":
        # Stored as naive UTC text on SQLite; compare like with like.
        return literal(as_utc(now).replace(tzinfo=None).isoformat(sep=" "))
    return literal(as_utc(now))


def _in_period(query, column, start: datetime, end: datetime):
    return query.where(column >= start, column < end)


def compute(start: datetime, end: datetime, category: Category | None = None,
            metric: str | None = None, now: datetime | None = None) -> dict:
    now = now or utcnow()
    grades = list(db.session.scalars(select(Grade).order_by(Grade.rank)))
    by_id = {g.id: g for g in grades}

    def scoped(query):
        return query.where(Incident.category_id == category.id) if category is not None else query

    # Core execution on the session's connection: these are plain columns, and skipping
    # the ORM's row handling halves the cost on a large period.
    conn = db.session.connection()
    rows = conn.execute(scoped(_in_period(select(
        Incident.grade_id, Incident.one_stop, Incident.category_id,
        minutes_between(Incident.shared_at, Incident.detected_at).label("share"),
        minutes_between(Incident.mitigated_at, Incident.detected_at).label("mitigate"),
        minutes_between(Incident.resolved_at, Incident.detected_at).label("resolve")),
        Incident.detected_at, start, end))).all()

    times = {}
    for key, column in (("time_to_share_minutes", "share"), ("time_to_mitigate_minutes", "mitigate"),
                        ("time_to_resolve_minutes", "resolve")):
        overall, per_grade = [], defaultdict(list)
        for row in rows:
            value = getattr(row, column)
            if value is not None:
                value = max(0.0, float(value))
                overall.append(value)
                per_grade[row.grade_id].append(value)
        target_attr = {"time_to_share_minutes": "target_share_minutes",
                       "time_to_resolve_minutes": "target_resolve_minutes"}.get(key)
        times[key] = {**summary(overall), "by_grade": {
            g.name: {**summary(per_grade.get(g.id, [])),
                     "target": getattr(g, target_attr) if target_attr else None}
            for g in grades}}

    resolved = [r for r in rows if r.resolve is not None]
    one_stop = (sum(1 for r in resolved if r.one_stop) / len(resolved)) if resolved else None

    open_scope = Incident.status.in_(OPEN_STATUSES)
    open_rows = conn.execute(scoped(select(
        Incident.grade_id, minutes_between(_now_literal(now), Incident.detected_at).label("age"))
        .where(open_scope))).all()
    open_by_grade = {g.name: {"count": 0, **{b: 0 for b, _ in AGE_BUCKETS}} for g in grades}
    limits = [(b, None if limit is None else limit.total_seconds() / 60) for b, limit in AGE_BUCKETS]
    for row in open_rows:
        age = float(row.age or 0)
        bucket = next(b for b, limit in limits if limit is None or age < limit)
        entry = open_by_grade[by_id[row.grade_id].name]
        entry["count"] += 1
        entry[bucket] += 1
    festering = db.session.execute(scoped(select(
        Incident.id, Incident.grade_id, Incident.detected_at, Incident.title)
        .where(open_scope).order_by(Incident.detected_at).limit(10))).all()

    slugs = {c.id: c.slug for c in db.session.scalars(select(Category))}
    per_category = Counter(slugs.get(r.category_id, "") for r in rows)
    recurrence_by_playbook = [
        {"playbook_id": pid, "title": title, "incidents": n}
        for pid, title, n in db.session.execute(scoped(
            select(Playbook.id, Playbook.title, func.count(PlaybookSource.incident_id))
            .join(PlaybookSource, PlaybookSource.playbook_id == Playbook.id)
            .join(Incident, Incident.id == PlaybookSource.incident_id)
            .where(Incident.detected_at >= start, Incident.detected_at < end))
            .group_by(Playbook.id, Playbook.title).order_by(func.count().desc()).limit(10))]

    # One currency: proposals must be in the authority policy's currency.
    comp_query = scoped(select(Compensation.type, func.sum(Compensation.amount))
                        .join(Incident, Incident.id == Compensation.incident_id)
                        .where(Compensation.status == CompStatus.paid,
                               Compensation.paid_at >= start, Compensation.paid_at < end)
                        .group_by(Compensation.type))
    compensation = {t.value: int(total) for t, total in db.session.execute(comp_query)}

    apologies = db.session.scalar(scoped(select(func.count(ApologyLetter.id))
                                         .join(Incident, Incident.id == ApologyLetter.incident_id)
                                         .where(ApologyLetter.sent_at >= start,
                                                ApologyLetter.sent_at < end)))
    today = now.date()
    items = db.session.execute(scoped(select(ActionItem.due_date).join(
        Incident, Incident.id == ActionItem.incident_id).where(
        ActionItem.status == ActionStatus.open))).all()

    return {
        "period": {"from": start.isoformat(), "to": end.isoformat(),
                   "category": category.slug if category else None},
        "incidents": len(rows),
        **times,
        "one_stop_rate": None if one_stop is None else round(one_stop, 4),
        **inquiry_ratio(start, end, category, metric),
        "open_by_grade": open_by_grade,
        "festering": [{"id": r.id, "title": r.title, "grade": by_id[r.grade_id].name,
                       "detected_at": as_utc(r.detected_at).isoformat()} for r in festering],
        "recurrence_by_category": dict(per_category.most_common()),
        "recurrence_by_playbook": recurrence_by_playbook,
        "compensation_by_type": compensation,
        "apologies_sent": apologies or 0,
        "action_items": {"open": len(items),
                         "overdue": sum(1 for (due,) in items if due is not None and due < today)},
    }


def metrics_available() -> list[str]:
    return list(db.session.scalars(select(GrowthFigure.metric).distinct().order_by(GrowthFigure.metric)))


def inquiry_ratio(start: datetime, end: datetime, category: Category | None,
                  metric: str | None) -> dict:
    """Incidents per 1,000 of a growth figure, over the figures' own periods inside [start, end)."""
    names = metrics_available()
    metric = metric if metric in names else (names[0] if names else None)
    result = {"inquiry_ratio": None, "inquiry_metric": metric, "growth_total": None}
    if metric is None:
        return result
    first = start.date()
    last = end.date() if end.timetz().replace(tzinfo=None) == datetime.min.time() else \
        end.date() + timedelta(days=1)
    figures = list(db.session.scalars(select(GrowthFigure).where(
        GrowthFigure.metric == metric, GrowthFigure.period_start >= first,
        GrowthFigure.period_end <= last)))
    total = sum(f.value for f in figures)
    if not figures or total <= 0:
        return result
    covered = 0
    for figure in figures:
        lo = datetime.combine(figure.period_start, datetime.min.time(), tzinfo=start.tzinfo)
        hi = datetime.combine(figure.period_end, datetime.min.time(), tzinfo=start.tzinfo)
        query = select(func.count(Incident.id)).where(Incident.detected_at >= lo,
                                                      Incident.detected_at < hi)
        if category is not None:
            query = query.where(Incident.category_id == category.id)
        covered += db.session.scalar(query)
    result.update(inquiry_ratio=round(covered * 1000 / total, 3), growth_total=total)
    return result


def add_growth(actor, metric: str, period_start: date, period_end: date, value: int) -> GrowthFigure:
    require_role(actor, Role.admin)
    metric = (metric or "").strip().lower()
    problems = {}
    if not metric or len(metric) > 40 or not metric.replace("_", "").replace("-", "").isalnum():
        problems["metric"] = _("A short name such as orders, payments or signups.")
    if period_end <= period_start:
        problems["period_end"] = _("The period must end after it starts.")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10**15:
        problems["value"] = _("A whole number from 0.")
    if problems:
        raise ValidationFailed(_("Some fields need attention."), problems)
    existing = db.session.scalar(select(GrowthFigure).where(
        GrowthFigure.metric == metric, GrowthFigure.period_start == period_start,
        GrowthFigure.period_end == period_end))
    if existing is not None:
        existing.value = value  # re-entering a period corrects it
        db.session.flush()
        return existing
    figure = GrowthFigure(metric=metric, period_start=period_start, period_end=period_end,
                          value=value, created_by_id=actor.id)
    db.session.add(figure)
    db.session.flush()
    return figure
