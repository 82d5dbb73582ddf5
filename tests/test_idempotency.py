"""A request sent twice makes one thing: opening an incident, adding to the timeline, adding a
customer, proposing compensation, drafting an apology and adding an action item, over the web
(a key in the form) and the API (an Idempotency-Key header)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from app import idempotency
from app.extensions import db
from app.idempotency import Submission
from app.timeutil import utcnow
from incidents import services
from incidents.apology.models import ApologyLetter
from incidents.compensation.models import Compensation
from incidents.models import AffectedCustomer, EventKind, Incident, TimelineEvent
from incidents.postmortem.models import ActionItem
from tests.conftest import grade


def incidents() -> int:
    return db.session.scalar(select(func.count(Incident.id)))


def notes(incident_id: int) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(TimelineEvent.body).where(
        TimelineEvent.incident_id == incident_id, TimelineEvent.kind == EventKind.note)))


def form_key(page: str, action: str = "") -> str:
    """The key in the form posting to `action` (the page's first form with a key, without)."""
    start = page.index(f'action="{action}"') if action else 0
    return re.compile(r'name="idempotency_key" type="hidden" value="([^"]+)"').search(
        page, start).group(1)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


# --- the key and the content's print ------------------------------------------------------------

@given(st.text(max_size=80))
def test_a_key_is_taken_as_sent_or_refused(key):
    if key == "":
        assert idempotency.checked_key(key) is None
    elif 8 <= len(key) <= 64 and all("!" <= c <= "~" for c in key):
        assert idempotency.checked_key(key) == key
    else:
        with pytest.raises(idempotency.BadKey):
            idempotency.checked_key(key)


def test_keys_made_for_forms_are_valid_and_differ():
    keys = {idempotency.new_key() for _ in range(100)}
    assert len(keys) == 100 and all(idempotency.checked_key(k) == k for k in keys)


def test_the_print_ignores_order_but_not_content():
    assert idempotency.fingerprint({"a": 1, "b": "배송"}) == idempotency.fingerprint({"b": "배송", "a": 1})
    assert idempotency.fingerprint({"a": 1}) != idempotency.fingerprint({"a": 2})
    assert idempotency.form_content([("title", "x"), ("csrf_token", "t"), ("idempotency_key", "k")]) \
        == [("title", "x")]


# --- the web form ---------------------------------------------------------------------------------

@pytest.fixture
def opening(client, login):
    me = login("agent")
    page = client.get("/incidents/new").get_data(as_text=True)
    return {"title": "결제 페이지 오류", "grade": grade("Orange").id, "owner": me.id, "category": 0,
            "channel": "", "detected_at": "", "idempotency_key": form_key(page)}


def test_the_open_form_sent_twice_opens_one_incident(client, opening):
    first = client.post("/incidents/new", data=opening)
    again = client.post("/incidents/new", data=opening, follow_redirects=True)
    assert first.status_code == 302 and incidents() == 1
    [incident_id] = db.session.scalars(select(Incident.id))
    assert first.location == f"/incidents/{incident_id}"
    assert again.request.path == f"/incidents/{incident_id}"
    assert (f"This form was sent before and opened incident #{incident_id} then; it was not "
            "opened twice.") in again.get_data(as_text=True)


def test_each_new_form_has_its_own_key(client, opening):
    client.post("/incidents/new", data=opening)
    second = {**opening, "idempotency_key": form_key(client.get("/incidents/new").get_data(as_text=True))}
    assert second["idempotency_key"] != opening["idempotency_key"]
    client.post("/incidents/new", data=second)
    assert incidents() == 2


def test_a_sent_form_changed_and_sent_again_opens_the_changed_one_too(client, opening):
    # Back to the form after it was sent, a new title, and Open again: a second incident meant.
    client.post("/incidents/new", data=opening)
    client.post("/incidents/new", data={**opening, "title": "두 번째 인시던트"})
    assert sorted(db.session.scalars(select(Incident.title))) == ["결제 페이지 오류", "두 번째 인시던트"]


def test_a_form_refused_for_its_fields_keeps_its_key_and_opens_once_when_fixed(client, opening):
    refused = client.post("/incidents/new", data={**opening, "title": ""})
    assert refused.status_code == 422 and incidents() == 0
    assert form_key(refused.get_data(as_text=True)) == opening["idempotency_key"]
    client.post("/incidents/new", data=opening)
    client.post("/incidents/new", data=opening)
    assert incidents() == 1


@pytest.mark.parametrize("key", ["short", "has a space in it", "열쇠열쇠열쇠열쇠열쇠", "k" * 65])
def test_a_malformed_form_key_is_refused_and_opens_nothing(client, opening, key):
    response = client.post("/incidents/new", data={**opening, "idempotency_key": key})
    assert response.status_code == 400
    assert "8 to 64 printable ASCII characters" in response.get_data(as_text=True)
    assert incidents() == 0 and db.session.scalar(select(func.count(Submission.id))) == 0


def test_a_form_without_a_key_still_opens(client, opening):
    del opening["idempotency_key"]
    assert client.post("/incidents/new", data=opening).status_code == 302
    assert incidents() == 1


def test_a_timeline_note_sent_twice_is_added_once(client, login, make_incident):
    me = login("agent")
    incident = make_incident(me)
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    note = {"kind": "note", "body": "고객에게 다시 전화함", "idempotency_key": form_key(page)}
    client.post(f"/incidents/{incident.id}/events", data=note)
    again = client.post(f"/incidents/{incident.id}/events", data=note, follow_redirects=True)
    assert notes(incident.id) == ["고객에게 다시 전화함"]
    assert "it was not added twice" in again.get_data(as_text=True)
    fresh = form_key(again.get_data(as_text=True))
    assert fresh != note["idempotency_key"]  # the page after it has a new form, for a new note
    client.post(f"/incidents/{incident.id}/events", data={**note, "idempotency_key": fresh})
    assert notes(incident.id) == ["고객에게 다시 전화함"] * 2  # the same words, meant again


# Each form of the incident page that makes something: where it posts, what it sends, what it
# makes, and what the page says when the same sending comes back.
PAGE_FORMS = {
    "customer": ("customers", lambda me: {"customer_name": "김민지", "customer_contact": "010-1234-5678",
                                          "customer_reference": "", "customer_impact": ""},
                 AffectedCustomer, "they were not added twice"),
    "compensation": ("compensations", lambda me: {"comp_type": "coupon", "amount": "5000",
                                                  "currency": "KRW", "customer": "0", "note": "",
                                                  "approve": "y"},
                     Compensation, "it was not proposed twice"),
    "apology": ("apologies", lambda me: {"audience": "public", "language": "ko"},
                ApologyLetter, "here is the letter it made, not a second one"),
    "action": ("actions", lambda me: {"title": "Add a courier status check", "owner": me.id,
                                      "kind": "detect", "due_date": ""},
               ActionItem, "it was not added twice"),
}


@pytest.mark.parametrize("name", sorted(PAGE_FORMS))
def test_each_form_of_the_incident_page_sent_twice_makes_one(client, login, make_incident, name):
    path, fields, model, said = PAGE_FORMS[name]
    me = login("manager")
    incident = make_incident(me)
    action = f"/incidents/{incident.id}/{path}"
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    sent = {**fields(me), "idempotency_key": form_key(page, action)}
    first = client.post(action, data=sent)
    assert first.status_code == 302, first.get_data(as_text=True)[:2000]
    again = client.post(action, data=sent)
    assert again.headers["Location"] == first.headers["Location"]
    assert count(model) == 1
    assert said in client.get(again.headers["Location"]).get_data(as_text=True)
    # The page after it carries a new key: the same fields sent from it again are meant again.
    fresh = form_key(client.get(f"/incidents/{incident.id}").get_data(as_text=True), action)
    assert fresh != sent["idempotency_key"]
    assert client.post(action, data={**sent, "idempotency_key": fresh}).status_code == 302
    assert count(model) == 2


@pytest.mark.parametrize("name", sorted(PAGE_FORMS))
def test_a_malformed_key_on_a_page_form_is_refused_and_makes_nothing(client, login, make_incident,
                                                                    name):
    path, fields, model, _said = PAGE_FORMS[name]
    me = login("manager")
    incident = make_incident(me)
    response = client.post(f"/incidents/{incident.id}/{path}",
                           data={**fields(me), "idempotency_key": "has space!"})
    assert response.status_code == 400
    assert "idempotency key" in response.get_data(as_text=True)
    assert count(model) == 0


def test_the_incident_page_gives_each_form_its_own_key_and_no_duplicate_ids(client, login,
                                                                            make_incident):
    me = login("manager")
    incident = make_incident(me)
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    keys = re.findall(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)
    assert len(keys) == len(set(keys)) == 1 + len(PAGE_FORMS)  # with the timeline's
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_the_korean_replay_message(client, login, make_incident):
    me = login("agent", locale="ko")
    incident = make_incident(me)
    note = {"kind": "note", "body": "메모", "idempotency_key": "same-key-123"}
    client.post(f"/incidents/{incident.id}/events", data=note)
    again = client.post(f"/incidents/{incident.id}/events", data=note, follow_redirects=True)
    assert "이미 한 번 보내져 타임라인에 있습니다. 두 번 추가하지 않았습니다." in again.get_data(as_text=True)
    form = {"title": "배송 지연", "grade": grade("Blue").id, "owner": me.id, "category": 0,
            "channel": "", "detected_at": "", "idempotency_key": "same-form-123"}
    client.post("/incidents/new", data=form)
    opened = client.post("/incidents/new", data=form, follow_redirects=True).get_data(as_text=True)
    [number] = db.session.scalars(select(Incident.id).where(Incident.title == "배송 지연"))
    assert f"이 양식은 이미 한 번 보내져 #{number} 인시던트를 열었습니다. 두 번 열지 않았습니다." in opened


# --- how long a key is kept ------------------------------------------------------------------------

def test_a_key_is_kept_for_the_configured_days_then_forgotten(app, make_user, make_incident):
    user, other = make_user("agent"), make_user("agent")
    kept = app.config["IDEMPOTENCY_KEEP_DAYS"]
    now = utcnow()
    for owner, key, age in [(user, "expired-key-1", kept + 1), (user, "recent-key-1", kept - 1),
                            (other, "expired-key-2", kept + 1)]:
        made = make_incident(owner)
        db.session.add(Submission(user_id=owner.id, key=key, kind="incident", target_id=made.id,
                                  fingerprint=idempotency.fingerprint("same"),
                                  created_at=now - timedelta(days=age)))
    db.session.commit()

    def make_one() -> int:
        return services.create_incident(user, title="again", grade=grade("Blue")).id

    recent = idempotency.once(user.id, "recent-key-1", "incident", "same", make_one)
    assert recent.replayed  # within the window: the first result still answers
    expired = idempotency.once(user.id, "expired-key-1", "incident", "same", make_one)
    assert not expired.replayed  # past it: the key is new again, and a new incident is made
    keys = {(s.user_id, s.key) for s in db.session.scalars(select(Submission))}
    # The sender's expired keys went with that request; another user's wait for their own.
    assert keys == {(user.id, "recent-key-1"), (user.id, "expired-key-1"),
                    (other.id, "expired-key-2")}
    assert db.session.scalar(select(Submission.target_id).where(
        Submission.key == "expired-key-1")) == expired.target_id


# --- sent twice at the same moment ----------------------------------------------------------------

def test_the_loser_of_a_race_rolls_back_what_it_made_and_answers_with_the_winners(
        monkeypatch, make_user, make_incident):
    user = make_user("agent")
    winner = make_incident(user, title="the winner")
    db.session.add(Submission(user_id=user.id, key="raced-key-1", kind="incident",
                              target_id=winner.id, fingerprint=idempotency.fingerprint("same")))
    db.session.commit()
    # Both requests looked before either had committed: this one saw no earlier submission.
    real, calls = idempotency._earlier, []

    def earlier(*args):
        calls.append(args)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(idempotency, "_earlier", earlier)
    outcome = idempotency.once(
        user.id, "raced-key-1", "incident", "same",
        lambda: services.create_incident(user, title="the loser", grade=grade("Blue")).id)
    assert outcome == idempotency.Outcome(winner.id, True)
    assert list(db.session.scalars(select(Incident.title))) == ["the winner"]
    assert len(calls) == 2


# --- the API ----------------------------------------------------------------------------------------

BODY = {"title": "Checkout 500s", "grade": "orange"}


def test_api_open_sent_twice_with_a_key_opens_one(api):
    agent = api("agent")
    headers = {"Idempotency-Key": "0b9f6a1e-6b7c-4d5e-9f00-123456789abc"}
    first = agent.post("/api/v1/incidents", json=BODY, headers=headers)
    again = agent.post("/api/v1/incidents", json=BODY, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json["id"] == again.json["id"] and incidents() == 1
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"


def test_api_without_a_key_opens_each_time(api):
    agent = api("agent")
    agent.post("/api/v1/incidents", json=BODY)
    agent.post("/api/v1/incidents", json=BODY)
    assert incidents() == 2


def test_api_key_reused_for_another_body_is_refused(api):
    agent = api("agent")
    headers = {"Idempotency-Key": "reused-key-1"}
    agent.post("/api/v1/incidents", json=BODY, headers=headers)
    refused = agent.post("/api/v1/incidents", json={**BODY, "title": "Other"}, headers=headers)
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "idempotency_key_reused"
    assert incidents() == 1


def test_api_keys_belong_to_their_user(api):
    headers = {"Idempotency-Key": "shared-key-1"}
    one = api("agent").post("/api/v1/incidents", json=BODY, headers=headers)
    two = api("agent").post("/api/v1/incidents", json=BODY, headers=headers)
    assert one.json["id"] != two.json["id"] and "Idempotent-Replayed" not in two.headers


@pytest.mark.parametrize("key", ["short", "has space!", "열쇠열쇠열쇠열쇠열쇠", "k" * 65])
def test_api_malformed_key_is_refused_and_opens_nothing(api, key):
    response = api("agent").post("/api/v1/incidents", json=BODY,
                                 headers={"Idempotency-Key": key.encode().decode("latin-1")})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_idempotency_key"
    assert incidents() == 0


def test_api_a_refused_body_records_no_key(api):
    agent = api("agent")
    headers = {"Idempotency-Key": "first-try-1"}
    refused = agent.post("/api/v1/incidents", json={**BODY, "grade": "purple"}, headers=headers)
    assert refused.status_code == 422
    fixed = agent.post("/api/v1/incidents", json=BODY, headers=headers)
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers


def test_api_event_sent_twice_with_a_key_is_added_once(api, make_incident):
    agent = api("agent")
    incident = make_incident(agent.user)
    headers = {"Idempotency-Key": "note-key-123"}
    body = {"kind": "note", "body": "Called the courier"}
    first = agent.post(f"/api/v1/incidents/{incident.id}/events", json=body, headers=headers)
    again = agent.post(f"/api/v1/incidents/{incident.id}/events", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json == again.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert notes(incident.id) == ["Called the courier"]
    elsewhere = make_incident(agent.user)  # the same key and body on another incident differ
    refused = agent.post(f"/api/v1/incidents/{elsewhere.id}/events", json=body, headers=headers)
    assert refused.status_code == 422 and notes(elsewhere.id) == []


API_CREATES = {
    "customers": ({"name": "Kim Minji", "contact": "minji@example.com"}, AffectedCustomer),
    "compensations": ({"type": "coupon", "amount": 5000, "currency": "KRW"}, Compensation),
    "apologies": ({"audience": "public", "language": "en"}, ApologyLetter),
    "action-items": ({"title": "Add a courier status check", "owner_email": "{me}",
                      "kind": "detect"}, ActionItem),
}


@pytest.mark.parametrize("path", sorted(API_CREATES))
def test_api_creates_under_an_incident_sent_twice_with_a_key_make_one(api, make_incident, path):
    body, model = API_CREATES[path]
    manager = api("manager")
    body = {k: v.format(me=manager.user.email) if isinstance(v, str) else v
            for k, v in body.items()}
    incident = make_incident(manager.user)
    headers = {"Idempotency-Key": f"{path}-key-1"}
    url = f"/api/v1/incidents/{incident.id}/{path}"
    first = manager.post(url, json=body, headers=headers)
    again = manager.post(url, json=body, headers=headers)
    assert first.status_code == again.status_code == 201, first.json
    assert first.json == again.json and again.headers["Idempotent-Replayed"] == "true"
    assert count(model) == 1
    changed = manager.post(url, json={**body, "language": "ko"} if path == "apologies" else
                           {**body, "contact": "other@example.com"} if path == "customers" else
                           {**body, "amount": 6000} if path == "compensations" else
                           {**body, "title": "Another check"}, headers=headers)
    assert changed.status_code == 422 and changed.json["error"]["code"] == "idempotency_key_reused"
    assert count(model) == 1
    assert manager.post(url, json=body).status_code == 201 and count(model) == 2  # no key: each time


def test_openapi_documents_the_header(client):
    doc = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/incidents", "/api/v1/incidents/{incident_id}/events",
                 *(f"/api/v1/incidents/{{incident_id}}/{p}" for p in API_CREATES)):
        params = doc["paths"][path]["post"]["parameters"]
        assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in params), path
