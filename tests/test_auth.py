"""Who may reach what: sign-in, first run, the gate on every route, roles, CSRF, redirects."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app import users
from app.errors import Conflict
from app.extensions import db
from app.models import Category, Grade, Role, User
from tests.conftest import PASSWORD, grade, sign_in

# Reachable signed out, by design; everything else needs a session or a token.
PUBLIC = {"health.healthz", "auth.login", "auth.setup", "auth.language", "static", "api.openapi"}
# A viewer's own session and settings are theirs to change; nothing else is.
PERSONAL = {"auth.login", "auth.logout", "auth.setup", "auth.language", "auth.account",
            "auth.password", "escalation.read_all"}  # marking one's own notifications read
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
NEW_PASSWORD = "ledger lantern orchard"


def methods(rule) -> set[str]:
    return set(rule.methods) - {"HEAD", "OPTIONS"}


def concrete(rule, ids: dict[str, int]) -> str:
    """The rule with every variable filled: known ids, else 1."""
    def fill(match):
        converter, options, name = match.groups()
        if converter == "path" or name == "filename":
            return "app.css"
        if converter == "any":
            return options.split(",")[0].strip()
        return str(ids.get(name, 1))
    return re.sub(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>", fill, rule.rule)


def is_api(rule) -> bool:
    return rule.rule.startswith("/api/")


def request(client, method: str, url: str, data=None, **kw):
    if url.startswith("/api/"):
        return client.open(url, method=method, json=data or {}, **kw)
    return client.open(url, method=method, data=data or {}, **kw)


@pytest.fixture
def world(make_user, make_incident):
    """One of everything a route may refer to, and a valid form for every POST route."""
    admin = make_user("admin")
    target = make_user("agent", email="target@example.com", name="Target Person")
    incident = make_incident(admin)
    category = db.session.scalar(select(Category).where(Category.slug == "delivery"))
    ids = {"incident_id": incident.id, "user_id": target.id, "grade_id": grade("Green").id,
           "category_id": category.id}
    forms = {
        "incidents.create": {"title": "Injected", "grade": grade("Blue").id, "owner": admin.id,
                             "category": 0, "channel": ""},
        "incidents.edit": {"title": "Hijacked", "grade": grade("Red").id, "owner": admin.id,
                           "category": 0, "channel": "", "version": str(incident.version)},
        "incidents.status": {"status": "shared", "expected": "detected"},
        "incidents.add_event": {"kind": "note", "body": "Injected note"},
        "incidents.add_customer": {"customer_name": "Injected customer"},
        "admin.users_create": {"name": "New Person", "title": "Agent", "email": "new@example.com",
                               "role": "admin", "password": "a long enough password"},
        "admin.users_edit": {"name": "Renamed", "title": "Boss", "email": target.email,
                             "role": "admin", "active": "y"},
        "admin.grades_edit": {"rank": 9, "colour": "#123456", "notified_role": "lead",
                              "description": "Changed"},
        "admin.categories_edit": {"slug": "delivery", "name": "Changed name"},
        "/admin/categories/new": {"slug": "new_key", "name": "New category"},
        "auth.account": {"locale": "ko", "timezone": "Europe/Berlin"},
        "auth.password": {"current_password": PASSWORD, "password": NEW_PASSWORD,
                          "confirm": NEW_PASSWORD},
        "auth.language": {"locale": "ko"},
        "auth.login": {"email": admin.email, "password": PASSWORD},
        "auth.setup": {"email": "x@example.com", "name": "X", "title": "X", "password": PASSWORD,
                       "confirm": PASSWORD},
        "incidents_api.create": {"title": "Injected", "grade": "Blue"},
        "incidents_api.patch": {"title": "Hijacked"},
        "incidents_api.status": {"status": "shared"},
        "incidents_api.add_event": {"kind": "note", "body": "Injected"},
        "incidents_api.add_customer": {"name": "Injected"},
    }
    return {"admin": admin, "target": target, "incident": incident, "ids": ids, "forms": forms}


def form_for(world, rule) -> dict | None:
    return world["forms"].get(rule.rule, world["forms"].get(rule.endpoint))


def declared_read_only(rule, method: str) -> bool:
    """API routes declared open to viewers (e.g. a text check sent by POST) change nothing."""
    from app.api import PREFIX, registry

    return any(PREFIX + r.rule == rule.rule and r.method == method and r.role == Role.viewer
               for r in registry.routes)


def every_route(app, ids):
    for rule in app.url_map.iter_rules():
        for method in sorted(methods(rule)):
            yield rule, method, concrete(rule, ids)


# --- the gate: nothing but the public routes signed out -------------------------------------------

def test_every_route_needs_sign_in(app, client, world, snapshot):
    before = snapshot()
    checked = 0
    for rule, method, url in every_route(app, world["ids"]):
        if rule.endpoint in PUBLIC:
            continue
        response = request(client, method, url, form_for(world, rule))
        where = f"{method} {url}"
        if is_api(rule):
            assert response.status_code == 401, where
            assert response.json["error"]["code"] == "unauthorized", where
        elif method == "POST" and rule.endpoint != "auth.logout":  # a page keeping what was typed
            assert response.status_code == 401, where
            assert "You are signed out" in response.text, where
        else:
            assert response.status_code == 302, where
            assert urlsplit(response.location).path == "/login", where
        checked += 1
    assert checked >= 25
    assert snapshot() == before


def test_a_form_sent_after_signing_out_keeps_its_text_and_leads_back(client, world, snapshot):
    before = snapshot()
    incident = world["incident"].id
    note = "Customer called again at 02:10; wants a replacement, not a refund."
    response = client.post(f"/incidents/{incident}/events", data={"kind": "note", "body": note},
                           headers={"Referer": f"http://localhost/incidents/{incident}"})
    assert response.status_code == 401
    assert snapshot() == before
    page = response.text
    assert "You are signed out" in page and "Nothing was saved" in page and note in page
    # Sign in, then back to the incident's page (never to the POST-only address).
    assert f'href="/login?next=/incidents/{incident}"' in page.replace("%2F", "/")


def test_before_first_run_every_page_leads_to_setup(app, client):
    assert db.session.scalar(select(func.count(User.id))) == 0
    for rule, method, url in every_route(app, {}):
        if rule.endpoint in PUBLIC:
            continue
        response = request(client, method, url)
        if is_api(rule):
            assert response.status_code == 401, url
            assert response.is_json
        else:
            assert response.status_code == 302, url
            assert urlsplit(response.location).path == "/setup", url
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_public_routes_answer_signed_out(client, world):
    assert client.get("/healthz").status_code == 200
    assert client.get("/login").status_code == 200
    with client.get("/static/app.css") as response:
        assert response.status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert urlsplit(client.get("/setup").location).path == "/login"  # already set up
    response = client.post("/language", data={"locale": "ko", "next": "/login"})
    assert (response.status_code, urlsplit(response.location).path) == (302, "/login")


def test_public_endpoints_are_only_the_expected_ones(app):
    from app.auth import PUBLIC_ENDPOINTS

    assert PUBLIC_ENDPOINTS <= PUBLIC
    assert {r.endpoint for r in app.url_map.iter_rules() if r.endpoint in PUBLIC} == PUBLIC


# --- roles ------------------------------------------------------------------------------------------

def test_a_viewer_cannot_write_anywhere(app, client, login, api, world, snapshot):
    viewer = login("viewer")
    token = users.issue_token(viewer.email)
    db.session.commit()
    before = snapshot()
    checked = []
    for rule, method, url in every_route(app, world["ids"]):
        if method not in WRITE_METHODS or rule.endpoint in PERSONAL or declared_read_only(rule, method):
            continue
        form = form_for(world, rule)
        # Routes of other features may point at records this world lacks (404); those
        # covered by `world` must answer 403. Either way nothing may change (snapshot).
        allowed = {403} if form is not None else {403, 404}
        if is_api(rule):
            response = request(client, method, url, form, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code in allowed, f"{method} {url}"
            assert response.json["error"]["code"] in ("forbidden", "not_found")
        else:
            response = request(client, method, url, form)
            assert response.status_code in allowed, f"{method} {url}"
        checked.append(rule.endpoint)
    assert {"incidents.create", "incidents.status", "admin.users_create",
            "incidents_api.create", "incidents_api.patch"} <= set(checked)
    assert snapshot() == before


def test_the_forms_used_above_really_change_things(app, client, login, world, snapshot):
    """The viewer and CSRF checks send valid forms: signed in as admin they do change data."""
    sign_in(client, world["admin"])
    for rule, method, url in every_route(app, world["ids"]):
        if method != "POST" or is_api(rule) or rule.endpoint in {"auth.login", "auth.setup",
                                                                  "auth.logout"}:
            continue
        if form_for(world, rule) is None:
            continue
        before = snapshot()
        response = client.post(url, data=form_for(world, rule))
        assert response.status_code == 302, f"{url}: {response.status_code}"
        assert snapshot() != before, url


@pytest.mark.parametrize("role", ["viewer", "agent", "lead", "manager"])
def test_admin_pages_are_403_for_non_admins(role, app, client, login, world, snapshot):
    login(role)
    before = snapshot()
    admin_routes = [(rule, method, url) for rule, method, url in every_route(app, world["ids"])
                    if rule.rule.startswith("/admin")]
    assert len(admin_routes) >= 10
    for rule, method, url in admin_routes:
        response = request(client, method, url, form_for(world, rule))
        assert response.status_code == 403, f"{method} {url}"
    assert snapshot() == before


def test_admin_pages_open_for_admins(client, login, world):
    login("admin")
    for url in ("/admin/users", "/admin/users/new", f"/admin/users/{world['target'].id}",
                "/admin/grades", f"/admin/grades/{world['ids']['grade_id']}", "/admin/categories",
                "/admin/categories/new"):
        assert client.get(url).status_code == 200, url


# --- CSRF -------------------------------------------------------------------------------------------

class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_every_web_post_without_a_token_is_400(self, app, client, world, snapshot):
        sign_in(client, world["admin"])
        before = snapshot()
        posts = [(rule, url) for rule, method, url in every_route(app, world["ids"])
                 if method == "POST" and not is_api(rule)]
        assert {r.endpoint for r, _ in posts} >= {"auth.login", "auth.logout", "auth.language",
                                                   "incidents.create", "admin.users_create"}
        for rule, url in posts:
            response = client.post(url, data=form_for(world, rule) or {"x": "y"})
            assert response.status_code == 400, url
        assert snapshot() == before
        assert client.get("/incidents/").status_code == 200  # the logout was refused too

    def test_a_wrong_token_is_400(self, client, world, snapshot):
        sign_in(client, world["admin"])
        before = snapshot()
        url = f"/incidents/{world['incident'].id}/events"
        response = client.post(url, data={**world["forms"]["incidents.add_event"],
                                          "csrf_token": "forged"})
        assert response.status_code == 400
        assert snapshot() == before

    def test_a_form_from_an_ended_session_says_so_and_gives_back_what_was_typed(self, client,
                                                                                  world, snapshot):
        sign_in(client, world["admin"])
        before = snapshot()
        url = f"/incidents/{world['incident'].id}/events"
        note = "고객에게 두 번째 전화: 환불 대신 재배송을 원하심. Courier booked for 09:00."
        response = client.post(url, data={"csrf_token": "from-a-closed-browser", "kind": "note",
                                          "body": note, "password": "never shown again"},
                               headers={"Referer": f"http://localhost/incidents/{world['incident'].id}"})
        assert response.status_code == 400
        assert snapshot() == before
        page = response.text
        assert "This form is out of date" in page and "Nothing was saved" in page
        assert f"<textarea class=\"typed\" readonly aria-label=\"What you typed\">{note}</textarea>" in page
        assert "never shown again" not in page and ">note<" not in page  # secrets and hidden words
        assert f'href="http://localhost/incidents/{world["incident"].id}"' in page

    def test_a_stale_form_page_never_links_to_another_site(self, client, world):
        sign_in(client, world["admin"])
        response = client.post(f"/incidents/{world['incident'].id}/events",
                               data={"csrf_token": "x", "body": "some words here"},
                               headers={"Referer": "https://evil.example/incidents/1"})
        assert response.status_code == 400 and "evil.example" not in response.text

    def test_a_form_with_its_token_goes_through(self, client, world):
        sign_in(client, world["admin"])
        incident_id = world["incident"].id
        page = client.get(f"/incidents/{incident_id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
            re.search(r'name="csrf_token" value="([^"]+)"', page)
        response = client.post(f"/incidents/{incident_id}/events",
                               data={"kind": "note", "body": "with token", "csrf_token": token.group(1)})
        assert response.status_code == 302
        assert "with token" in client.get(f"/incidents/{incident_id}").get_data(as_text=True)

    def test_the_api_needs_no_csrf_token(self, api):
        response = api("agent").post("/api/v1/incidents", json={"title": "x", "grade": "Blue"})
        assert response.status_code == 201


# --- signing in -----------------------------------------------------------------------------------

def error_texts(response) -> list[str]:
    return re.findall(r'<p class="error"[^>]*>([^<]+)</p>', response.get_data(as_text=True))


def signed_in(client) -> bool:
    return client.get("/incidents/").status_code == 200


def stays_on_site(location: str) -> bool:
    parts = urlsplit(location)
    return (not parts.scheme and not parts.netloc and location.startswith("/")
            and not location.startswith("//") and "\\" not in location and "evil" not in location)


def test_sign_in_and_out(client, make_user):
    user = make_user("agent")
    response = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302 and stays_on_site(response.location)
    assert signed_in(client)
    assert client.post("/logout").status_code == 302
    assert not signed_in(client)


def test_failed_sign_ins_look_the_same(client, make_user):
    user = make_user("agent")
    inactive = make_user("agent")
    inactive.active = False
    db.session.commit()
    attempts = [{"email": user.email, "password": "wrong password!"},
                {"email": "nobody@example.com", "password": PASSWORD},
                {"email": inactive.email, "password": PASSWORD}]
    messages = []
    for data in attempts:
        response = client.post("/login", data=data)
        assert response.status_code == 401
        messages.append(error_texts(response))
        assert not signed_in(client)
    assert messages[0] == messages[1] == messages[2] == ["E-mail or password is wrong."]


class TestRateLimit:
    """Failed sign-ins only; tests/test_signin.py has the rest (workers, Redis, successes)."""

    @pytest.fixture
    def app_config(self):
        return {"LOGIN_RATE_LIMIT": "3 per hour"}

    def test_too_many_attempts_are_429(self, client, make_user):
        user = make_user("agent")
        for _ in range(3):
            assert client.post("/login", data={"email": user.email, "password": "nope nope"}) \
                .status_code == 401
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 429
        assert 1 <= int(response.headers["Retry-After"]) <= 3600
        assert "Too many failed sign-ins" in response.text
        assert not signed_in(client)
        other = {"email": "someone@example.com", "password": PASSWORD}
        assert client.post("/login", data=other).status_code == 429  # same address
        assert client.get("/login").status_code == 200  # looking at the form is not an attempt

    def test_the_limit_also_follows_the_email(self, client, make_user):
        user = make_user("agent")
        for n in range(3):
            client.post("/login", data={"email": user.email, "password": "nope nope"},
                        environ_base={"REMOTE_ADDR": f"10.0.0.{n + 1}"})
        response = client.post("/login", data={"email": user.email, "password": PASSWORD},
                               environ_base={"REMOTE_ADDR": "10.0.0.99"})
        assert response.status_code == 429
        fresh = make_user("agent")
        response = client.post("/login", data={"email": fresh.email, "password": PASSWORD},
                               environ_base={"REMOTE_ADDR": "10.0.0.98"})
        assert response.status_code == 302


def test_a_deactivated_users_session_stops_working(client, login):
    user = login("agent")
    assert signed_in(client)
    user.active = False
    db.session.commit()
    response = client.get("/incidents/")
    assert (response.status_code, urlsplit(response.location).path) == (302, "/login")


def test_a_role_change_takes_effect_at_once(client, login, world):
    user = login("admin")
    assert client.get("/admin/users").status_code == 200
    user.role = Role.agent
    db.session.commit()
    assert client.get("/admin/users").status_code == 403


@pytest.mark.parametrize("target", [
    "https://evil.example/steal", "//evil.example/steal", "/\\evil.example", "\\\\evil.example",
    "/\t/evil.example", "https:evil.example", "javascript:alert(1)", "evil.example",
])
def test_next_never_leaves_the_site(target, client, make_user):
    user = make_user("agent")
    response = client.post("/login", query_string={"next": target},
                           data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert stays_on_site(response.location), response.location
    assert signed_in(client)
    # Signed in already, /login redirects straight on: same rule.
    assert stays_on_site(client.get("/login", query_string={"next": target}).location)
    assert stays_on_site(client.post("/language", data={"locale": "en", "next": target}).location)


def test_next_within_the_site_is_kept(client, make_user, make_incident):
    user = make_user("agent")
    incident = make_incident(user)
    gate = client.get(f"/incidents/{incident.id}")
    assert urlsplit(gate.location).path == "/login"
    response = client.post(gate.location, data={"email": user.email, "password": PASSWORD})
    assert response.location == f"/incidents/{incident.id}"


# --- first run ------------------------------------------------------------------------------------

def test_first_run_creates_an_admin_once(client):
    assert urlsplit(client.get("/").location).path == "/setup"
    assert client.get("/setup").status_code == 200
    form = {"email": "Founder@Example.com", "name": "김대표", "title": "대표이사",
            "password": PASSWORD, "confirm": PASSWORD}
    response = client.post("/setup", data=form)
    assert response.status_code == 302
    founder = db.session.scalar(select(User))
    assert (founder.email, founder.role, founder.name) == ("founder@example.com", Role.admin, "김대표")
    assert signed_in(client)

    client.post("/logout")
    again = client.post("/setup", data={**form, "email": "second@example.com"})
    assert urlsplit(again.location).path == "/login"
    assert db.session.scalar(select(func.count(User.id))) == 1
    with pytest.raises(Conflict):
        users.create_first_admin(email="third@example.com", name="x", title="x", password=PASSWORD)


@pytest.mark.parametrize("change", [{"confirm": "different password"}, {"password": "short",
                                                                        "confirm": "short"},
                                    {"password": "password1234", "confirm": "password1234"},
                                    {"email": "not-an-email"}, {"name": ""}])
def test_first_run_refuses_bad_input(change, client):
    form = {"email": "founder@example.com", "name": "Founder", "title": "CEO",
            "password": PASSWORD, "confirm": PASSWORD, **change}
    response = client.post("/setup", data=form)
    assert response.status_code in (200, 422)
    assert db.session.scalar(select(func.count(User.id))) == 0


# --- account settings -------------------------------------------------------------------------------

def test_account_settings_are_saved(client, login):
    user = login("viewer")
    response = client.post("/account", data={"locale": "ko", "timezone": "Europe/Berlin"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.locale, user.timezone) == ("ko", "Europe/Berlin")


def test_account_refuses_an_unknown_time_zone(client, login):
    user = login("agent")
    client.post("/account", data={"locale": "en", "timezone": "Mars/Olympus"})
    db.session.refresh(user)
    assert user.timezone == "Asia/Seoul"


def test_grade_admin_is_an_admin_only_service_too(make_user):
    from app.errors import Forbidden
    from incidents import services

    with pytest.raises(Forbidden):
        services.update_grade(make_user("lead"), db.session.scalar(select(Grade)), rank=7)


def test_layout_figures_load_with_the_user_and_are_dropped_once_the_session_writes(app, make_user):
    from flask import session

    from app.auth import SESSION_TOKEN, prefetched
    from app.extensions import login_manager

    user, other = make_user("agent"), make_user("agent")
    user_id, other_id, token = user.id, other.id, users.start_session(user)
    db.session.commit()
    db.session.expunge_all()
    with app.test_request_context("/"):
        session[SESSION_TOKEN] = token
        loaded = login_manager._user_callback(str(user_id))
        assert loaded.id == user_id
        assert prefetched("unread_notifications", loaded) == 0
        other = db.session.get(User, other_id)
        assert prefetched("unread_notifications", other) is None  # fetched for someone else
        loaded.title = "Changed"
        db.session.flush()  # the request may have changed what was fetched
        assert prefetched("unread_notifications", loaded) is None
        db.session.rollback()
