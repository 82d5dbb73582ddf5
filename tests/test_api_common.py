"""API plumbing shared by every feature: token auth, JSON errors, the OpenAPI document, health."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from app import create_app, users
from app.extensions import db
from app.models import ApiToken
from app.timeutil import utcnow
from tests.conftest import BASE_CONFIG

PING = "/api/v1/incidents"


def assert_json_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.json["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    if code:
        assert error["code"] == code
    return error


# --- tokens ---------------------------------------------------------------------------------------

def test_a_token_is_stored_only_as_its_hash(api):
    client = api("agent")
    assert client.get(PING).status_code == 200
    with db.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT * FROM api_tokens"))]
    assert len(rows) == 1
    assert all(client.token not in str(value) for value in rows[0])
    stored = db.session.scalar(select(ApiToken))
    assert stored.token_hash == ApiToken.hash(client.token) != client.token
    assert client.token.startswith(stored.prefix) and len(stored.prefix) < len(client.token) // 3


def test_the_token_is_nowhere_in_the_database(app, api):
    client = api("agent")
    client.get(PING)
    with db.engine.connect() as conn:
        everything = [str(tuple(row)) for table in db.metadata.sorted_tables
                      if inspect(conn).has_table(table.name)
                      for row in conn.execute(select(table))]
    assert everything and not any(client.token in row for row in everything)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):  # and not in the files, write-ahead log included
        path = Path(uri.removeprefix("sqlite:///"))
        files = [p for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
        assert all(client.token.encode() not in p.read_bytes() for p in files)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Bearer ib_unknown-token",
                                    "Basic dXNlcjpwYXNz", "Token {token}", "{token}"])
def test_missing_or_malformed_tokens_are_401(header, api, client):
    token = api("admin").token
    headers = {} if header is None else {"Authorization": header.format(token=token)}
    error = assert_json_error(client.get(PING, headers=headers), 401, "unauthorized")
    assert "Bearer" in error["message"]


def test_bearer_scheme_is_case_insensitive(api, client):
    token = api("viewer").token
    assert client.get(PING, headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_revoked_token_is_401(api):
    client = api("agent")
    assert client.get(PING).status_code == 200
    db.session.scalar(select(ApiToken)).revoked_at = utcnow()
    db.session.commit()
    assert_json_error(client.get(PING), 401, "unauthorized")


def test_deactivated_users_token_is_401(api):
    client = api("agent")
    assert client.get(PING).status_code == 200
    client.user.active = False
    db.session.commit()
    assert_json_error(client.get(PING), 401)
    assert_json_error(client.post(PING, json={"title": "x", "grade": "Blue"}), 401)


def test_each_token_works_alone(api, make_user):
    first = api("agent")
    second = users.issue_token(first.user.email)
    db.session.commit()
    db.session.scalar(select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(first.token))) \
        .revoked_at = utcnow()
    db.session.commit()
    assert first.get(PING).status_code == 401
    assert first.get(PING, headers={"Authorization": f"Bearer {second}"}).status_code == 200


def test_a_session_cookie_does_not_authorise_the_api(client, login, snapshot):
    login("admin")
    assert client.get("/incidents/").status_code == 200  # the session itself works
    before = snapshot()
    assert_json_error(client.get(PING), 401)
    assert_json_error(client.post(PING, json={"title": "x", "grade": "Blue"}), 401)
    assert snapshot() == before


def test_token_of_one_user_acts_as_that_user(api):
    lead = api("lead")
    body = lead.post(PING, json={"title": "Mine", "grade": "Green"}).json
    assert body["reporter"]["email"] == lead.user.email


# --- errors are JSON --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v1/incidents/abc", "/api/v1/",
                                  "/api/v1/incidents/1/nothing"])
def test_unknown_api_paths_are_404_json(path, api):
    assert_json_error(api("agent").get(path), 404)


def test_wrong_method_is_405_json(api):
    assert_json_error(api("agent").delete(PING), 405)


# --- the OpenAPI document -----------------------------------------------------------------------------

def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def test_openapi_document_lists_every_api_route(app, client):
    response = client.get("/api/v1/openapi.json")  # public: tools fetch it without a token
    assert response.status_code == 200
    doc = response.json
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    routes = {(_openapi_path(rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
              and rule.endpoint != "api.openapi"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert routes == documented
    schemas = doc["components"]["schemas"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["summary"] and op["responses"], (path, method)
            assert {"401", "403"} <= set(op["responses"]), (path, method)
            assert any(code.startswith("2") for code in op["responses"])
            for name in re.findall(r"{(\w+)}", path):
                assert any(p["name"] == name and p["in"] == "path" for p in op["parameters"])
            refs = re.findall(r'"\$ref": "#/components/schemas/(\w+)"', str(op).replace("'", '"'))
            assert all(ref in schemas for ref in refs), refs
    create = doc["paths"]["/api/v1/incidents"]["post"]
    assert "201" in create["responses"] and "422" in create["responses"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/IncidentCreate")
    assert "title" in schemas["IncidentCreate"]["properties"]


# --- /healthz ----------------------------------------------------------------------------------------

def test_healthz_ok(client):
    response = client.get("/healthz")
    assert (response.status_code, response.json) == (200, {"status": "ok"})


@pytest.mark.parametrize("uri", [
    "sqlite:////nonexistent-directory-for-incidentbook/sub/db.sqlite",
    "postgresql+psycopg://root@127.0.0.1:1/nothing?connect_timeout=2",
])
def test_healthz_is_503_when_the_database_is_unreachable(uri):
    broken = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": uri})
    try:
        response = broken.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.json["status"] == "unavailable"
    finally:
        with broken.app_context():
            db.engine.dispose()
