"""The dashboard (the home page), its CSV downloads, and growth figures for the inquiry ratio."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, format_timedelta
from flask_login import current_user
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app import bounds
from app.auth import role_required
from app.bounds import DayRange
from app.errors import DomainError
from app.extensions import db
from app.forms import Form
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.i18n import locale_code
from app.models import Category, Grade, Role
from app.money import format_money
from app.templating import category_label
from incidents.compensation.forms import TYPE_LABELS
from incidents.compensation.models import CompType
from incidents.compensation.services import policy_currency
from incidents.dashboard import metrics
from incidents.dashboard.charts import Bar, bar_chart
from incidents.dashboard.models import GrowthFigure

bp = Blueprint("dashboard", __name__)

TIME_KEYS = {"time_to_share_minutes": _l("Time to share"),
             "time_to_mitigate_minutes": _l("Time to mitigate"),
             "time_to_resolve_minutes": _l("Time to resolve")}
BUCKET_LABELS = {"under_1h": _l("under 1 hour"), "under_1d": _l("under 1 day"),
                 "under_7d": _l("1–7 days"), "over_7d": _l("over 7 days")}


class PeriodForm(Form):
    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional(), DayRange()])
    end = DateField(_l("To (inclusive)"), validators=[Optional(), DayRange()])
    category = SelectField(_l("Category"), validators=[Optional()])


class GrowthForm(Form):
    metric = StringField(_l("Figure"), default="orders", validators=[InputRequired(), Length(max=40)],
                         description=_l("orders, payments, signups, ..."))
    granularity = SelectField(_l("Per"), choices=[("week", _l("week")), ("month", _l("month"))])
    start = DateField(_l("Starting"), validators=[InputRequired(), DayRange()])
    value = IntegerField(_l("Value"), validators=[InputRequired(), NumberRange(min=0, max=10**12)])


class GrowthUploadForm(Form):
    file = FileField(_l("CSV file (metric, period, start, value)"))


def period(form: PeriodForm) -> tuple[datetime, datetime, date, date]:
    start_day, end_day = bounds.form_period(form, default_days=30, today=datetime.now(UTC).date())
    return bounds.day_start(start_day), bounds.day_end(end_day), start_day, end_day


def _category(slug: str | None) -> Category | None:
    if not slug:
        return None
    return db.session.scalar(select(Category).where(Category.slug == slug))


def _duration(minutes: float | None) -> str:
    if minutes is None:
        return "—"
    return format_timedelta(timedelta(minutes=minutes), threshold=1.1)


def _charts(figures: dict, grades: dict[str, Grade]) -> dict:
    no_data = _("No data for this period.")
    charts = {}
    charts["open"] = bar_chart(_("Open incidents by grade"), [
        Bar(name, v["count"], grades[name].colour, text=str(v["count"]))
        for name, v in figures["open_by_grade"].items()], no_data=no_data)
    for key, label in TIME_KEYS.items():
        charts[key] = bar_chart(str(label), [
            Bar(name, v["median"], grades[name].colour, marker=v.get("target"),
                text=_duration(v["median"]))
            for name, v in figures[key]["by_grade"].items()], no_data=no_data, width=340,
            label_width=70)
    currency = policy_currency()
    charts["compensation"] = bar_chart(_("Compensation paid by type"), [
        Bar(str(TYPE_LABELS[CompType(t)]), v, text=format_money(v, currency))
        for t, v in figures["compensation_by_type"].items()], no_data=no_data)
    charts["recurrence"] = bar_chart(_("Incidents by category"), [
        Bar(category_label(slug), n, "#5b6672", text=str(n))  # the name, as in the table below
        for slug, n in list(figures["recurrence_by_category"].items())[:10]], no_data=no_data)
    return charts


# What a CSV link carries over from the page's address: the period, category and metric the
# page shows. Any other parameter in the address is not the CSV's to take ("chart" would
# clash with its own).
_DOWNLOAD_ARGS = ("start", "end", "category", "metric")


@bp.get("/dashboard")
def index():
    form = PeriodForm(request.args)
    locale = locale_code()
    categories = list(db.session.scalars(select(Category).order_by(Category.name)))
    form.category.choices = [("", _("All categories"))] + [(c.slug, c.label(locale)) for c in categories]
    form.validate()
    start, end, start_day, end_day = period(form)
    category = _category(form.category.data)
    figures = metrics.compute(start, end, category, request.args.get("metric"))
    grades = {g.name: g for g in db.session.scalars(select(Grade))}
    form.start.data, form.end.data = start_day, end_day
    return render_template("dashboard/index.html", form=form, f=figures, charts=_charts(figures, grades),
                           grades=grades, time_keys=TIME_KEYS, bucket_labels=BUCKET_LABELS,
                           duration=_duration, currency=policy_currency(), type_labels=TYPE_LABELS,
                           CompType=CompType, metrics_available=metrics.metrics_available(),
                           number=format_decimal,
                           q={k: request.args[k] for k in _DOWNLOAD_ARGS if request.args.get(k)})


def _csv(rows: list[list]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def _time_rows(key: str):
    def rows(f: dict) -> list[list]:
        return [["grade", "median_minutes", "p90_minutes", "count", "target_minutes"]] + [
            [g, v["median"], v["p90"], v["count"], v.get("target")]
            for g, v in f[key]["by_grade"].items()] + [
            ["all", f[key]["median"], f[key]["p90"], f[key]["count"], ""]]
    return rows


# Each chart's CSV, from the computed figures; the keys are the charts a link may name.
_CSV_ROWS = {
    "open": lambda f: [["grade", "open", *BUCKET_LABELS]] + [
        [g, v["count"], *(v[b] for b in BUCKET_LABELS)] for g, v in f["open_by_grade"].items()],
    **{key: _time_rows(key) for key in TIME_KEYS},
    "compensation": lambda f: [["type", "amount_minor_units", "currency"]] + [
        [t, v, policy_currency()] for t, v in f["compensation_by_type"].items()],
    "recurrence": lambda f: [["category", "incidents"]] + [
        [k, v] for k, v in f["recurrence_by_category"].items()],
    "summary": lambda f: [
        ["figure", "value"], ["incidents", f["incidents"]],
        ["one_stop_rate", f["one_stop_rate"]], ["inquiry_ratio", f["inquiry_ratio"]],
        ["inquiry_metric", f["inquiry_metric"]], ["apologies_sent", f["apologies_sent"]],
        ["action_items_open", f["action_items"]["open"]],
        ["action_items_overdue", f["action_items"]["overdue"]]],
}


@bp.get("/dashboard.csv")
def download():
    chart = request.args.get("chart", "")
    if chart not in _CSV_ROWS:
        # Before computing the figures: an unknown chart cost a whole dashboard's work.
        abort(404, _("There is no chart called “%(chart)s”; the dashboard's download links "
                     "name one of: %(charts)s.", chart=chart, charts=", ".join(_CSV_ROWS)))
    form = PeriodForm(request.args)
    form.category.choices = [("", "")] + [(c.slug, c.slug) for c in db.session.scalars(select(Category))]
    form.validate()
    start, end, start_day, end_day = period(form)
    f = metrics.compute(start, end, _category(form.category.data), request.args.get("metric"))
    rows = _CSV_ROWS[chart](f)
    return Response(_csv(rows), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=dashboard-{chart}-{start_day}-{end_day}.csv"})


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def _period_end(granularity: str, start: date) -> date:
    if granularity == "week":
        return start + timedelta(days=7)
    if granularity == "month":
        return _add_months(start.replace(day=1), 1)
    raise ValueError(f"period must be week or month, not {granularity!r}")


@bp.route("/admin/growth", methods=["GET", "POST"])
@role_required(Role.admin)
def growth():
    form, upload = GrowthForm(prefix="one"), GrowthUploadForm(prefix="csv")
    code = 200
    if request.method == "POST":
        try:
            if "one-submit" in request.form and form.validate_on_submit():
                start = form.start.data
                if form.granularity.data == "month":
                    start = start.replace(day=1)
                metrics.add_growth(current_user, form.metric.data, start,
                                   _period_end(form.granularity.data, start), form.value.data)
                message = _("Figure saved.")
            elif "csv-submit" in request.form and upload.validate_on_submit() and upload.file.data:
                message = _("%(n)s figures saved.", n=_import_csv(upload.file.data.read()))
            else:
                raise DomainError(_("Some fields need attention."))
        except DomainError as err:
            db.session.rollback()
            flash(" ".join([err.message, *err.fields.values()]), "error")
            code = 422
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("dashboard.growth"))
    figures = db.session.scalars(select(GrowthFigure).order_by(GrowthFigure.metric,
                                                               GrowthFigure.period_start.desc()))
    return render_template("dashboard/growth.html", form=form, upload=upload, figures=figures), code


def _import_csv(raw: bytes) -> int:
    """All rows or none; each bad row is named by its line number."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError(_("The file is not UTF-8 text.")) from None
    problems, count = [], 0
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or (number == 1 and row[0].strip().lower() == "metric"):
            continue
        try:
            metric, granularity, start_text, value = (c.strip() for c in row[:4])
            start = bounds.check_day(date.fromisoformat(start_text), "start")
            if granularity == "month":
                start = start.replace(day=1)
            metrics.add_growth(current_user, metric, start, _period_end(granularity, start),
                               int(value))
            count += 1
        except (ValueError, DomainError) as err:
            problems.append(_("line %(n)s: %(problem)s", n=number,
                              problem=getattr(err, "message", str(err))))
    if problems:
        raise DomainError(_("Nothing was saved."), {"csv": "; ".join(problems[:20])})
    return count
