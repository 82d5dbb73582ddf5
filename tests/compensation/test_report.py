"""The delegation report: pure figures from hand-built rows, then end to end over API, page and CSV."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Category, Role, User
from incidents.compensation import report, services
from incidents.compensation.api import DelegationOut
from incidents.compensation.models import CompType
from incidents.compensation.report import Row, Thresholds

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
SMALL = {"refund": 300_000, "coupon": 100_000}


def row(amount: int, required_role: str = "lead", *, wait: float | None = None,
        rejected: bool = False, via: str | None = None, category: str = "delivery",
        comp_type: str = "refund", at: datetime = T0) -> Row:
    """A compensation decided `wait` minutes after `at` (approved unless `rejected`)."""
    decided = at + timedelta(minutes=wait) if wait is not None else None
    if decided is not None and not rejected and via is None:
        via = "role"
    return Row(category=category, type=comp_type, amount=amount, required_role=required_role,
               proposed_at=at, approved_at=None if rejected else decided, approved_via=via,
               rejected_at=decided if rejected else None)


def only(groups: list[report.Group]) -> report.Group:
    assert len(groups) == 1
    return groups[0]


# --- pure figures ------------------------------------------------------------------------------

def test_no_rows_no_groups():
    assert report.build([], SMALL) == []
    assert report.to_csv([], "KRW").splitlines() == [
        "category,type,count,total_amount,median_amount,escalations,median_wait_minutes,"
        "approved_as_proposed,candidate,suggested_agent_limit,currency"]


def test_figures_of_an_even_group():
    group = only(report.build([
        row(10_000, "agent", wait=5),             # the agent's own approval
        row(60_000, wait=30),
        row(80_000, wait=90, rejected=True),
        row(20_000, "agent"),                     # not decided yet
    ], SMALL))
    assert (group.category, group.type, group.count) == ("delivery", "refund", 4)
    assert group.total_amount == 170_000
    assert group.median_amount == 40_000           # (20,000 + 60,000) / 2
    assert group.escalations == 2
    assert group.median_wait_minutes == 30         # of 5, 30, 90
    assert group.approved_as_proposed == pytest.approx(2 / 3)
    assert group.candidate is False and group.suggested_agent_limit is None


def test_figures_of_an_odd_group_and_self_serve():
    group = only(report.build([
        row(5_000, "agent", wait=0, via="policy", category="payment", comp_type="coupon"),
        row(45_000, wait=20, category="payment", comp_type="coupon"),
        row(40_000, wait=10, category="payment", comp_type="coupon"),
    ], SMALL))
    assert group.count == 3 and group.total_amount == 90_000
    assert group.median_amount == 40_000
    assert group.escalations == 2                  # self-serve is never an escalation
    assert group.median_wait_minutes == 15         # the policy's approval waits for no one
    assert group.approved_as_proposed == 1.0


def test_self_serve_above_agent_level_is_not_an_escalation():
    group = only(report.build([row(5_000, "lead", wait=0, via="policy")], SMALL))
    assert group.escalations == 0 and group.approved_as_proposed is None
    assert group.median_wait_minutes is None


def test_groups_are_by_category_and_type_in_order():
    groups = report.build([row(1, category="payment"), row(2, comp_type="coupon"),
                           row(3, category=""), row(4)], SMALL)
    assert [(g.category, g.type, g.count) for g in groups] == [
        ("", "refund", 1), ("delivery", "coupon", 1), ("delivery", "refund", 1),
        ("payment", "refund", 1)]


def escalated(n_approved: int, n_rejected: int = 0, start: int = 60_000) -> list[Row]:
    amounts = [start + 10_000 * i for i in range(n_approved + n_rejected)]
    return ([row(a, wait=10) for a in amounts[:n_approved]]
            + [row(a, wait=10, rejected=True) for a in amounts[n_approved:]])


def test_candidate_and_nearest_rank_p90():
    group = only(report.build(escalated(10), SMALL))
    assert group.candidate is True
    # Ten approved amounts 60,000..150,000: the 9th (ceil(0.9 * 10)) is 140,000.
    assert group.suggested_agent_limit == 140_000
    three = only(report.build(escalated(5, start=10_000) + [row(1_000_000, wait=10)],
                              {"refund": 1_000_000}))
    # Six amounts: ceil(5.4) = 6th, the largest.
    assert three.suggested_agent_limit == 1_000_000


@pytest.mark.parametrize(("rows", "candidate"), [
    (escalated(5), True),                                    # exactly the minimum count
    (escalated(4), False),                                   # one escalation too few
    (escalated(9, 1), True),                                 # 90% approved: enough
    (escalated(8, 2), False),                                # 80%: not enough
    (escalated(5) + [row(1_000, "agent", wait=1)] * 5, True),   # 5 of 10 escalated: half
    (escalated(5) + [row(1_000, "agent", wait=1)] * 6, False),  # 5 of 11: under half
    (escalated(5) + [row(70_000)] * 6, True),                # undecided: not in the approval share
    (escalated(5, start=260_000), True),                     # median 280,000 <= 300,000
    (escalated(5, start=290_000), False),                    # median 310,000: not small
])
def test_candidate_thresholds(rows, candidate):
    group = only(report.build(rows, SMALL))
    assert group.candidate is candidate
    assert (group.suggested_agent_limit is not None) is candidate


def test_no_candidate_without_a_small_amount_for_the_type():
    assert only(report.build(escalated(10), {})).candidate is False
    assert only(report.build(escalated(10), {"refund": None})).candidate is False


def test_thresholds_can_be_tuned():
    rows = escalated(3, 1)
    assert only(report.build(rows, SMALL)).candidate is False
    loose = Thresholds(min_escalations=3, min_escalation_share=0.5, min_approval_share=0.75)
    group = only(report.build(rows, SMALL, loose))
    assert group.candidate is True and group.suggested_agent_limit == 80_000


def test_csv_has_a_header_and_plain_values():
    group = only(report.build(escalated(10), SMALL))
    lines = list(csv.reader(io.StringIO(report.to_csv([group], "KRW"))))
    assert lines[0][-1] == "currency" and len(lines) == 2
    assert dict(zip(lines[0], lines[1], strict=True)) == {
        "category": "delivery", "type": "refund", "count": "10", "total_amount": "1050000",
        "median_amount": "105000.0", "escalations": "10", "median_wait_minutes": "10.0",
        "approved_as_proposed": "1.0", "candidate": "True", "suggested_agent_limit": "140000",
        "currency": "KRW"}


# --- end to end --------------------------------------------------------------------------------

@pytest.fixture
def person(app):
    counter = itertools.count(1)

    def make(role: str) -> User:
        n = next(counter)
        user = User(email=f"{role}-{n}@example.com", name=f"{role} {n}", title=role,
                    role=Role(role), password_hash="-", active=True, timezone="UTC")
        db.session.add(user)
        db.session.commit()
        return user
    return make


def category(slug: str) -> Category:
    return db.session.scalar(select(Category).where(Category.slug == slug))


@pytest.fixture
def period_data(person, make_incident):
    """Three groups inside 10-12 March 2026 (UTC), and two proposals just outside it."""
    agent, lead, manager = person("agent"), person("lead"), person("manager")
    delivery = make_incident(agent, grade="Blue", category=category("delivery"))
    payment = make_incident(agent, grade="Green", category=category("payment"))
    loose = make_incident(agent, grade="Blue")
    # delivery / refund: one within the agent's limit, eleven above it (ten approved).
    services.propose(agent, delivery, comp_type=CompType.refund, amount=30_000, now=T0)
    for i in range(11):
        at = T0 + timedelta(hours=i + 1)
        comp = services.propose(agent, delivery, comp_type=CompType.refund,
                                amount=60_000 + 10_000 * i, now=at)
        decided = at + timedelta(minutes=10 * (i + 1))
        if i < 10:
            services.approve(lead, comp, now=decided)
        else:
            services.reject(lead, comp, "Not our courier", now=decided)
    # payment / coupon: self-serve, and one still waiting for a lead.
    services.propose(agent, payment, comp_type=CompType.coupon, amount=5_000,
                     now=T0 + timedelta(days=1))
    services.propose(agent, payment, comp_type=CompType.coupon, amount=40_000,
                     now=T0 + timedelta(days=1, hours=1))
    # no category / cash: the manager decides after two hours.
    cash = services.propose(agent, loose, comp_type=CompType.cash, amount=200_000,
                            now=T0 + timedelta(days=2))
    services.approve(manager, cash, now=T0 + timedelta(days=2, hours=2))
    # Outside: a minute before 10 March, and 13 March 00:00.
    services.propose(agent, delivery, comp_type=CompType.refund, amount=70_000,
                     now=datetime(2026, 3, 9, 23, 59, tzinfo=UTC))
    services.propose(agent, delivery, comp_type=CompType.refund, amount=70_000,
                     now=datetime(2026, 3, 13, 0, 0, tzinfo=UTC))
    db.session.commit()


EXPECTED = [
    {"category": "", "type": "cash", "count": 1, "total_amount": 200_000,
     "median_amount": 200_000, "escalations": 1, "median_wait_minutes": 120,
     "approved_as_proposed": 1.0, "candidate": False, "suggested_agent_limit": None},
    {"category": "delivery", "type": "refund", "count": 12, "total_amount": 1_240_000,
     "median_amount": 105_000, "escalations": 11, "median_wait_minutes": 55,
     "approved_as_proposed": 11 / 12, "candidate": True, "suggested_agent_limit": 140_000},
    {"category": "payment", "type": "coupon", "count": 2, "total_amount": 45_000,
     "median_amount": 22_500, "escalations": 1, "median_wait_minutes": None,
     "approved_as_proposed": None, "candidate": False, "suggested_agent_limit": None},
]


def test_api_report_matches_the_hand_count(period_data, api):
    response = api("lead").get("/api/v1/reports/delegation?from=2026-03-10&to=2026-03-12")
    assert response.status_code == 200
    body = DelegationOut.model_validate(response.get_json())
    assert (body.currency, str(body.start), str(body.end)) == ("KRW", "2026-03-10", "2026-03-12")
    groups = [g.model_dump() for g in body.groups]
    assert groups == [pytest.approx(g) for g in EXPECTED]
    assert [(c.category, c.type) for c in body.candidates] == [("delivery", "refund")]


def test_api_report_bounds_are_inclusive_days(period_data, api):
    client = api("manager")
    wide = client.get("/api/v1/reports/delegation?from=2026-03-09&to=2026-03-13").get_json()
    refunds = next(g for g in wide["groups"] if g["type"] == "refund")
    assert refunds["count"] == 14
    first_day = client.get("/api/v1/reports/delegation?from=2026-03-10&to=2026-03-10").get_json()
    assert [(g["category"], g["count"]) for g in first_day["groups"]] == [("delivery", 12)]


def test_report_api_needs_a_lead(period_data, api):
    response = api("agent").get("/api/v1/reports/delegation")
    assert response.status_code == 403
    bad = api("lead").get("/api/v1/reports/delegation?from=yesterday")
    assert bad.status_code == 422 and "from" in bad.get_json()["error"]["fields"]


def test_empty_period_has_no_groups(period_data, api, login, client):
    body = api("lead").get("/api/v1/reports/delegation?from=2025-01-01&to=2025-01-31").get_json()
    assert body["groups"] == [] and body["candidates"] == []
    login("lead")
    page = client.get("/reports/delegation?start=2025-01-01&end=2025-01-31")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "No compensation in this period." in html and "No candidates in this period." in html
    data = client.get("/reports/delegation?start=2025-01-01&end=2025-01-31&format=csv")
    assert data.get_data(as_text=True).strip().count("\n") == 0  # the header alone


def test_web_report_shows_the_figures(period_data, login, client):
    login("lead")
    response = client.get("/reports/delegation?start=2026-03-10&end=2026-03-12")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert ("11 of 12 went above agent level; 92% approved as proposed; median ₩105,000; "
            "median wait 55 minutes. Suggested agent limit: ₩140,000.") in html
    for figure in ("₩1,240,000", "₩22,500", "₩45,000", "₩200,000", "2 hours", "100%"):
        assert figure in html
    assert html.count('class="candidate"') == 1
    assert 'href="/reports/delegation?start=2026-03-10&amp;end=2026-03-12&amp;format=csv"' in html


def test_web_report_csv_download(period_data, login, client):
    login("lead")
    response = client.get("/reports/delegation?start=2026-03-10&end=2026-03-12&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=delegation-2026-03-10-2026-03-12.csv")
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert lines == [
        ["category", "type", "count", "total_amount", "median_amount", "escalations",
         "median_wait_minutes", "approved_as_proposed", "candidate", "suggested_agent_limit",
         "currency"],
        ["", "cash", "1", "200000", "200000", "1", "120.0", "1.0", "False", "", "KRW"],
        ["delivery", "refund", "12", "1240000", "105000.0", "11", "55.0", str(11 / 12), "True",
         "140000", "KRW"],
        ["payment", "coupon", "2", "45000", "22500.0", "1", "", "", "False", "", "KRW"],
    ]


def test_web_report_is_for_leads_and_above(login, client):
    login("agent")
    assert client.get("/reports/delegation").status_code == 403
