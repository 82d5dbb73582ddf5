"""The incidents JSON API: validation (never a 500), listing, detail, edits, status and events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db
from app.timeutil import utcnow
from incidents import services
from incidents.models import AffectedCustomer, EventKind, Incident, Status, TimelineEvent
from incidents.schemas import CustomerOut, EventOut, IncidentDetailOut, IncidentListOut, IncidentOut

URL = "/api/v1/incidents"

KOREAN_TITLE = "배탈 났어요 🤢 치킨 주문 후 — Café ñ 𝔘𝔫𝔦"
KOREAN_TEXT = ("고객님께서 **치킨**을 드신 뒤 배탈이 나셨다고 합니다.\n\n"
               "- 주문번호 ORD-2026-0042\n- 👩‍👩‍👧 가족 3명 😷\n\n"
               "Mixed: Ａｂｃ ｱｲｳ 中文 العربية é (e\u0301) \u200b zero-width")


# Other features add their own events (e.g. notifications); these are the incident's own.
CORE_KINDS = {"created", "status_changed", "grade_changed", "owner_changed", "edited",
              "customer_added", "note", "action"}


def core_kinds(timeline) -> list[str]:
    kinds = [e["kind"] if isinstance(e, dict) else e.kind for e in timeline]
    return [k for k in kinds if k in CORE_KINDS]


def counts() -> tuple[int, int, int]:
    return (db.session.scalar(select(func.count(Incident.id))),
            db.session.scalar(select(func.count(TimelineEvent.id))),
            db.session.scalar(select(func.count(AffectedCustomer.id))))


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.json["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    return error


def post_raw(client, body: str | bytes, content_type: str = "application/json"):
    return client.post(URL, data=body, content_type=content_type)


@pytest.fixture
def agent_api(api):
    return api("agent")


# --- creating: the happy paths -------------------------------------------------------------------

def test_create_minimal(agent_api):
    response = agent_api.post(URL, json={"title": "Card declined twice", "grade": "blue"})
    assert response.status_code == 201
    body = IncidentDetailOut.model_validate(response.json)
    assert (body.title, body.grade, body.status) == ("Card declined twice", "Blue", Status.detected)
    assert body.owner.email == agent_api.user.email == body.reporter.email
    assert body.owner.name == agent_api.user.name and body.owner.title == agent_api.user.title
    assert core_kinds(body.timeline) == ["created"]
    assert body.timeline[0].actor.email == agent_api.user.email
    assert Status.shared in body.allowed_transitions
    assert db.session.get(Incident, body.id).title == "Card declined twice"


def test_create_with_everything(agent_api, make_user):
    lead, responder = make_user("lead"), make_user("agent")
    detected = (utcnow() - timedelta(hours=2)).replace(microsecond=0)
    payload = {
        "title": "Spoiled milk delivered", "grade": "Orange", "description": "Batch 7",
        "category": "food_safety", "channel": "phone",
        "detected_at": detected.astimezone().isoformat(), "owner_email": lead.email.upper(),
        "impact": "Two sick", "cause": "Cold chain", "resolution": "", "affected_count": 2,
        "responder_emails": [responder.email], "abusive_customer": False, "one_stop": True,
        "affected_customers": [{"name": "김민지", "contact": "010-0000-0000", "reference": "ORD-1",
                                "impact": "Hospital visit"}, {"reference": "ORD-2"}],
    }
    response = agent_api.post(URL, json=payload)
    assert response.status_code == 201, response.json
    body = IncidentDetailOut.model_validate(response.json)
    assert body.owner.email == lead.email and body.reporter.email == agent_api.user.email
    assert body.category == "food_safety" and body.channel.value == "phone"
    assert body.detected_at == detected
    assert [r.email for r in body.responders] == [responder.email]
    assert (body.affected_count, body.one_stop, body.cause) == (2, True, "Cold chain")
    assert [c.name for c in body.affected_customers] == ["김민지", ""]
    assert all(isinstance(c.id, int) for c in body.affected_customers)
    assert core_kinds(body.timeline) == ["created", "customer_added", "customer_added"]


# --- creating: refusals -------------------------------------------------------------------------

def _future() -> str:
    return (utcnow() + timedelta(hours=2)).isoformat()


@pytest.mark.parametrize(("payload", "field"), [
    ({"title": "x", "grade": "Blue", "severity": "high"}, "severity"),
    ({"title": "x", "grade": "Blue", "status": "closed"}, "status"),
    ({"title": "x", "grade": "Purple"}, "grade"),
    ({"title": "x", "grade": ""}, "grade"),
    ({"title": "x"}, "grade"),
    ({"grade": "Blue"}, "title"),
    ({"title": "", "grade": "Blue"}, "title"),
    ({"title": "   ", "grade": "Blue"}, "title"),
    ({"title": "x" * 201, "grade": "Blue"}, "title"),
    ({"title": 42, "grade": "Blue"}, "title"),
    ({"title": "x", "grade": "Blue", "detected_at": "2026-01-05T09:00:00"}, "detected_at"),
    ({"title": "x", "grade": "Blue", "detected_at": "yesterday"}, "detected_at"),
    ({"title": "x", "grade": "Blue", "detected_at": "9999-12-31T23:59:59-14:00"}, "detected_at"),
    ({"title": "x", "grade": "Blue", "detected_at": "0001-01-01T00:00:00+14:00"}, "detected_at"),
    ({"title": "x", "grade": "Blue", "detected_at": "1970-01-01T00:00:00Z"}, "detected_at"),
    ({"title": "NUL \x00 here", "grade": "Blue"}, "title"),
    ({"title": "x", "grade": "Blue", "description": "a\x00b"}, "description"),
    ({"title": "x", "grade": "Blue", "channel": "carrier pigeon"}, "channel"),
    ({"title": "x", "grade": "Blue", "category": "no_such"}, "category"),
    ({"title": "x", "grade": "Blue", "owner_email": "nobody@example.com"}, "owner_email"),
    ({"title": "x", "grade": "Blue", "owner_email": "not an email"}, "owner_email"),
    ({"title": "x", "grade": "Blue", "affected_count": -3}, "affected_count"),
    ({"title": "x", "grade": "Blue", "affected_count": 10**12}, "affected_count"),
    ({"title": "x", "grade": "Blue", "affected_customers": [{}]}, "affected_customers.0.name"),
    ({"title": "x", "grade": "Blue", "affected_customers": [{"nick": "a"}]},
     "affected_customers.0.nick"),
    ({"title": "x", "grade": "Blue", "responder_emails": "a@example.com"}, "responder_emails"),
])
def test_create_refuses_bad_fields_with_422(payload, field, agent_api, snapshot):
    before = snapshot()
    error = assert_error(agent_api.post(URL, json=payload), 422, "validation_failed")
    assert any(key == field or key.startswith(field + ".") for key in error["fields"]), error
    assert snapshot() == before


def test_future_detection_time_is_refused(agent_api, snapshot):
    before = snapshot()
    error = assert_error(agent_api.post(URL, json={"title": "x", "grade": "Blue",
                                                   "detected_at": _future()}), 422)
    assert "future" in error["fields"]["detected_at"]
    assert snapshot() == before


def test_owner_cannot_be_a_viewer(agent_api, make_user):
    viewer = make_user("viewer")
    error = assert_error(agent_api.post(URL, json={"title": "x", "grade": "Blue",
                                                   "owner_email": viewer.email}), 422)
    assert "viewer" in error["fields"]["owner_email"]


@pytest.mark.parametrize("raw", [
    '{"title": "lone \\ud800 surrogate", "grade": "Blue"}',
    '{"title": "x", "grade": "Blue", "impact": "\\udfff"}',
    '{"title": "x", "grade": "Blue", "affected_customers": [{"name": "\\ud83d"}]}',
    '{"title": "x", "grade": "Blue", "\\ud800": 1}',
    '{"title": "x\\u0000y", "grade": "Blue"}',
])
def test_unstorable_characters_are_refused(raw, agent_api, snapshot):
    before = snapshot()
    assert_error(post_raw(agent_api, raw), 422, "validation_failed")
    assert snapshot() == before


@pytest.mark.parametrize(("body", "content_type", "status", "code"), [
    ("title=x&grade=Blue", "application/x-www-form-urlencoded", 415, None),
    ('{"title": "x", "grade": "Blue"}', "text/plain", 415, None),
    ("", "application/json", 400, "invalid_json"),
    ('{"title": "x", "grade": ', "application/json", 400, "invalid_json"),
    (b'{"title": "\xff\xfe", "grade": "Blue"}', "application/json", 400, "invalid_json"),
    ('[{"title": "x", "grade": "Blue"}]', "application/json", 422, "validation_failed"),
    ('"just a string"', "application/json", 422, "validation_failed"),
    ("42", "application/json", 422, "validation_failed"),
    ("null", "application/json", 422, "validation_failed"),
])
def test_bodies_that_are_not_a_json_object(body, content_type, status, code, agent_api, snapshot):
    before = snapshot()
    assert_error(agent_api.post(URL, data=body, content_type=content_type), status, code)
    assert snapshot() == before


def test_viewer_cannot_create(api, snapshot):
    viewer = api("viewer")
    before = snapshot()
    assert_error(viewer.post(URL, json={"title": "x", "grade": "Blue"}), 403, "forbidden")
    assert snapshot() == before


# --- fuzzing: never a 500, never a half-write -----------------------------------------------------

special_text = st.builds(lambda a, b, c: a + b + c, st.text(max_size=5),
                         st.sampled_from(["\x00", "\ud800", "\udfff", "🤢", "배탈", "\u202e", "'\"<>"]),
                         st.text(max_size=5))
any_text = st.text(max_size=30) | special_text | st.text(min_size=190, max_size=260)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False) | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=12)
timestamps = st.builds(
    lambda when, offset: when.isoformat() + offset,
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.sampled_from(["", "Z", "+00:00", "+09:00", "-14:00", "+14:00"]))
emails = st.sampled_from(["owner@example.com", "watcher@example.com", "nobody@example.com",
                          "OWNER@example.com", "bad", ""])
customers = st.lists(st.fixed_dictionaries({}, optional={
    "name": any_text, "contact": any_text, "reference": any_text, "impact": any_text,
    "extra": json_values}), max_size=3)
mixed_payloads = st.fixed_dictionaries(
    {"title": any_text | st.just("Fuzzed incident") | json_values,
     "grade": st.sampled_from(["Red", "orange", " Blue ", "GREEN", "Purple", ""]) | json_values},
    optional={
        "description": any_text | json_values, "category": st.sampled_from(
            ["delivery", "배송", "Payment", "none"]) | json_values,
        "channel": st.sampled_from(["chat", "phone", "fax"]) | json_values,
        "detected_at": timestamps | json_values, "owner_email": emails | json_values,
        "responder_emails": st.lists(emails, max_size=3) | json_values,
        "affected_count": st.integers(min_value=-5, max_value=2 * 10**9) | json_values,
        "abusive_customer": st.booleans() | json_values, "one_stop": st.booleans() | json_values,
        "impact": any_text, "cause": any_text, "resolution": any_text,
        "affected_customers": customers | json_values,
        "id": json_values, "status": json_values, "unexpected": json_values,
    })


plausible_payloads = st.fixed_dictionaries(
    {"title": st.text(min_size=1, max_size=200) | special_text,
     "grade": st.sampled_from(["Red", "Orange", "Blue", "Green", "blue"])},
    optional={
        "description": st.text(max_size=300) | special_text,
        "category": st.sampled_from(["delivery", "배송", "Payment", "other"]),
        "channel": st.sampled_from(["chat", "phone", "email", "social"]),
        "detected_at": timestamps, "owner_email": emails,
        "affected_count": st.integers(min_value=0, max_value=10),
        "one_stop": st.booleans(), "impact": st.text(max_size=50),
        "affected_customers": st.lists(st.fixed_dictionaries(
            {"name": st.text(min_size=1, max_size=20) | special_text}), max_size=2),
    })


@pytest.fixture
def fuzz_people(make_user):
    return make_user("lead", email="owner@example.com"), make_user("viewer", email="watcher@example.com")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=json_values | mixed_payloads | plausible_payloads)
def test_random_json_never_breaks_creation(payload, agent_api, fuzz_people):
    before = counts()
    response = agent_api.post(URL, data=json.dumps(payload), content_type="application/json")
    assert response.is_json, response.get_data(as_text=True)[:500]
    event(f"HTTP {response.status_code}")
    if response.status_code == 201:
        body = IncidentDetailOut.model_validate(response.json)
        after = counts()
        assert after[0] == before[0] + 1
        assert after[2] == before[2] + len(body.affected_customers)
        recorded = [e.kind for e in body.timeline if e.kind in ("created", "customer_added")]
        assert recorded == ["created"] + ["customer_added"] * len(body.affected_customers)
        stored = db.session.get(Incident, body.id)
        assert stored.title == body.title and stored.description == body.description
    else:
        assert 400 <= response.status_code < 500, response.json
        error = response.json["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str)
        assert counts() == before


# --- listing --------------------------------------------------------------------------------------

@pytest.fixture
def listed(make_user, make_incident):
    """Five incidents across grades, statuses and owners."""
    agent, lead = make_user("agent"), make_user("lead")
    now = utcnow()
    made = {
        "red": make_incident(agent, grade="Red", title="Outage at checkout",
                             detected_at=now - timedelta(minutes=10)),
        "blue_old": make_incident(agent, grade="Blue", title="배탈 신고 (chicken)",
                                  detected_at=now - timedelta(days=2), owner=lead),
        "blue_new": make_incident(agent, grade="Blue", title="Late courier",
                                  description="고객이 배탈 증상을 호소", detected_at=now - timedelta(hours=1)),
        "green": make_incident(lead, grade="Green", title="Typo on receipt",
                               detected_at=now - timedelta(days=5)),
        "closed": make_incident(agent, grade="Red", title="Closed long ago",
                                detected_at=now - timedelta(days=9)),
    }
    closed = made["closed"]
    closed.grade.postmortem_required = False
    services.change_status(agent, closed, Status.closed)
    closed.grade.postmortem_required = True
    services.change_status(agent, made["blue_new"], Status.mitigated)
    db.session.commit()
    return {name: i.id for name, i in made.items()} | {"agent": agent.email, "lead": lead.email}


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["red", "blue_old", "blue_new", "green"]),
    ("?status=open", ["red", "blue_old", "blue_new", "green"]),
    ("?status=all", ["closed", "red", "blue_old", "blue_new", "green"]),
    ("?status=closed", ["closed"]),
    ("?status=mitigated", ["blue_new"]),
    ("?grade=blue", ["blue_old", "blue_new"]),
    ("?grade=Red&status=all", ["closed", "red"]),
    ("?owner_email=LEAD", ["blue_old", "green"]),
    ("?q=배탈", ["blue_old", "blue_new"]),
    ("?q=CHICKEN", ["blue_old"]),
    ("?q=courier&grade=Blue", ["blue_new"]),
    ("?q=nothing+like+this", []),
    ("?q=%25", []),
])
def test_list_filters_and_urgency_order(query, expected, listed, api):
    query = query.replace("LEAD", listed["lead"])
    response = api("viewer").get(URL + query)
    assert response.status_code == 200, response.json
    body = IncidentListOut.model_validate(response.json)
    assert [i.id for i in body.items] == [listed[name] for name in expected]
    assert body.total == len(expected)


def test_list_pagination_shape(listed, api):
    reader = api("viewer")
    first = reader.get(URL + "?per_page=3").json
    assert set(first) == {"items", "total", "page", "per_page"}
    assert (first["total"], first["page"], first["per_page"], len(first["items"])) == (4, 1, 3, 3)
    second = reader.get(URL + "?per_page=3&page=2").json
    assert [i["id"] for i in second["items"]] == [listed["green"]]
    assert reader.get(URL + "?per_page=3&page=9").json["items"] == []


@pytest.mark.parametrize("query", ["?status=gone", "?per_page=0", "?per_page=101", "?page=0",
                                   "?page=x", "?grade=Purple", "?owner_email=nobody@example.com",
                                   "?category=nope", "?colour=red", "?q=" + "x" * 201])
def test_list_refuses_bad_filters(query, listed, api):
    assert_error(api("viewer").get(URL + query), 422)


# --- one incident ---------------------------------------------------------------------------------

def test_detail_has_timeline_customers_and_owner(agent_api, make_incident, make_user):
    lead = make_user("lead", name="한지민", title="CX 팀장")
    incident = make_incident(agent_api.user, owner=lead,
                             customers=[services.CustomerData(name="오세훈", reference="ORD-7")])
    services.add_event(agent_api.user, incident, EventKind.note, "Phoned")
    db.session.commit()
    response = agent_api.get(f"{URL}/{incident.id}")
    assert response.status_code == 200
    body = IncidentDetailOut.model_validate(response.json)
    assert response.json["owner"] == {"email": lead.email, "name": "한지민", "title": "CX 팀장"}
    assert [(c.id, c.name, c.reference) for c in body.affected_customers] == [
        (incident.customers[0].id, "오세훈", "ORD-7")]
    assert core_kinds(body.timeline) == ["created", "customer_added", "note"]
    assert body.timeline[-1].body == "Phoned"
    assert body.timeline[-1].actor.email == agent_api.user.email


@pytest.mark.parametrize(("method", "suffix", "payload"), [
    ("get", "", None), ("patch", "", {"title": "x"}),
    ("post", "/status", {"status": "shared"}), ("post", "/events", {"kind": "note", "body": "x"}),
    ("post", "/customers", {"name": "x"}),
])
def test_unknown_incident_is_404_json(method, suffix, payload, agent_api):
    kwargs = {"json": payload} if payload is not None else {}
    error = assert_error(getattr(agent_api, method)(f"{URL}/999999{suffix}", **kwargs), 404, "not_found")
    assert "999999" in error["message"]


# --- editing --------------------------------------------------------------------------------------

def test_patch_changes_fields_and_records_events(agent_api, make_incident, make_user):
    lead = make_user("lead")
    incident = make_incident(agent_api.user, grade="Blue", category=None)
    response = agent_api.patch(f"{URL}/{incident.id}", json={
        "grade": "Red", "owner_email": lead.email, "impact": "영향 큼", "category": "payment",
        "version": incident.version})
    assert response.status_code == 200, response.json
    body = IncidentDetailOut.model_validate(response.json)
    assert (body.grade, body.owner.email, body.impact, body.category) == (
        "Red", lead.email, "영향 큼", "payment")
    kinds = {e.kind: e for e in body.timeline}
    assert kinds["grade_changed"].data.items() >= {"from": "Blue", "to": "Red"}.items()
    assert kinds["owner_changed"].data.items() >= {"from": agent_api.user.email,
                                                   "to": lead.email}.items()
    assert sorted(kinds["edited"].data["fields"]) == ["category", "impact"]
    assert db.session.get(Incident, incident.id).grade_rank == 1


def test_patch_can_clear_nullable_fields(agent_api, make_incident):
    incident = make_incident(agent_api.user, affected_count=4,
                             category=services.find_category("delivery"))
    body = agent_api.patch(f"{URL}/{incident.id}", json={"category": None,
                                                         "affected_count": None}).json
    assert body["category"] is None and body["affected_count"] is None


def test_patch_with_a_stale_version_is_refused(agent_api, make_incident, snapshot):
    incident = make_incident(agent_api.user, title="Original")
    old = incident.version
    assert agent_api.patch(f"{URL}/{incident.id}", json={"impact": "a", "version": old}).status_code == 200
    before = snapshot()
    error = assert_error(agent_api.patch(f"{URL}/{incident.id}", json={"title": "Mine",
                                                                       "version": old}),
                         409, "stale_edit")
    assert "reload" in error["message"]
    assert snapshot() == before


@pytest.mark.parametrize(("payload", "field"), [
    ({"title": None}, "title"), ({"title": ""}, "title"), ({"status": "closed"}, "status"),
    ({"grade": "Purple"}, "grade"), ({"owner_email": "nobody@example.com"}, "owner_email"),
    ({"detected_at": "2026-01-01T00:00:00"}, "detected_at"), ({"version": "x"}, "version"),
])
def test_patch_validation(payload, field, agent_api, make_incident, snapshot):
    incident = make_incident(agent_api.user)
    before = snapshot()
    error = assert_error(agent_api.patch(f"{URL}/{incident.id}", json=payload), 422)
    assert field in error["fields"]
    assert snapshot() == before


def test_patch_without_changes_records_nothing(agent_api, make_incident):
    incident = make_incident(agent_api.user, title="Same")
    version = incident.version
    body = agent_api.patch(f"{URL}/{incident.id}", json={"title": "Same", "grade": "Blue"}).json
    assert body["version"] == version
    assert core_kinds(body["timeline"]) == ["created"]


# --- status ---------------------------------------------------------------------------------------

def status_url(incident) -> str:
    return f"{URL}/{incident.id}/status"


def test_status_moves_forward_and_reopens(api, make_incident):
    agent, lead = api("agent"), api("lead")
    incident = make_incident(agent.user)
    response = agent.post(status_url(incident), json={"status": "resolved", "note": "fixed",
                                                      "expected_status": "detected"})
    assert response.status_code == 200, response.json
    body = IncidentOut.model_validate(response.json)
    assert body.status == Status.resolved
    assert body.shared_at == body.mitigated_at == body.resolved_at is not None
    assert lead.post(status_url(incident), json={"status": "closed"}).json["status"] == "closed"
    assert_error(agent.post(status_url(incident), json={"status": "shared"}), 403, "forbidden")
    reopened = lead.post(status_url(incident), json={"status": "shared"}).json
    assert reopened["status"] == "shared" and reopened["closed_at"] is None
    timeline = lead.get(f"{URL}/{incident.id}").json["timeline"]
    moves = [(e["data"]["from"], e["data"]["to"], e["actor"]["email"]) for e in timeline
             if e["kind"] == "status_changed"]
    assert moves == [("detected", "resolved", agent.user.email), ("resolved", "closed", lead.user.email),
                     ("closed", "shared", lead.user.email)]


@pytest.mark.parametrize(("start", "target"), [
    ("detected", "detected"), ("mitigated", "shared"), ("mitigated", "detected"),
    ("resolved", "mitigated"), ("closed", "resolved"), ("closed", "detected"),
])
def test_refused_transitions_are_409(start, target, api, make_incident, snapshot):
    admin = api("admin")
    incident = make_incident(admin.user)
    if start != "detected":
        services.change_status(admin.user, incident, Status(start))
        db.session.commit()
    before = snapshot()
    assert_error(admin.post(status_url(incident), json={"status": target}), 409, "transition_refused")
    assert snapshot() == before


def test_expected_status_mismatch_is_409_without_change(agent_api, make_incident, snapshot):
    incident = make_incident(agent_api.user)
    services.change_status(agent_api.user, incident, Status.shared)
    db.session.commit()
    before = snapshot()
    error = assert_error(agent_api.post(status_url(incident), json={
        "status": "mitigated", "expected_status": "detected"}), 409, "transition_refused")
    assert "shared" in error["message"]
    assert snapshot() == before


def test_closing_red_is_refused_naming_the_postmortem(api, make_incident, snapshot):
    admin = api("admin")
    incident = make_incident(admin.user, grade="Red")
    before = snapshot()
    error = assert_error(admin.post(status_url(incident), json={"status": "closed"}), 409,
                         "transition_refused")
    assert "postmortem" in error["message"].lower()
    assert snapshot() == before


@pytest.mark.parametrize("payload", [{"status": "done"}, {}, {"status": "shared", "expected": "x"},
                                     {"status": "shared", "note": "\x00"}])
def test_status_validation(payload, agent_api, make_incident):
    incident = make_incident(agent_api.user)
    assert_error(agent_api.post(status_url(incident), json=payload), 422, "validation_failed")
    assert db.session.get(Incident, incident.id).status == Status.detected


# --- events and customers ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["note", "action"])
def test_add_event(kind, agent_api, make_incident):
    incident = make_incident(agent_api.user)
    response = agent_api.post(f"{URL}/{incident.id}/events", json={"kind": kind, "body": "전화함 ☎"})
    assert response.status_code == 201
    event = EventOut.model_validate(response.json)
    assert (event.kind, event.body, event.actor.email) == (kind, "전화함 ☎", agent_api.user.email)
    assert db.session.get(TimelineEvent, event.id).body == "전화함 ☎"


@pytest.mark.parametrize("payload", [{"kind": "status_changed", "body": "x"}, {"kind": "note"},
                                     {"kind": "note", "body": ""}, {"kind": "note", "body": "x",
                                                                    "actor_id": 1}])
def test_add_event_validation(payload, agent_api, make_incident, snapshot):
    incident = make_incident(agent_api.user)
    before = snapshot()
    assert_error(agent_api.post(f"{URL}/{incident.id}/events", json=payload), 422)
    assert snapshot() == before


def test_add_customer(agent_api, make_incident):
    incident = make_incident(agent_api.user)
    response = agent_api.post(f"{URL}/{incident.id}/customers", json={"name": "정하늘 🌤",
                                                                      "contact": "sky@example.kr"})
    assert response.status_code == 201
    customer = CustomerOut.model_validate(response.json)
    assert customer.name == "정하늘 🌤"
    detail = agent_api.get(f"{URL}/{incident.id}").json
    assert detail["affected_customers"][0]["id"] == customer.id
    assert detail["timeline"][-1]["kind"] == "customer_added"
    assert detail["timeline"][-1]["data"]["customer_id"] == customer.id


def test_add_empty_customer_is_refused(agent_api, make_incident, snapshot):
    incident = make_incident(agent_api.user)
    before = snapshot()
    assert_error(agent_api.post(f"{URL}/{incident.id}/customers", json={"name": " "}), 422)
    assert snapshot() == before


# --- Korean and other scripts round-trip byte for byte --------------------------------------------

def test_korean_text_round_trips_through_the_api(agent_api):
    payload = {"title": KOREAN_TITLE, "grade": "Orange", "description": KOREAN_TEXT,
               "impact": "환불 요청 😡", "affected_customers": [{"name": "김철수 👨‍🍳",
                                                                 "impact": KOREAN_TEXT}]}
    created = agent_api.post(URL, json=payload)
    assert created.status_code == 201
    fetched = agent_api.get(f"{URL}/{created.json['id']}").json
    for body in (created.json, fetched):
        assert body["title"].encode() == KOREAN_TITLE.encode()
        assert body["description"].encode() == KOREAN_TEXT.encode()
        assert body["affected_customers"][0]["name"] == "김철수 👨‍🍳"
        assert body["affected_customers"][0]["impact"] == KOREAN_TEXT
    db.session.expire_all()
    stored = db.session.get(Incident, created.json["id"])
    assert (stored.title, stored.description, stored.impact) == (KOREAN_TITLE, KOREAN_TEXT, "환불 요청 😡")
    assert stored.customers[0].name == "김철수 👨‍🍳"
    found = agent_api.get(URL + "?q=배탈").json
    assert [i["id"] for i in found["items"]] == [created.json["id"]]
    assert agent_api.get(URL + "?q=주문번호").json["total"] == 1  # in the description
    assert agent_api.get(URL + "?q=배달").json["total"] == 0


def test_times_are_returned_in_utc_with_an_offset(agent_api):
    detected = "2026-03-01T18:00:00+09:00"
    body = agent_api.post(URL, json={"title": "x", "grade": "Blue", "detected_at": detected}).json
    assert body["detected_at"] == "2026-03-01T09:00:00+00:00"
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None
    assert datetime.fromisoformat(body["detected_at"]) == datetime(2026, 3, 1, 9, tzinfo=UTC)
