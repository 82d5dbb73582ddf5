"""The duty rota over the API and on the /oncall page: shifts, overrides, who is on duty."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Role
from app.timeutil import utcnow
from incidents.escalation import services
from incidents.escalation.models import Override, Shift

SHIFTS = "/api/v1/oncall/shifts"
OVERRIDES = "/api/v1/oncall/overrides"
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def shift_count() -> int:
    return db.session.scalar(select(func.count(Shift.id)))


@pytest.fixture
def lead_api(api):
    return api("lead")


def test_lead_adds_a_shift_and_it_is_stored(lead_api, make_user):
    person = make_user("lead", name="Ha-eun Lead")
    response = lead_api.post(SHIFTS, json={"user_email": person.email, "days": ["sun"],
                                           "start": "22:00", "end": "06:00", "timezone": "Asia/Seoul"})
    assert response.status_code == 201, response.json
    assert response.json == {"id": response.json["id"], "user_email": person.email, "role": "lead",
                             "days": ["sun"], "start": "22:00", "end": "06:00",
                             "timezone": "Asia/Seoul"}
    seoul = ZoneInfo("Asia/Seoul")
    from datetime import datetime
    assert services.on_duty(Role.lead, datetime(2026, 3, 2, 5, 59, tzinfo=seoul)).id == person.id
    assert services.on_duty(Role.lead, datetime(2026, 3, 2, 6, 0, tzinfo=seoul)) is None


def test_a_manager_gets_a_manager_shift_by_default(lead_api, make_user):
    manager = make_user("manager")
    response = lead_api.post(SHIFTS, json={"user_email": manager.email, "days": ALL_DAYS,
                                           "start": "00:00", "end": "24:00"})
    assert response.status_code == 201
    assert (response.json["role"], response.json["timezone"]) == ("manager", "Asia/Seoul")


def _post_lead_shift(lead_api, make_user, change: dict):
    """POST a weekday 09:00-18:00 Seoul lead shift, with `change` applied to the body."""
    person = make_user("lead")
    body = {"user_email": person.email, "days": ["mon"], "start": "09:00", "end": "18:00",
            "timezone": "Asia/Seoul", **change}
    return lead_api.post(SHIFTS, json=body)


@pytest.mark.parametrize(("change", "field"), [
    ({"start": "25:00"}, "start"),
    ({"start": "9:00"}, "start"),
    ({"end": "18:60"}, "end"),
    ({"days": ["monday"]}, "days.0"),
    ({"days": []}, "days"),
    ({"timezone": ""}, "timezone"),
    # The document states these two (a pattern, a check on the body), so the field is named.
    ({"start": "24:00", "end": "06:00"}, "start"),
    ({"start": "09:00", "end": "09:00"}, "end"),
])
def test_shape_errors_are_422_with_the_field_named(lead_api, make_user, change, field):
    response = _post_lead_shift(lead_api, make_user, change)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_failed"
    assert field in response.json["error"]["fields"]
    assert shift_count() == 0


@pytest.mark.parametrize(("change", "message"), [
    ({"days": ["mon", "mon"]}, "days must be distinct"),
    ({"timezone": "Asia/Busan"}, "unknown time zone: 'Asia/Busan'"),
    ({"timezone": "../../etc/passwd"}, "unknown time zone"),
])
def test_rule_errors_are_422_with_a_clear_message(lead_api, make_user, change, message):
    response = _post_lead_shift(lead_api, make_user, change)
    assert response.status_code == 422, response.json
    assert message in response.json["error"]["fields"]["shift"]
    assert shift_count() == 0


def test_an_agent_cannot_hold_a_lead_shift(lead_api, make_user):
    agent = make_user("agent")
    response = lead_api.post(SHIFTS, json={"user_email": agent.email, "days": ["mon"],
                                           "start": "09:00", "end": "18:00"})
    assert response.status_code == 422
    assert "user_email" in response.json["error"]["fields"]


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_viewer_and_agent_cannot_add_shifts_or_overrides(api, make_user, role):
    caller, lead = api(role), make_user("lead")
    response = caller.post(SHIFTS, json={"user_email": lead.email, "days": ["mon"],
                                         "start": "09:00", "end": "18:00"})
    assert response.status_code == 403
    now = utcnow()
    response = caller.post(OVERRIDES, json={"user_email": lead.email, "role": "lead",
                                            "start": now.isoformat(),
                                            "end": (now + timedelta(hours=2)).isoformat()})
    assert response.status_code == 403
    assert shift_count() == 0
    assert db.session.scalar(select(func.count(Override.id))) == 0


def test_holiday_swap_override_replaces_the_rota_in_oncall_now(lead_api, make_user):
    regular, stand_in = make_user("lead", name="A Regular"), make_user("lead", name="B Stand-in")
    assert lead_api.post(SHIFTS, json={"user_email": regular.email, "days": ALL_DAYS,
                                       "start": "00:00", "end": "24:00"}).status_code == 201
    assert lead_api.get("/api/v1/oncall/now").json["lead"]["email"] == regular.email
    now = utcnow()
    response = lead_api.post(OVERRIDES, json={
        "user_email": stand_in.email, "role": "lead", "note": "Chuseok swap",
        "start": (now - timedelta(hours=1)).astimezone(ZoneInfo("Asia/Seoul")).isoformat(),
        "end": (now + timedelta(hours=1)).isoformat()})
    assert response.status_code == 201, response.json
    body = lead_api.get("/api/v1/oncall/now").json
    assert body["lead"]["email"] == stand_in.email
    assert body["manager"] is None
    assert services.on_duty(Role.lead, now + timedelta(hours=2)).id == regular.id


@pytest.mark.parametrize(("start", "end", "field"), [
    ("2026-12-25T09:00:00", "2026-12-25T18:00:00+09:00", "start"),  # no offset
    ("2026-12-25T18:00:00+09:00", "2026-12-25T09:00:00+09:00", "end"),  # ends before it starts
    ("2026-01-01T00:00:00+09:00", "2026-06-01T00:00:00+09:00", "end"),  # longer than 62 days
])
def test_bad_overrides_are_422(lead_api, make_user, start, end, field):
    person = make_user("lead")
    response = lead_api.post(OVERRIDES, json={"user_email": person.email, "role": "lead",
                                              "start": start, "end": end})
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


# --- the /oncall page ---------------------------------------------------------------------------

def test_oncall_page_shows_who_is_on_duty_and_flags_gaps(client, login, make_user):
    viewer = login("viewer")
    lead = make_user("lead", name="Seo-yeon Lead")
    manager = make_user("manager", name="Min-jun Manager")
    services.add_shift(make_user("admin"), lead, days=ALL_DAYS, start="00:00", end="24:00",
                       timezone="Asia/Seoul")
    now = utcnow()
    services.add_override(lead, manager, role=Role.manager, start=now - timedelta(hours=1),
                          end=now + timedelta(hours=3))
    db.session.commit()
    page = client.get("/oncall").get_data(as_text=True)
    assert "Seo-yeon Lead" in page and "Min-jun Manager" in page
    assert "Covered every hour of the next 14 days." in page  # the lead's rota
    # The window starts at this whole hour; the swap covers its first three hours (and
    # part of the fourth, which still counts as a gap hour): 336 - 3 hours are flagged.
    assert "333 hours in the next 14 days have nobody on duty" in page
    assert page.count('class="tag"') >= 1  # the swap is marked in the schedule
    # A viewer sees the rota but no forms to change it.
    assert 'name="shift-submit"' not in page
    assert viewer.role == Role.viewer


def test_oncall_page_with_nobody_on_duty(client, login):
    login("lead")
    page = client.get("/oncall").get_data(as_text=True)
    assert page.count("Nobody is on duty right now.") == 2
    assert page.count("336 hours in the next 14 days have nobody on duty") == 2
    assert 'name="shift-submit"' in page


def test_agent_cannot_post_to_the_oncall_page(client, login, make_user):
    login("agent")
    lead = make_user("lead")
    response = client.post("/oncall", data={"shift-submit": "1", "shift-user": lead.id,
                                            "shift-role": "lead", "shift-days": ["mon"],
                                            "shift-start": "09:00", "shift-end": "18:00",
                                            "shift-timezone": "Asia/Seoul"})
    assert response.status_code == 403
    assert shift_count() == 0


def test_lead_adds_a_shift_on_the_page_and_bad_input_is_explained(client, login, make_user):
    login("lead")
    person = make_user("lead", name="Ji-ho Lead")
    form = {"shift-submit": "1", "shift-user": person.id, "shift-role": "lead",
            "shift-days": ["sat", "sun"], "shift-start": "25:00", "shift-end": "06:00",
            "shift-timezone": "Asia/Seoul"}
    response = client.post("/oncall", data=form)
    assert response.status_code == 422
    assert "not a time of day" in response.get_data(as_text=True)
    assert shift_count() == 0
    response = client.post("/oncall", data={**form, "shift-start": "22:00"})
    assert response.status_code == 302
    [shift] = db.session.scalars(select(Shift)).all()
    assert (shift.days, shift.start, shift.end, shift.user_id) == (["sat", "sun"], "22:00", "06:00", person.id)
