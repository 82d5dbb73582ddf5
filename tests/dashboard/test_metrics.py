"""Every dashboard figure checked against a hand-built data set, through the API, the page
and the CSV downloads; empty periods; the category filter."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Category, Grade, Role, User
from app.timeutil import utcnow
from incidents import services
from incidents.apology import services as apology_services
from incidents.apology.models import Audience
from incidents.compensation import services as comp_services
from incidents.compensation.models import CompStatus, CompType
from incidents.dashboard import metrics
from incidents.models import Status
from incidents.postmortem import services as pm_services
from incidents.postmortem.models import ActionKind, PlaybookSource
from playbooks.models import Playbook
from tests.postmortem import TOLD

URL = "/api/v1/metrics"


def _grade(name: str) -> Grade:
    return db.session.scalar(select(Grade).where(Grade.name == name))


def _category(slug: str | None) -> Category | None:
    return db.session.scalar(select(Category).where(Category.slug == slug)) if slug else None


def _user(role: str, name: str) -> User:
    from app import users
    email = name.lower().replace(" ", ".") + "@example.com"
    found = db.session.scalar(select(User).where(User.email == email))
    return found or users.create_user(email=email, name=name, title=f"{role.title()} team",
                                      role=Role(role), password="correct horse battery")


@dataclass
class Dataset:
    start: date  # first day of the period (inclusive)
    end: date  # last day of the period (inclusive)
    incidents: dict


# (key, grade, category, day offset, minutes to shared/mitigated/resolved, one_stop, close)
# A `None` step is skipped; a skipped earlier step takes the later step's time.
PLAN = [
    ("R1", "Red", "payment", 0, (10, 30, 100), False, False),
    ("R2", "Red", "payment", 1, (20, 60, 300), False, False),
    ("O1", "Orange", "delivery", 2, (30, 90, 600), True, False),
    ("O2", "Orange", "delivery", 3, (50, None, 200), False, False),
    ("O3", "Orange", None, 4, (70, None, None), False, False),
    ("B1", "Blue", "payment", 5, (5, None, 40), True, False),
    ("B2", "Blue", "delivery", 6, (None, None, None), False, False),
    ("B3", "Blue", "delivery", 7, (100, 120, 130), False, True),
    ("G1", "Green", "payment", 8, (None, None, 3), True, True),
    ("B4", "Blue", None, 9, (15, None, None), True, False),
    ("B5", "Blue", "billing", 10, (45, None, 60), False, False),
]
TITLES = {
    "R1": ("Card payments double-charged after night deploy", "야간 배포 후 카드 이중 결제"),
    "R2": ("Payment gateway down for all customers", "결제 대행사 전면 장애"),
    "O1": ("Cold-chain delivery arrived warm", "냉장 배송 상온 도착"),
    "O2": ("Courier lost twelve parcels", "택배 12건 분실"),
    "O3": ("Repeat of the address-sync failure", "주소 동기화 오류 재발"),
    "B1": ("Coupon not applied at checkout", "결제 시 쿠폰 미적용"),
    "B2": ("Late delivery, customer upset", "배송 지연으로 고객 불만"),
    "B3": ("Wrong size shipped", "잘못된 사이즈 발송"),
    "G1": ("Receipt e-mail typo", "영수증 메일 오타"),
    "B4": ("Customer cannot change delivery date", "배송일 변경 불가"),
    "B5": ("Invoice shows the wrong VAT", "세금계산서 부가세 오류"),
    "A1": ("Allergen missing from a meal-kit label", "밀키트 라벨 알레르기 표시 누락"),
    "A2": ("Push notifications sent twice", "푸시 알림 중복 발송"),
    "A3": ("Points not credited after purchase", "구매 후 포인트 적립 누락"),
    "A4": ("Long-running dispute over a damaged sofa", "파손 소파 보상 분쟁 장기화"),
}


def build_dataset(now: datetime | None = None, language: str = "en") -> Dataset:
    """A hand-built, realistic set: 11 incidents in a 14-day period ending a week ago, some
    before and after it, open incidents of every age, compensation, apologies, action items,
    playbooks and growth figures. Everything through the services with explicit clocks."""
    now = now or utcnow()
    base = datetime.combine(now.date() - timedelta(days=20), time.min, tzinfo=UTC)
    agent, lead = _user("agent", "Mina Agent"), _user("lead", "Jun Lead")
    manager, admin = _user("manager", "Seo Manager"), _user("admin", "Hana Admin")
    title = (lambda key: TITLES[key][0]) if language == "en" else (lambda key: TITLES[key][1])

    def walk(incident, steps, at):
        for status, minutes in zip((Status.shared, Status.mitigated, Status.resolved), steps,
                                   strict=True):
            if minutes is not None:
                services.change_status(agent, incident, status, now=at + timedelta(minutes=minutes))

    made = {}
    for key, grade, category, day, steps, one_stop, close in PLAN:
        at = base + timedelta(days=day, hours=1)
        incident = services.create_incident(agent, title=title(key), grade=_grade(grade),
                                            category=_category(category), detected_at=at, now=at,
                                            one_stop=one_stop)
        walk(incident, steps, at)
        if close:
            services.change_status(agent, incident, Status.closed, now=at + timedelta(hours=12))
        made[key] = incident

    # Outside the period: before it (closed) and after it (closed).
    for key, at in (("X1", base - timedelta(days=10)), ("X2", base + timedelta(days=15))):
        incident = services.create_incident(agent, title=f"Outside the period {key}", grade=_grade("Green"),
                                            category=_category("payment"), detected_at=at, now=at,
                                            one_stop=False)
        walk(incident, (1000, None, 1000), at)
        services.change_status(agent, incident, Status.closed, now=at + timedelta(minutes=1001))
        made[key] = incident

    # Open now, of every age (no category).
    for key, grade, age in (("A1", "Red", timedelta(minutes=30)), ("A2", "Orange", timedelta(hours=5)),
                            ("A3", "Blue", timedelta(days=3)), ("A4", "Green", timedelta(days=40))):
        at = now - age
        made[key] = services.create_incident(agent, title=title(key), grade=_grade(grade),
                                             detected_at=at, now=at)

    # Compensation: paid in the period counts; paid after it, or not paid, does not.
    def paid(key, comp_type, amount, paid_day):
        at = base + timedelta(days=paid_day, hours=5)
        comp = comp_services.propose(manager, made[key], comp_type=comp_type, amount=amount, now=at)
        assert comp.status == CompStatus.approved
        comp_services.pay(agent, comp, now=at + timedelta(hours=1))
        return comp

    paid("R1", CompType.refund, 30_000, 1)
    paid("O1", CompType.refund, 12_000, 3)
    paid("B1", CompType.coupon, 5_000, 6)
    paid("R2", CompType.refund, 99_999, 18)
    comp_services.propose(manager, made["O2"], comp_type=CompType.cash, amount=50_000,
                          now=base + timedelta(days=4))

    # Apologies: sent in the period count.
    def letter(key, sent_day):
        at = base + timedelta(days=4 if sent_day is None else sent_day, hours=8)
        for field, value in TOLD["en"].items():  # what customers are told: a draft without gaps
            setattr(made[key], field, value)
        draft = apology_services.draft(agent, made[key], audience=Audience.public, language="en", now=at)
        if "[fill in" in draft.current.body:  # no compensation on this incident: say what they get
            body = re.sub(r"\[fill in[^\]]*\]", "Every affected customer gets a refund of the delivery fee.",
                          draft.current.body)
            apology_services.edit(agent, draft, body, now=at)
        apology_services.approve(manager, draft, override_reason="Reviewed by hand.", now=at)
        if sent_day is not None:
            apology_services.mark_sent(agent, draft, "website", now=at + timedelta(hours=1))

    letter("O1", 4)
    letter("B1", 7)
    letter("B2", 18)
    letter("O2", None)

    # Action items: open ones count; overdue = due before today.
    today = now.date()
    pm_services.add_action(lead, made["R1"], title="Add a deploy freeze after 22:00", owner=lead,
                           kind=ActionKind.prevent, due_date=today - timedelta(days=1))
    pm_services.add_action(lead, made["O1"], title="Audit cold-chain packaging", owner=lead,
                           kind=ActionKind.prevent, due_date=today + timedelta(days=1))
    pm_services.add_action(lead, made["O3"], title="Monitor address sync", owner=lead,
                           kind=ActionKind.detect)
    done = pm_services.add_action(lead, made["R2"], title="Second payment gateway", owner=lead,
                                  kind=ActionKind.mitigate, due_date=today - timedelta(days=10))
    pm_services.complete_action(lead, done)

    # Playbooks the incidents recur under.
    for playbook_title, keys in (("Payment outage", ("R1", "R2", "X1")), ("Cold chain", ("O1",))):
        playbook = Playbook(title=playbook_title, language="en", created_by_id=lead.id)
        db.session.add(playbook)
        db.session.flush()
        for key in keys:
            db.session.add(PlaybookSource(playbook=playbook, incident=made[key], playbook_version=1))

    # Growth figures: two weeks inside the period, one month before it; sign-ups too.
    metrics.add_growth(admin, "orders", base.date(), base.date() + timedelta(days=7), 4_000)
    metrics.add_growth(admin, "orders", base.date() + timedelta(days=7), base.date() + timedelta(days=14), 6_000)
    metrics.add_growth(admin, "orders", base.date() - timedelta(days=40), base.date() - timedelta(days=10), 99_999)
    metrics.add_growth(admin, "signups", base.date(), base.date() + timedelta(days=14), 500)
    db.session.commit()
    return Dataset(base.date(), base.date() + timedelta(days=13), made)


def _fig(median, p90, count, target=None, with_target=True):
    figure = {"median": median, "p90": p90, "count": count}
    if with_target:
        figure["target"] = target
    return figure


EMPTY = _fig(None, None, 0)
EXPECTED = {
    "time_to_share_minutes": {
        # 3 5 10 15 20 30 45 50 70 100: median (20+30)/2; p90 is the 9th of 10.
        "median": 25.0, "p90": 70.0, "count": 10,
        "by_grade": {"Red": _fig(15.0, 20.0, 2, 15), "Orange": _fig(50.0, 70.0, 3, 60),
                     "Blue": _fig(30.0, 100.0, 4, 480), "Green": _fig(3.0, 3.0, 1, None)}},
    "time_to_mitigate_minutes": {
        # R1 30, R2 60, O1 90, O2 200, B1 40, B3 120, G1 3, B5 60 (a skipped mitigation
        # takes the resolve time): 3 30 40 60 60 90 120 200.
        "median": 60.0, "p90": 200.0, "count": 8,
        "by_grade": {"Red": _fig(45.0, 60.0, 2), "Orange": _fig(145.0, 200.0, 2),
                     "Blue": _fig(60.0, 120.0, 3), "Green": _fig(3.0, 3.0, 1)}},
    "time_to_resolve_minutes": {
        # 3 40 60 100 130 200 300 600
        "median": 115.0, "p90": 600.0, "count": 8,
        "by_grade": {"Red": _fig(200.0, 300.0, 2, 240), "Orange": _fig(400.0, 600.0, 2, 1440),
                     "Blue": _fig(60.0, 130.0, 3, 4320), "Green": _fig(3.0, 3.0, 1, 1440)}},
}


def bucket(count=0, under_1h=0, under_1d=0, under_7d=0, over_7d=0):
    return {"count": count, "under_1h": under_1h, "under_1d": under_1d, "under_7d": under_7d,
            "over_7d": over_7d}


@pytest.fixture
def dataset(app):
    return build_dataset()


def get(api_client, data: Dataset, **params):
    query = {"from": data.start.isoformat(), "to": data.end.isoformat(), **params}
    response = api_client.get(URL, query_string=query)
    assert response.status_code == 200, response.json
    return response.json


# --- the API -------------------------------------------------------------------------------------

def test_api_returns_every_figure_of_the_hand_built_set(api, dataset):
    body = get(api("viewer"), dataset)
    for key, expected in EXPECTED.items():
        assert body[key] == expected, key
    assert body["incidents"] == 11
    assert body["one_stop_rate"] == 0.375  # R1 R2 O1 O2 B1 B3 G1 B5 resolved; O1 B1 G1 one-stop
    assert body["inquiry_ratio"] == 1.1  # 11 incidents per 10,000 orders in the two weeks
    assert body["inquiry_metric"] == "orders" and body["growth_total"] == 10_000
    assert body["open_by_grade"] == {"Red": bucket(3, under_1h=1, over_7d=2),
                                     "Orange": bucket(4, under_1d=1, over_7d=3),
                                     "Blue": bucket(5, under_7d=1, over_7d=4),
                                     "Green": bucket(1, over_7d=1)}
    assert body["recurrence_by_category"] == {"payment": 4, "delivery": 4, "": 2, "billing": 1}
    assert [(p["title"], p["incidents"]) for p in body["recurrence_by_playbook"]] == [
        ("Payment outage", 2), ("Cold chain", 1)]
    assert body["compensation_by_type"] == {"refund": 42_000, "coupon": 5_000}
    assert body["apologies_sent"] == 2
    assert body["action_items"] == {"open": 3, "overdue": 1}
    assert [f["id"] for f in body["festering"]][:1] == [dataset.incidents["A4"].id]


def test_api_other_growth_metric(api, dataset):
    body = get(api("viewer"), dataset, metric="signups")
    assert (body["inquiry_metric"], body["inquiry_ratio"], body["growth_total"]) == ("signups", 22.0, 500)


def test_api_category_filter(api, dataset):
    body = get(api("viewer"), dataset, category="payment")
    assert body["incidents"] == 4  # R1 R2 B1 G1
    share = body["time_to_share_minutes"]  # 3 5 10 20
    assert (share["median"], share["p90"], share["count"]) == (7.5, 20.0, 4)
    resolve = body["time_to_resolve_minutes"]  # 3 40 100 300
    assert (resolve["median"], resolve["p90"], resolve["count"]) == (70.0, 300.0, 4)
    assert resolve["by_grade"]["Orange"] == _fig(None, None, 0, 1440)
    assert body["one_stop_rate"] == 0.5
    assert body["inquiry_ratio"] == 0.4
    assert body["open_by_grade"]["Red"] == bucket(2, over_7d=2)
    assert body["open_by_grade"]["Blue"] == bucket(1, over_7d=1)
    assert body["open_by_grade"]["Orange"] == body["open_by_grade"]["Green"] == bucket()
    assert body["recurrence_by_category"] == {"payment": 4}
    assert [(p["title"], p["incidents"]) for p in body["recurrence_by_playbook"]] == [("Payment outage", 2)]
    assert body["compensation_by_type"] == {"refund": 30_000, "coupon": 5_000}
    assert body["apologies_sent"] == 1
    assert body["action_items"] == {"open": 1, "overdue": 1}


def test_api_empty_period_gives_nulls_not_errors(api, dataset):
    body = api("viewer").get(URL, query_string={"from": "2020-01-01", "to": "2020-01-31"}).json
    for key in EXPECTED:
        assert (body[key]["median"], body[key]["p90"], body[key]["count"]) == (None, None, 0)
        assert all(v["median"] is None and v["count"] == 0 for v in body[key]["by_grade"].values())
    assert body["incidents"] == 0
    assert body["one_stop_rate"] is None and body["inquiry_ratio"] is None
    assert body["compensation_by_type"] == {} and body["apologies_sent"] == 0


def test_api_on_an_empty_database(api):
    body = api("viewer").get(URL).json
    assert body["one_stop_rate"] is None and body["inquiry_ratio"] is None
    assert body["inquiry_metric"] is None
    assert body["open_by_grade"] == {g: bucket() for g in ("Red", "Orange", "Blue", "Green")}
    assert body["action_items"] == {"open": 0, "overdue": 0}
    assert body["time_to_share_minutes"]["by_grade"]["Red"] == _fig(None, None, 0, 15)


def test_api_default_period_is_the_last_30_days(api, dataset):
    body = api("viewer").get(URL).json
    today = utcnow().date()
    assert body["period"]["from"] == datetime.combine(today - timedelta(days=29), time.min, UTC).isoformat()
    # All 11 period incidents, X2 and the open A1-A3 (A4 is 40 days old; X1 30 days).
    assert body["incidents"] == 15


def test_api_resolve_with_no_resolved_incidents_gives_null_one_stop(api, make_incident):
    make_incident(one_stop=True)
    body = api("viewer").get(URL).json
    assert body["incidents"] == 1 and body["one_stop_rate"] is None


@pytest.mark.parametrize(("query", "field"), [
    ({"from": "2026-02-10", "to": "2026-02-01"}, "from"),
    ({"category": "nonsense"}, "category"),
    ({"from": "yesterday"}, "from"),
    ({"to": "2026-02-30"}, "to"),
    ({"colour": "red"}, "colour"),
])
def test_api_bad_queries_are_422(api, query, field):
    response = api("viewer").get(URL, query_string=query)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_api_needs_a_token(client):
    assert client.get(URL).status_code == 401


# --- the page and its CSV downloads --------------------------------------------------------------

def page_query(data: Dataset, **extra) -> dict:
    return {"start": data.start.isoformat(), "end": data.end.isoformat(), **extra}


def download(client, data: Dataset, chart: str, **extra) -> list[list[str]]:
    response = client.get("/dashboard.csv", query_string=page_query(data, chart=chart, **extra))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert f"dashboard-{chart}-{data.start}-{data.end}.csv" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_page_shows_the_figures(client, login, dataset):
    login("viewer")
    response = client.get("/dashboard", query_string=page_query(dataset))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<span class="kpi-value">11</span>' in page
    assert '<span class="kpi-value">38%</span>' in page  # 0.375
    assert '<span class="kpi-value">1.1</span>' in page
    assert "incidents per 1,000 orders" in page
    assert '<span class="kpi-value">2</span><span class="kpi-label">apologies sent' in page
    assert '<span class="kpi-value">3 / 1</span>' in page and "kpi-bad" in page
    assert "Payment outage</a>: 2" in page and "Cold chain</a>: 1" in page
    assert "₩42,000" in page and "₩5,000" in page
    assert page.count('<svg class="chart"') == 6
    assert "no data" not in page


def test_root_is_the_dashboard(client, login):
    login("viewer")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")


def test_csv_time_figures(client, login, dataset):
    login("viewer")
    for key, expected in EXPECTED.items():
        rows = download(client, dataset, key)
        assert rows[0] == ["grade", "median_minutes", "p90_minutes", "count", "target_minutes"]

        def text(v):
            return "" if v is None else str(v)
        assert rows[1:] == [[g, text(v["median"]), text(v["p90"]), str(v["count"]), text(v["target"])]
                            for g, v in expected["by_grade"].items()] + [
            ["all", text(expected["median"]), text(expected["p90"]), str(expected["count"]), ""]]


def test_csv_other_charts(client, login, dataset):
    login("viewer")
    assert download(client, dataset, "open") == [
        ["grade", "open", "under_1h", "under_1d", "under_7d", "over_7d"],
        ["Red", "3", "1", "0", "0", "2"], ["Orange", "4", "0", "1", "0", "3"],
        ["Blue", "5", "0", "0", "1", "4"], ["Green", "1", "0", "0", "0", "1"]]
    assert sorted(download(client, dataset, "compensation")[1:]) == [
        ["coupon", "5000", "KRW"], ["refund", "42000", "KRW"]]
    assert dict(download(client, dataset, "recurrence")[1:]) == {
        "payment": "4", "delivery": "4", "": "2", "billing": "1"}
    assert download(client, dataset, "summary") == [
        ["figure", "value"], ["incidents", "11"], ["one_stop_rate", "0.375"],
        ["inquiry_ratio", "1.1"], ["inquiry_metric", "orders"], ["apologies_sent", "2"],
        ["action_items_open", "3"], ["action_items_overdue", "1"]]
    unknown = client.get("/dashboard.csv?chart=nonsense")
    assert unknown.status_code == 404
    assert "There is no chart called “nonsense”" in unknown.get_data(as_text=True)
    assert "summary" in unknown.get_data(as_text=True)


def test_csv_follows_the_category_filter(client, login, dataset):
    login("viewer")
    assert download(client, dataset, "summary", category="payment")[1:4] == [
        ["incidents", "4"], ["one_stop_rate", "0.5"], ["inquiry_ratio", "0.4"]]
    response = client.get("/dashboard", query_string=page_query(dataset, category="payment"))
    page = response.get_data(as_text=True)
    assert '<span class="kpi-value">4</span>' in page and '<span class="kpi-value">50%</span>' in page


def test_empty_period_page_says_no_data(client, login, dataset):
    login("viewer")
    response = client.get("/dashboard?start=2020-01-01&end=2020-01-31")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count(">no data<") == 2  # one-stop rate and inquiry ratio
    assert "No data for this period." in page
    rows = download(client, Dataset(date(2020, 1, 1), date(2020, 1, 31), {}), "summary")
    assert rows[1:4] == [["incidents", "0"], ["one_stop_rate", ""], ["inquiry_ratio", ""]]


def test_empty_database_page(client, login):
    login("admin")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "inquiry ratio: enter a growth figure" in page
    assert "Nothing open." in page
    assert '<svg class="chart"' not in page


@pytest.mark.parametrize(("language", "payment", "none"), [("en", "Payment", "no category"),
                                                           ("ko", "결제", "분류 없음")])
def test_recurrence_chart_names_categories_like_the_table(client, login, dataset, language, payment, none):
    """The bars were labelled with raw slugs ("payment") while the table showed names."""
    login("viewer")
    page = client.get("/dashboard", query_string=page_query(dataset),
                      headers={"Accept-Language": language}).get_data(as_text=True)
    assert f'fill="#1d232b">{payment}</text>' in page
    assert f'fill="#1d232b">{none}</text>' in page
    assert 'fill="#1d232b">payment</text>' not in page
