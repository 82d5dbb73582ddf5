"""Incident pages: the list, the incident page, opening and editing, actions, language and time."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Category, User
from app.timeutil import as_utc, utcnow
from incidents import services
from incidents.models import AffectedCustomer, EventKind, Incident, Status, TimelineEvent
from tests.conftest import grade, sign_in

KOREAN_TITLE = "배탈 났어요 🤢 치킨 주문 후 — Café ñ"
KOREAN_TEXT = "고객님께서 치킨을 드신 뒤 배탈이 나셨습니다 😷 中文 العربية 𝔘𝔫𝔦"


def listed_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'<td[^>]*><a href="/incidents/(\d+)">', response.get_data(as_text=True))]


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def event_count(incident_id: int) -> int:
    return db.session.scalar(select(func.count(TimelineEvent.id))
                             .where(TimelineEvent.incident_id == incident_id))


def category(slug: str) -> Category:
    return db.session.scalar(select(Category).where(Category.slug == slug))


# --- the list ------------------------------------------------------------------------------------

@pytest.fixture
def listed(make_user, make_incident):
    agent, lead = make_user("agent"), make_user("lead")
    now = utcnow()
    made = {
        "blue_old": make_incident(agent, grade="Blue", title="Blue old", owner=lead,
                                  detected_at=now - timedelta(hours=3), category=category("delivery")),
        "red_new": make_incident(agent, grade="Red", title="Red new",
                                 detected_at=now - timedelta(minutes=2)),
        "green": make_incident(lead, grade="Green", title="Green 배탈 case",
                               detected_at=now - timedelta(hours=5)),
        "red_old": make_incident(agent, grade="Red", title="Red old",
                                 detected_at=now - timedelta(minutes=10), category=category("payment")),
        "blue_new": make_incident(agent, grade="Blue", title="Blue new", description="About 치킨",
                                  detected_at=now - timedelta(hours=1)),
        "closed": make_incident(agent, grade="Green", title="Closed one",
                                detected_at=now - timedelta(days=3)),
    }
    services.change_status(agent, made["closed"], Status.closed)
    services.change_status(agent, made["blue_new"], Status.shared)
    db.session.commit()
    return {name: i.id for name, i in made.items()} | {"agent": agent, "lead": lead}


def test_list_is_in_urgency_order_and_hides_closed(client, login, listed):
    login("viewer")
    response = client.get("/incidents/")
    assert response.status_code == 200
    assert listed_ids(response) == [listed[n] for n in ("red_old", "red_new", "blue_old",
                                                       "blue_new", "green")]
    assert "Closed one" not in page_text(response)


@pytest.mark.parametrize(("query", "expected"), [
    ("status=all", ["red_old", "red_new", "blue_old", "blue_new", "closed", "green"]),
    ("status=closed", ["closed"]),
    ("status=shared", ["blue_new"]),
    ("status=bogus", ["red_old", "red_new", "blue_old", "blue_new", "green"]),
    ("grade=Red", ["red_old", "red_new"]),
    ("grade=Green&status=all", ["closed", "green"]),
    ("category=delivery", ["blue_old"]),
    ("category=payment&grade=Red", ["red_old"]),
    ("owner=LEAD", ["blue_old", "green"]),
    ("q=배탈", ["green"]),
    ("q=치킨", ["blue_new"]),
    ("q=red+OLD", ["red_old"]),
    ("q=nothing", []),
])
def test_list_filters(query, expected, client, login, listed):
    login("viewer")
    response = client.get("/incidents/?" + query.replace("LEAD", listed["lead"].email))
    assert response.status_code == 200
    assert listed_ids(response) == [listed[n] for n in expected]


def test_owner_me_shows_my_incidents(client, login, make_incident):
    me = login("agent")
    mine = make_incident(me, title="Mine")
    make_incident(title="Someone else's")
    assert listed_ids(client.get("/incidents/?owner=me")) == [mine.id]
    assert len(listed_ids(client.get("/incidents/"))) == 2


def test_list_paginates(app, client, login, make_user, make_incident):
    login("viewer")
    agent = make_user("agent")
    start = utcnow() - timedelta(days=1)
    ids = [make_incident(agent, title=f"n{n}", detected_at=start + timedelta(minutes=n)).id
           for n in range(app.config["INCIDENTS_PER_PAGE"] + 5)]
    first = client.get("/incidents/")
    assert listed_ids(first) == ids[:25]
    assert "page 1 of 2" in page_text(first) and 'rel="next"' in page_text(first)
    second = client.get("/incidents/?page=2")
    assert listed_ids(second) == ids[25:]
    assert 'rel="prev"' in page_text(second)
    assert listed_ids(client.get("/incidents/?page=7")) == []


def test_overdue_incidents_are_flagged(client, login, make_user, make_incident):
    login("viewer")
    agent = make_user("agent")
    late = make_incident(agent, grade="Red", title="Late one",
                         detected_at=utcnow() - timedelta(minutes=40))  # share within 15 min
    fresh = make_incident(agent, grade="Red", title="Fresh one", detected_at=utcnow())
    body = client.get("/incidents/").get_data(as_text=True)
    rows = {int(m.group(2)): m.group(1) for m in re.finditer(
        r'<tr class="([^"]*)">\s*<td>.*?</td>\s*<td>(\d+)</td>', body, re.S)}
    assert "overdue" in rows[late.id].split()
    assert "overdue" not in rows[fresh.id].split()
    assert "Overdue: not shared in time" in body
    late_page = page_text(client.get(f"/incidents/{late.id}"))
    assert "overdue-note" in late_page and "not shared in time" in late_page
    assert "overdue-note" not in page_text(client.get(f"/incidents/{fresh.id}"))


# --- the incident page ------------------------------------------------------------------------------

def test_incident_page_shows_facts_customers_and_timeline(client, login, make_user, make_incident):
    login("viewer")
    agent = make_user("agent", name="이상담", title="상담원")
    incident = make_incident(
        agent, title="Wrong size shipped", grade="Orange", category=category("delivery"),
        description="Customer got **XL**\n\n<script>alert(1)</script>", affected_count=3,
        customers=[services.CustomerData(name="최민호", contact="010-9999-8888", reference="ORD-77")])
    services.add_event(agent, incident, EventKind.action, "Sent the right size")
    db.session.commit()
    response = client.get(f"/incidents/{incident.id}")
    assert response.status_code == 200
    body = page_text(response)
    assert "Wrong size shipped" in body and "Orange" in body
    assert "이상담 · 상담원" in body  # the accountable owner, by name and title
    assert "Delivery" in body
    assert "<strong>XL</strong>" in response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    assert "최민호" in body and "010-9999-8888" in body and "ORD-77" in body
    assert "Sent the right size" in body and "opened the incident" in body
    assert "added an affected customer" in body


@pytest.mark.parametrize(("role", "status", "buttons"), [
    ("viewer", Status.detected, []),
    ("agent", Status.detected, ["shared", "mitigated", "resolved", "closed"]),
    ("agent", Status.mitigated, ["resolved", "closed"]),
    ("agent", Status.resolved, ["shared", "closed"]),
    ("agent", Status.closed, []),
    ("lead", Status.closed, ["shared"]),
    ("admin", Status.closed, ["shared"]),
])
def test_status_buttons_follow_the_role(role, status, buttons, client, login, make_user, make_incident):
    login(role)
    admin = make_user("admin")
    incident = make_incident(admin)
    if status != Status.detected:
        services.change_status(admin, incident, status)
        db.session.commit()
    body = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert re.findall(r'<button type="submit" name="status" value="(\w+)"', body) == buttons
    if role == "viewer":
        assert "You have read-only access." in body
        assert f'action="/incidents/{incident.id}/events"' not in body


# --- opening an incident ----------------------------------------------------------------------------

def test_new_incident_form_defaults_owner_to_me(client, login, make_user):
    make_user("agent", name="Aaron First")
    me = login("agent", name="Zed Me")
    body = client.get("/incidents/new").get_data(as_text=True)
    owner_select = re.search(r'<select[^>]*id="owner"[^>]*>(.*?)</select>', body, re.S).group(1)
    assert re.findall(r'<option selected value="(\d+)"', owner_select) == [str(me.id)]
    assert f'value="{grade("Blue").id}" required checked' in body


def test_open_an_incident_in_korean_round_trips(client, login):
    me = login("agent")
    response = client.post("/incidents/new", data={
        "title": KOREAN_TITLE, "grade": grade("Orange").id, "owner": me.id,
        "category": category("delivery").id, "channel": "chat", "description": KOREAN_TEXT,
        "impact": "환불 😡", "customer_name": "김철수 👨‍🍳", "customer_impact": KOREAN_TEXT,
        "detected_at": ""})
    assert response.status_code == 302
    incident = db.session.scalars(select(Incident)).one()
    assert response.location == f"/incidents/{incident.id}"
    assert incident.title.encode() == KOREAN_TITLE.encode()
    assert incident.description.encode() == KOREAN_TEXT.encode()
    assert incident.customers[0].name == "김철수 👨‍🍳"
    assert (incident.owner, incident.reporter, incident.grade.name) == (me, me, "Orange")
    page = client.get(response.location).data
    for text in (KOREAN_TITLE, KOREAN_TEXT, "김철수 👨‍🍳", "환불 😡"):
        assert text.encode() in page, text
    assert listed_ids(client.get("/incidents/?q=배탈")) == [incident.id]
    assert listed_ids(client.get("/incidents/?q=드신")) == [incident.id]


def test_detection_time_is_read_in_my_time_zone(client, login):
    me = login("agent", timezone="Asia/Seoul")
    client.post("/incidents/new", data={"title": "x", "grade": grade("Blue").id, "owner": me.id,
                                        "category": 0, "channel": "", "detected_at": "2026-01-05T12:00"})
    incident = db.session.scalars(select(Incident)).one()
    assert as_utc(incident.detected_at) == datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(("change", "field_text"), [
    ({"title": ""}, "This field is required"),
    ({"title": "t" * 201}, "200"),
    ({"grade": ""}, None),
    ({"detected_at": "not a time"}, None),
    ({"affected_count": "-4"}, None),
    ({"description": "bad \x00 byte"}, "cannot be stored"),
])
def test_invalid_form_re_renders_with_422_and_keeps_my_text(change, field_text, client, login):
    me = login("agent")
    typed = "제가 입력한 설명은 사라지면 안 됩니다 🙏"
    form = {"title": "Keep me 유지", "grade": grade("Blue").id, "owner": me.id, "category": 0,
            "channel": "", "description": typed, "customer_name": "홍길동", **change}
    response = client.post("/incidents/new", data=form)
    assert response.status_code == 422
    body = page_text(response)
    if "description" not in change:
        assert typed in body
    assert "홍길동" in body
    if "title" not in change:
        assert 'value="Keep me 유지"' in body
    if field_text:
        assert field_text in body
    assert db.session.scalar(select(func.count(Incident.id))) == 0


def test_future_detection_time_is_a_field_error(client, login):
    me = login("agent")
    future = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post("/incidents/new", data={"title": "x", "grade": grade("Blue").id,
                                                   "owner": me.id, "category": 0, "channel": "",
                                                   "detected_at": future})
    assert response.status_code == 422
    assert "cannot be in the future" in page_text(response)
    assert db.session.scalar(select(func.count(Incident.id))) == 0


# --- editing ----------------------------------------------------------------------------------------

def edit_form(incident: Incident, **change) -> dict:
    return {"title": incident.title, "grade": incident.grade_id, "owner": incident.owner_id,
            "category": incident.category_id or 0, "channel": "", "description": incident.description,
            "detected_at": "", "version": str(incident.version), **change}


def test_edit_saves_and_records(client, login, make_incident):
    me = login("agent")
    incident = make_incident(me, title="Before")
    response = client.post(f"/incidents/{incident.id}/edit",
                           data=edit_form(incident, title="After 수정", cause="Printer"))
    assert response.status_code == 302
    db.session.refresh(incident)
    assert (incident.title, incident.cause) == ("After 수정", "Printer")
    last = db.session.scalars(select(TimelineEvent).order_by(TimelineEvent.id.desc())).first()
    assert last.kind == EventKind.edited and set(last.data["fields"]) == {"title", "cause"}


def test_edit_sets_and_clears_responders(client, login, make_user, make_incident):
    me = login("agent")
    first, second = make_user("agent", name="Second responder"), make_user("lead", name="Lead")
    viewer = make_user("viewer")
    incident = make_incident(me)
    response = client.post(f"/incidents/{incident.id}/edit",
                           data=edit_form(incident, responders=[second.id, first.id]))
    assert response.status_code == 302
    db.session.refresh(incident)
    assert {u.id for u in incident.responders} == {first.id, second.id}
    # A viewer is no choice: refused with a message, nothing changed.
    refused = client.post(f"/incidents/{incident.id}/edit",
                          data=edit_form(incident, responders=[first.id, viewer.id]))
    assert refused.status_code == 422
    assert f"'{viewer.id}' is not a valid choice" in page_text(refused)
    db.session.refresh(incident)
    assert {u.id for u in incident.responders} == {first.id, second.id}
    assert client.post(f"/incidents/{incident.id}/edit",
                       data=edit_form(incident)).status_code == 302
    db.session.refresh(incident)
    assert incident.responders == []


def test_a_responder_who_is_no_choice_is_named_once_in_korean(client, login, make_user,
                                                              make_incident):
    # WTForms' own Korean catalogue put both plural forms into this one message.
    me = login("agent", locale="ko")
    viewer = make_user("viewer")
    incident = make_incident(me)
    response = client.post(f"/incidents/{incident.id}/edit",
                           data=edit_form(incident, responders=[viewer.id]))
    assert response.status_code == 422
    errors = re.findall(r'<p class="error" role="alert">([^<]*)</p>', page_text(response))
    assert errors == [f"'{viewer.id}'은(는) 이 항목에서 고를 수 있는 값이 아닙니다."]


@pytest.mark.parametrize("send_field", [True, False])
def test_edit_keeps_the_detection_time_unless_given(send_field, client, login, make_incident):
    me = login("agent", timezone="Asia/Seoul")
    detected = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    incident = make_incident(me, detected_at=detected)
    form = edit_form(incident, title="Edited")
    if not send_field:
        del form["detected_at"]  # a script posting only some fields: empty means keep
    assert client.post(f"/incidents/{incident.id}/edit", data=form).status_code == 302
    db.session.refresh(incident)
    assert incident.title == "Edited"
    assert as_utc(incident.detected_at) == detected
    given = client.post(f"/incidents/{incident.id}/edit",
                        data=edit_form(incident, detected_at="2026-01-05T09:30"))
    assert given.status_code == 302
    db.session.refresh(incident)
    assert as_utc(incident.detected_at) == datetime(2026, 1, 5, 0, 30, tzinfo=UTC)


def test_edit_with_a_stale_version_is_409_and_saves_nothing(client, login, make_user, make_incident):
    me = login("agent")
    incident = make_incident(me, title="Original")
    form = edit_form(incident, title="My edit", impact="mine")
    services.update_incident(make_user("lead"), incident, {"impact": "theirs"})
    db.session.commit()
    events = event_count(incident.id)
    response = client.post(f"/incidents/{incident.id}/edit", data=form)
    assert response.status_code == 409
    assert "Someone changed this incident" in page_text(response)
    assert 'value="My edit"' in page_text(response)  # what I typed is still in the form
    db.session.refresh(incident)
    assert (incident.title, incident.impact) == ("Original", "theirs")
    assert event_count(incident.id) == events


@pytest.mark.parametrize("version", ["", "abc", "1.5"])
def test_edit_with_a_tampered_version_is_refused_cleanly(version, client, login, make_incident):
    me = login("agent")
    incident = make_incident(me, title="Original")
    response = client.post(f"/incidents/{incident.id}/edit", data=edit_form(incident, title="x",
                                                                            version=version))
    assert response.status_code in (400, 409, 422)
    db.session.refresh(incident)
    assert incident.title == "Original"


def test_edit_page_prefills_the_incident(client, login, make_incident):
    me = login("agent")
    incident = make_incident(me, title="미리 채움", impact="영향")
    body = page_text(client.get(f"/incidents/{incident.id}/edit"))
    assert 'value="미리 채움"' in body and "영향" in body
    assert f'name="version" type="hidden" value="{incident.version}"' in body


# --- status from the page ---------------------------------------------------------------------------

def test_status_change_from_the_page(client, login, make_incident):
    me = login("agent")
    incident = make_incident(me)
    response = client.post(f"/incidents/{incident.id}/status",
                           data={"status": "mitigated", "expected": "detected", "note": "rolled back"})
    assert response.status_code == 302
    assert "Status is now Mitigated." in page_text(client.get(response.location))
    db.session.refresh(incident)
    assert incident.status == Status.mitigated and incident.shared_at is not None


@pytest.mark.parametrize(("start", "data", "status", "message"), [
    (Status.mitigated, {"status": "detected", "expected": "mitigated"}, 409, "cannot go from"),
    (Status.shared, {"status": "shared", "expected": "shared"}, 409, "already shared"),
    (Status.shared, {"status": "mitigated", "expected": "detected"}, 409, "already shared"),
    (Status.closed, {"status": "shared", "expected": "closed"}, 403, "lead"),
])
def test_refused_status_changes_show_why(start, data, status, message, client, login, make_user,
                                         make_incident, snapshot):
    login("agent")
    admin = make_user("admin")
    incident = make_incident(admin)
    services.change_status(admin, incident, start)
    db.session.commit()
    before = snapshot()
    response = client.post(f"/incidents/{incident.id}/status", data=data)
    assert response.status_code == status
    body = page_text(response)
    assert message in body
    if status == 409:
        assert 'class="flash flash-error"' in body
        assert f"#{incident.id}" in body  # the incident page itself, re-rendered
    assert snapshot() == before


def test_closing_red_from_the_page_names_the_postmortem(client, login, make_incident, snapshot):
    me = login("lead")
    incident = make_incident(me, grade="Red")
    before = snapshot()
    response = client.post(f"/incidents/{incident.id}/status",
                           data={"status": "closed", "expected": "detected"})
    assert response.status_code == 409
    assert "A published postmortem is required for Red incidents." in page_text(response)
    assert snapshot() == before


def test_viewer_cannot_change_status_from_the_page(client, login, make_incident, snapshot):
    login("viewer")
    incident = make_incident()
    before = snapshot()
    response = client.post(f"/incidents/{incident.id}/status",
                           data={"status": "shared", "expected": "detected"})
    assert response.status_code == 403
    assert snapshot() == before


# --- notes, actions and customers ------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["note", "action"])
def test_add_note_or_action(kind, client, login, make_incident):
    me = login("agent")
    incident = make_incident(me)
    response = client.post(f"/incidents/{incident.id}/events", data={"kind": kind, "body": "고객 통화 ☎"})
    assert response.status_code == 302
    event = db.session.scalars(select(TimelineEvent).order_by(TimelineEvent.id.desc())).first()
    assert (event.kind.value, event.body, event.actor_id) == (kind, "고객 통화 ☎", me.id)
    assert "고객 통화 ☎" in page_text(client.get(f"/incidents/{incident.id}"))


@pytest.mark.parametrize("data", [{"kind": "note", "body": ""}, {"kind": "status_changed", "body": "x"},
                                  {"kind": "note", "body": "a\x00b"}])
def test_bad_note_is_422(data, client, login, make_incident, snapshot):
    me = login("agent")
    incident = make_incident(me)
    before = snapshot()
    assert client.post(f"/incidents/{incident.id}/events", data=data).status_code == 422
    assert snapshot() == before


def test_add_customer(client, login, make_incident):
    me = login("agent")
    incident = make_incident(me)
    response = client.post(f"/incidents/{incident.id}/customers", data={
        "customer_name": "윤서준", "customer_contact": "seo@example.kr", "customer_reference": "A-1"})
    assert response.status_code == 302
    customer = db.session.scalars(select(AffectedCustomer)).one()
    assert (customer.incident_id, customer.name, customer.reference) == (incident.id, "윤서준", "A-1")
    assert "윤서준" in page_text(client.get(f"/incidents/{incident.id}"))


def test_empty_customer_is_422(client, login, make_incident, snapshot):
    me = login("agent")
    incident = make_incident(me)
    before = snapshot()
    response = client.post(f"/incidents/{incident.id}/customers", data={"customer_name": "  "})
    assert response.status_code == 422
    assert "Give at least a name, contact or reference." in page_text(response)
    assert snapshot() == before


def test_unknown_incident_is_404(client, login):
    login("agent")
    assert client.get("/incidents/424242").status_code == 404
    assert client.post("/incidents/424242/events", data={"kind": "note", "body": "x"}).status_code == 404


# --- language and time zone -------------------------------------------------------------------------

def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def test_accept_language_picks_korean(client, login):
    login("agent")
    assert html_lang(client.get("/incidents/")) == "en"
    korean = client.get("/incidents/", headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"})
    assert html_lang(korean) == "ko"
    signed_out = client.application.test_client()
    assert html_lang(signed_out.get("/login", headers={"Accept-Language": "ko"})) == "ko"


def test_language_choice_is_remembered_on_the_user(app, client, login):
    me = login("agent")
    response = client.post("/language", data={"locale": "ko", "next": "/incidents/?status=all"})
    assert response.location == "/incidents/?status=all"
    db.session.refresh(me)
    assert me.locale == "ko"
    assert html_lang(client.get("/incidents/", headers={"Accept-Language": "en"})) == "ko"
    # A new browser session for the same person: the choice comes from their account.
    fresh = app.test_client()
    sign_in(fresh, me)
    assert html_lang(fresh.get("/incidents/", headers={"Accept-Language": "en"})) == "ko"


def test_unknown_language_is_400(client, login):
    me = login("agent")
    assert client.post("/language", data={"locale": "xx"}).status_code == 400
    db.session.refresh(me)
    assert me.locale is None


@pytest.mark.parametrize(("zone", "shown"), [("Asia/Seoul", "12:00:00"), ("UTC", "3:00:00"),
                                             ("America/New_York", "10:00:00")])
def test_times_show_in_my_time_zone(zone, shown, client, login, make_incident):
    me = login("agent")
    me.timezone = zone
    db.session.commit()
    detected = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    incident = make_incident(me, detected_at=detected)
    body = page_text(client.get(f"/incidents/{incident.id}"))
    day = "Jan 4, 2026" if zone == "America/New_York" else "Jan 5, 2026"
    assert re.search(rf"{day}, {shown}\W", body), body[body.find("Detected"):][:300]
    edit = page_text(client.get(f"/incidents/{incident.id}/edit"))
    assert f"{day}, {shown}" in edit


def test_users_default_zone_is_seoul(make_user):
    assert db.session.get(User, make_user("agent").id).timezone == "Asia/Seoul"
