"""Every unbounded input is bounded before a query, a loop or arithmetic sees it: money in
exponent notation, ids past the database's range, JSON nested thousands deep, dates in year 1
or 9999, time zone offsets at the ends of the calendar (issue 16, class 2). Each answers a
clear 4xx (or 404) and changes nothing; none is a 500."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import bounds
from app.extensions import db
from incidents.compensation import services as comp_services
from incidents.compensation.models import CompType
from tests import conftest

HTTP = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def incident(team, make_incident):
    return make_incident(team["agent"].user, grade="Blue")


# --- ids ----------------------------------------------------------------------------------------

@HTTP
@given(st.one_of(st.integers(0, 10**40), st.sampled_from([2**31 - 1, 2**31, 2**63, 2**64])))
def test_any_id_in_a_path_is_found_or_not_found(team, incident, number):
    for path in (f"/api/v1/incidents/{number}", f"/api/v1/compensations/{number}/approve",
                 f"/api/v1/playbooks/{number}", f"/api/v1/apologies/{number}"):
        method = "post" if path.endswith("approve") else "get"
        response = getattr(team["lead"], method)(path)
        assert response.status_code in (200, 404, 409), (path, response.status_code)
        if number != incident.id:
            assert response.status_code == 404
            assert response.get_json()["error"]["code"]


def test_web_pages_with_ids_past_the_range_are_not_found(client, login):
    login("lead")
    for path in ("/incidents/99999999999999999999", "/incidents/2147483648",
                 "/playbooks/18446744073709551616", "/apologies/9223372036854775808"):
        assert client.get(path).status_code == 404, path


def test_form_ids_past_the_range_are_refused(client, login, incident):
    login("lead")
    response = client.post("/playbooks/1/feedback", data={
        "incident_id": "9" * 40, "action": "used"})
    assert response.status_code in (400, 404)
    response = client.post("/oncall", data={"remove": "9" * 40})
    assert response.status_code in (404, 422)


# --- JSON ---------------------------------------------------------------------------------------

@HTTP
@given(depth=st.integers(1, 3000), kind=st.sampled_from(["[", "{"]))
def test_json_nesting_is_bounded(team, snapshot, depth, kind):
    before = snapshot()
    inner = "[]" if kind == "[" else "{}"
    for _ in range(depth):
        inner = f"[{inner}]" if kind == "[" else f'{{"a": {inner}}}'
    body = f'{{"title": "Deep", "grade": "Blue", "affected_customers": {inner}}}'
    response = team["agent"].post("/api/v1/incidents", data=body,
                                  headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422), response.status_code
    if depth + 2 > bounds.JSON_MAX_DEPTH:
        assert response.get_json()["error"]["code"] == "invalid_json"
        assert str(bounds.JSON_MAX_DEPTH) in response.get_json()["error"]["message"]
    assert snapshot() == before


def test_brackets_inside_strings_do_not_count():
    text = json.dumps({"title": "[" * 500 + "{" * 500, "nested": {"a": [1, 2, {"b": "]]]"}]}})
    assert not bounds.json_too_deep(text)
    assert bounds.json_too_deep("[" * 33 + "]" * 33)
    assert not bounds.json_too_deep("[" * 32 + "]" * 32)
    assert not bounds.json_too_deep('"\\"[[[[" ' + "[]" * 1000)


# --- money --------------------------------------------------------------------------------------

@pytest.mark.parametrize("amount", ["1e999999", "9e99999999", "1E5", "NaN", "Infinity",
                                    "-30000", "30000e0", "9" * 25, "9" * 5000, "0x7530",
                                    "3,0000"], ids=lambda a: a[:12])
def test_money_in_the_web_form_is_parsed_strictly(client, login, incident, amount):
    login("agent")
    response = client.post(f"/incidents/{incident.id}/compensations", data={
        "comp_type": "refund", "amount": amount, "currency": "KRW", "approve": "y"})
    assert response.status_code == 422
    if len(amount) <= 30:  # longer ones are refused by the form's length before parsing
        assert "Give an amount like 30000" in response.get_data(as_text=True)
    assert comp_services.for_incident(incident) == []


def test_money_in_the_policy_grid_is_parsed_strictly(client, login):
    login("admin")
    grade_id = db.session.scalar(db.select(conftest.Grade.id).where(conftest.Grade.name == "Blue"))
    before = [(r.type, r.grade_id, r.agent) for r in comp_services.policy_rules()]
    response = client.post("/admin/authority", data={
        "currency": "KRW", f"refund.{grade_id}.agent": "1e999999"})
    assert response.status_code == 422
    assert [(r.type, r.grade_id, r.agent) for r in comp_services.policy_rules()] == before


def test_money_over_the_api_is_an_integer_within_bounds(team, incident):
    for amount in ("1e999999", 1e300, 10**20, -1, 0, "30000", True):
        response = team["agent"].post(f"/api/v1/incidents/{incident.id}/compensations",
                                      json={"type": "refund", "amount": amount})
        assert response.status_code == 422, amount
    response = team["agent"].post(f"/api/v1/incidents/{incident.id}/compensations",
                                  data='{"type": "refund", "amount": 1e999999}',
                                  headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert comp_services.for_incident(incident) == []


# --- dates and periods --------------------------------------------------------------------------

DAYS = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))


@HTTP
@given(start=st.one_of(st.none(), DAYS), end=st.one_of(st.none(), DAYS))
def test_report_periods_are_bounded_over_the_api(team, start, end):
    query = {k: v.isoformat() for k, v in (("from", start), ("to", end)) if v is not None}
    for path in ("/api/v1/metrics", "/api/v1/reports/delegation"):
        response = team["lead"].get(path, query_string=query)
        assert response.status_code in (200, 422), (path, query, response.status_code)
        if response.status_code == 422:
            assert response.get_json()["error"]["fields"]


@pytest.mark.parametrize(("start", "end"), [
    ("0001-01-01", "9999-12-31"), ("9999-12-31", "9999-12-31"), ("0001-01-01", ""),
    ("", "0001-01-01"), ("1970-01-01", "2999-12-31"), ("", "9999-12-31")])
def test_report_periods_are_bounded_on_the_web(client, login, start, end):
    login("lead")
    for path in ("/dashboard", "/reports/delegation", "/dashboard.csv", "/search"):
        response = client.get(path, query_string={"start": start, "end": end, "q": "refund",
                                                  "chart": "open"})
        assert response.status_code == 200, (path, response.status_code)
    page = client.get("/dashboard", query_string={"start": start, "end": end})
    text = page.get_data(as_text=True)
    assert "Give a date between 1970-01-01 and 2999-12-31" in text or \
        "A period can be at most" in text


def test_the_longest_period_is_shown_and_one_day_more_is_refused(team):
    end = date(2026, 11, 30)
    start = end - timedelta(days=bounds.MAX_PERIOD_DAYS - 1)
    ok = team["lead"].get("/api/v1/metrics", query_string={"from": start.isoformat(),
                                                           "to": end.isoformat()})
    assert ok.status_code == 200
    refused = team["lead"].get("/api/v1/metrics", query_string={
        "from": (start - timedelta(days=1)).isoformat(), "to": end.isoformat()})
    assert refused.status_code == 422
    assert "at most" in refused.get_json()["error"]["fields"]["to"]


@pytest.mark.parametrize("moment", [
    "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-14:00", "3000-01-01T00:00:00+00:00"])
def test_offsets_at_the_ends_of_the_calendar(team, snapshot, moment):
    before = snapshot()
    response = team["agent"].post("/api/v1/incidents", json={
        "title": "Edge", "grade": "Blue", "detected_at": moment})
    assert response.status_code == 422, response.get_json()
    assert "detected_at" in response.get_json()["error"]["fields"]
    response = team["lead"].post("/api/v1/oncall/overrides", json={
        "user_email": team["lead"].user.email, "role": "lead", "start": moment,
        "end": "2026-12-25T09:00:00+09:00"})
    assert response.status_code == 422, response.get_json()
    assert snapshot() == before


@HTTP
@given(day=DAYS, hours=st.integers(-14, 14))
def test_any_detection_time_is_accepted_or_refused_cleanly(team, day, hours):
    sign = "+" if hours >= 0 else "-"
    moment = f"{day.isoformat()}T12:00:00{sign}{abs(hours):02d}:00"
    response = team["agent"].post("/api/v1/incidents", json={
        "title": "Any time", "grade": "Blue", "detected_at": moment})
    assert response.status_code in (201, 422), (moment, response.status_code)


def test_rota_override_over_the_web_at_the_ends_of_the_calendar(client, login):
    lead = login("lead")
    response = client.post("/oncall", data={
        "override-user": str(lead.id), "override-role": "lead",
        "override-start": "0001-01-01T00:00", "override-end": "0001-01-02T00:00",
        "override-submit": "1"})
    assert response.status_code == 422
    assert "Give a time between" in response.get_data(as_text=True)


def test_growth_figure_at_the_end_of_the_calendar_is_refused(client, login):
    login("admin")
    response = client.post("/admin/growth", data={
        "one-metric": "orders", "one-granularity": "week", "one-start": "9999-12-31",
        "one-value": "5", "one-submit": "1"})
    assert response.status_code == 422
    csv = "metric,period,start,value\norders,week,9999-12-31,5\n"
    response = client.post("/admin/growth", data={
        "csv-file": (__import__("io").BytesIO(csv.encode()), "g.csv"), "csv-submit": "1"},
        content_type="multipart/form-data")
    assert response.status_code == 422


def test_amounts_passed_to_services_are_bounded(make_user, make_incident):
    agent = make_user("agent")
    incident = make_incident(agent)
    for amount in (0, -1, 10**14, 10**400):
        with pytest.raises(comp_services.ValidationFailed):
            comp_services.propose(agent, incident, comp_type=CompType.refund, amount=amount)
