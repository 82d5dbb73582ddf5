"""Growth figures for the inquiry ratio: one at a time or by CSV upload; admins only."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from app.errors import Forbidden, ValidationFailed
from app.extensions import db
from incidents.dashboard import metrics
from incidents.dashboard.models import GrowthFigure


def figures() -> list[tuple]:
    return [(f.metric, f.period_start, f.period_end, f.value) for f in db.session.scalars(
        select(GrowthFigure).order_by(GrowthFigure.metric, GrowthFigure.period_start))]


def upload(client, text: str | bytes):
    raw = text.encode() if isinstance(text, str) else text
    return client.post("/admin/growth", data={"csv-submit": "1",
                                              "csv-file": (io.BytesIO(raw), "growth.csv")},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("role", ["viewer", "agent", "lead", "manager"])
def test_only_admins_may_see_or_enter_growth_figures(client, login, role):
    login(role)
    assert client.get("/admin/growth").status_code == 403
    response = client.post("/admin/growth", data={"one-submit": "1", "one-metric": "orders",
                                                  "one-granularity": "week",
                                                  "one-start": "2026-11-02", "one-value": "10"})
    assert response.status_code == 403
    assert upload(client, "orders,week,2026-11-02,10\n").status_code == 403
    assert figures() == []


def test_service_refuses_non_admins(make_user):
    with pytest.raises(Forbidden):
        metrics.add_growth(make_user("manager"), "orders", date(2026, 11, 2), date(2026, 11, 9), 1)


def test_admin_enters_a_week_and_a_month(client, login):
    login("admin")
    assert client.get("/admin/growth").status_code == 200
    response = client.post("/admin/growth", data={"one-submit": "1", "one-metric": "Orders",
                                                  "one-granularity": "week",
                                                  "one-start": "2026-11-04", "one-value": "4200"})
    assert response.status_code == 302
    response = client.post("/admin/growth", data={"one-submit": "1", "one-metric": "signups",
                                                  "one-granularity": "month",
                                                  "one-start": "2026-10-17", "one-value": "300"})
    assert response.status_code == 302
    assert figures() == [("orders", date(2026, 11, 4), date(2026, 11, 11), 4200),
                         ("signups", date(2026, 10, 1), date(2026, 11, 1), 300)]
    page = client.get("/admin/growth").get_data(as_text=True)
    assert "4200" in page and "2026-10-01" in page


def test_re_entering_a_period_corrects_it(client, login):
    login("admin")
    for value in ("100", "150"):
        client.post("/admin/growth", data={"one-submit": "1", "one-metric": "orders",
                                           "one-granularity": "week", "one-start": "2026-11-02",
                                           "one-value": value})
    assert figures() == [("orders", date(2026, 11, 2), date(2026, 11, 9), 150)]


@pytest.mark.parametrize(("data", "message"), [
    ({"one-metric": "orders!", "one-value": "5"}, "A short name such as orders"),
    ({"one-metric": "orders", "one-value": "-5"}, "Some fields need attention."),
    ({"one-metric": "orders", "one-value": "many"}, "Some fields need attention."),
])
def test_bad_single_entries_are_refused(client, login, data, message):
    login("admin")
    response = client.post("/admin/growth", data={"one-submit": "1", "one-granularity": "week",
                                                  "one-start": "2026-11-02", **data})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert figures() == []


def test_add_growth_rules(make_user):
    admin = make_user("admin")
    with pytest.raises(ValidationFailed) as err:
        metrics.add_growth(admin, "", date(2026, 11, 9), date(2026, 11, 2), -1)
    assert set(err.value.fields) == {"metric", "period_end", "value"}


def test_csv_upload_saves_every_row(client, login):
    login("admin")
    response = upload(client, "\ufeffmetric,period,start,value\n"
                              "orders,week,2026-11-02,4000\n"
                              "orders,week,2026-11-09,6000\n"
                              "\n"
                              "payments,month,2026-10-15,120000\n")
    assert response.status_code == 302
    assert figures() == [("orders", date(2026, 11, 2), date(2026, 11, 9), 4000),
                         ("orders", date(2026, 11, 9), date(2026, 11, 16), 6000),
                         ("payments", date(2026, 10, 1), date(2026, 11, 1), 120000)]
    page = client.get("/admin/growth").get_data(as_text=True)
    assert "3 figures saved." in page


def test_csv_bad_rows_are_named_by_line_and_nothing_is_saved(client, login):
    login("admin")
    response = upload(client, "metric,period,start,value\n"
                              "orders,week,2026-11-02,4000\n"
                              "orders,fortnight,2026-11-09,6000\n"
                              "orders,week,2026-13-01,10\n"
                              "orders,week,2026-11-16,lots\n"
                              "orders,week\n"
                              "ord ers,week,2026-11-23,5\n"
                              "orders,week,2026-11-30,-3\n")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was saved." in page
    for line in (3, 4, 5, 6, 7, 8):
        assert f"line {line}:" in page, line
    assert "line 2:" not in page and "line 1:" not in page
    assert figures() == []
    assert db.session.scalar(select(func.count(GrowthFigure.id))) == 0


def test_csv_that_is_not_utf8_is_refused(client, login):
    login("admin")
    response = upload(client, "orders,week,2026-11-02,4000\n".encode("utf-16"))
    assert response.status_code == 422
    assert "not UTF-8" in response.get_data(as_text=True)
    assert figures() == []


def test_inquiry_ratio_uses_only_figures_inside_the_period(app, make_user, make_incident):
    from datetime import UTC, datetime, timedelta

    admin = make_user("admin")
    at = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    for minutes in (0, 60, 120):
        make_incident(detected_at=at + timedelta(minutes=minutes))
    make_incident(detected_at=datetime(2026, 11, 12, tzinfo=UTC))  # in the period, not in the figure
    metrics.add_growth(admin, "orders", date(2026, 11, 2), date(2026, 11, 9), 2000)
    metrics.add_growth(admin, "orders", date(2026, 10, 26), date(2026, 11, 2), 10)  # before
    db.session.commit()
    start, end = datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 16, tzinfo=UTC)
    result = metrics.inquiry_ratio(start, end, None, None)
    assert result == {"inquiry_ratio": 1.5, "inquiry_metric": "orders", "growth_total": 2000}
    assert metrics.inquiry_ratio(start, end, None, "unknown")["inquiry_metric"] == "orders"
    # A figure of zero gives no ratio rather than a division by zero.
    metrics.add_growth(admin, "orders", date(2026, 11, 2), date(2026, 11, 9), 0)
    assert metrics.inquiry_ratio(start, end, None, "orders")["inquiry_ratio"] is None
