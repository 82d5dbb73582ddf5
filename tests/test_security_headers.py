"""What the browser and the caches in between are told: no stored copies of pages or API
answers that hold customers' personal data, and a session cookie that never travels over plain
HTTP once the site is reached over HTTPS (issue 16, acceptance)."""

from __future__ import annotations

import pytest

from app.extensions import db
from incidents.services import CustomerData
from tests.conftest import PASSWORD, build_app


@pytest.fixture
def incident(make_incident, make_user):
    return make_incident(make_user("agent"), customers=[
        CustomerData(name="Kim Minsu", contact="010-2345-6789", reference="ORD-1")])


def test_pages_with_customers_are_not_stored(client, login, incident):
    login("agent")
    for path in (f"/incidents/{incident.id}", "/incidents/", "/approvals", "/dashboard"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response.headers["Cache-Control"], path


def test_api_answers_are_not_stored(api, incident):
    agent = api("agent")
    for path in (f"/api/v1/incidents/{incident.id}", "/api/v1/incidents",
                 f"/api/v1/incidents/{incident.id}/compensations"):
        response = agent.get(path)
        assert response.status_code == 200, path
        assert "Kim Minsu" in response.get_data(as_text=True) or path.endswith("s")
        assert "no-store" in response.headers["Cache-Control"], path
    error = agent.get("/api/v1/incidents/999999")
    assert error.status_code == 404 and "no-store" in error.headers["Cache-Control"]


def test_static_files_may_be_cached(client):
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()  # a file response holds the file open until closed


def _session_cookie(response) -> str:
    cookies = [v for v in response.headers.getlist("Set-Cookie") if v.startswith("session=")]
    assert cookies, response.headers
    return cookies[0]


def test_the_session_cookie_is_secure_over_https(client, make_user):
    user = make_user("agent")
    plain = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert "Secure" not in _session_cookie(plain)
    client.post("/logout")
    secure = client.post("/login", data={"email": user.email, "password": PASSWORD},
                         base_url="https://incidents.example.com")
    assert secure.status_code == 302
    cookie = _session_cookie(secure)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_behind_a_trusted_proxy_its_scheme_counts(db_uri, tmp_path):
    app = build_app(db_uri, SEARCH_INDEX_DIR=str(tmp_path / "search"), TRUSTED_PROXIES=1)
    with app.app_context():
        from app import users
        from app.models import Role

        user = users.create_user(email="proxy@example.com", name="Proxy Person", title="Agent",
                                 role=Role.agent, password=PASSWORD)
        db.session.commit()
        client = app.test_client()
        response = client.post("/login", data={"email": user.email, "password": PASSWORD},
                               headers={"X-Forwarded-Proto": "https"})
        assert "Secure" in _session_cookie(response)
        db.session.remove()
        db.engine.dispose()


def test_an_untrusted_forwarded_scheme_is_ignored(client, make_user):
    user = make_user("agent")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD},
                           headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in _session_cookie(response)
