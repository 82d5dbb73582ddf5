"""The API answers as its OpenAPI document says (issue 16, class 8): what Schemathesis found,
each pinned here; `make api-fuzz` runs Schemathesis itself."""

from __future__ import annotations

import re
from datetime import datetime

import jsonschema_rs
import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_31
from sqlalchemy import func, select

from app.bounds import ID_MAX
from app.extensions import db
from incidents.services import CustomerData
from playbooks.models import Playbook

DOC = "/api/v1/openapi.json"
PLAYBOOK = {"title": "Double card charge", "summary": "Refund the second charge.",
            "steps": "1. Find both charges.\n2. Refund one.", "tags": ["payment"],
            "language": "en"}


@pytest.fixture
def doc(client) -> dict:
    return client.get(DOC).json


def operations(doc: dict):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield path, method, op


# --- the document -----------------------------------------------------------------------------

def test_the_document_is_valid_openapi_3_1(doc):
    assert doc["openapi"] == "3.1.0"
    errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message}"
              for e in jsonschema_rs.validator_for(OPENAPI_31).iter_errors(doc)]
    assert errors == []
    # Each schema is itself valid JSON Schema 2020-12, its patterns included.
    for name, schema in doc["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name
    for _path, _method, op in operations(doc):
        for param in op.get("parameters", []):
            assert jsonschema_rs.meta.is_valid(param["schema"]), param


def test_query_parameters_have_their_real_types_and_bounds(doc):
    def params(path: str) -> dict:
        return {p["name"]: p for p in doc["paths"][path]["get"]["parameters"]}

    listing = params("/api/v1/incidents")
    assert listing["page"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100_000,
                                         "default": 1}
    assert listing["per_page"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100,
                                             "default": 25}
    assert listing["status"]["schema"]["enum"][0] == "open"
    assert listing["q"]["schema"]["maxLength"] == 200
    search = params("/api/v1/search")
    assert search["limit"]["schema"]["type"] == "integer" and search["limit"]["schema"]["maximum"] == 50
    assert search["q"]["required"] is True and search["q"]["schema"]["minLength"] == 1
    for path in ("/api/v1/metrics", "/api/v1/reports/delegation"):
        period = params(path)
        assert "from_" not in period  # the alias the server reads
        assert period["from"]["schema"]["format"] == "date"
        assert re.match(period["from"]["schema"]["pattern"], "1970-01-01")
        assert not re.match(period["from"]["schema"]["pattern"], "0001-01-01")


def test_path_ids_are_bounded_integers(doc):
    for path, _method, op in operations(doc):
        for param in op.get("parameters", []):
            if param["in"] == "path":
                assert param["schema"] == {"type": "integer", "minimum": 1, "maximum": ID_MAX}
        if "{" in path:
            assert "404" in op["responses"], path


def test_every_status_the_plumbing_answers_is_documented(doc):
    for path, method, op in operations(doc):
        codes = set(op["responses"])
        assert {"400", "401", "403"} <= codes, (path, method)
        if "requestBody" in op:
            assert {"413", "415", "422"} <= codes, (path, method)
        if method != "get":
            assert "503" in codes, (path, method)
        for code, response in op["responses"].items():
            if code.startswith("4"):
                assert response["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


def test_optional_bodies_are_not_required(doc):
    def body(path: str) -> dict:
        return doc["paths"][path]["post"]["requestBody"]

    for action in ("approve", "pay", "cancel"):
        assert body(f"/api/v1/compensations/{{comp_id}}/{action}")["required"] is False
    assert body("/api/v1/apologies/{letter_id}/approve")["required"] is False
    assert body("/api/v1/incidents/{incident_id}/playbook")["required"] is False
    assert body("/api/v1/compensations/{comp_id}/reject")["required"] is True  # a reason
    assert body("/api/v1/incidents/{incident_id}/customers")["required"] is True  # a name, ...
    assert body("/api/v1/incidents")["required"] is True


def test_rules_no_schema_can_state_are_named(doc):
    schemas = doc["components"]["schemas"]
    grade = schemas["IncidentCreate"]["properties"]["grade"]
    assert "x-rule" in grade and grade["description"]
    customer = schemas["CompensationIn"]["properties"]["customer_id"]["anyOf"][0]
    assert customer["x-rule"] and customer["maximum"] == ID_MAX
    assert "x-rule" not in schemas["IncidentCreate"]["properties"]["title"]


# --- what the server does ----------------------------------------------------------------------

def test_405_says_which_methods_are_allowed(api):
    response = api("agent").delete("/api/v1/incidents")
    assert response.status_code == 405 and response.is_json
    assert response.json["error"]["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


@pytest.mark.parametrize("method", ["get", "put", "patch"])
def test_an_id_past_the_database_range_is_404_whatever_the_method(api, method):
    response = getattr(api("admin"), method)(f"/api/v1/incidents/{ID_MAX + 1}/postmortem",
                                             json={})
    assert response.status_code == 404 and response.is_json


@pytest.fixture
def proposal(api, make_incident):
    agent = api("agent")
    incident = make_incident(agent.user, customers=[CustomerData(name="Jiwoo Lee")])
    response = agent.post(f"/api/v1/incidents/{incident.id}/compensations",
                          json={"type": "refund", "amount": 10**9, "approve": False})
    assert response.status_code == 201, response.json
    assert response.json["status"] == "proposed"
    return response.json["id"]


@pytest.mark.parametrize("action", ["approve", "cancel"])
def test_an_empty_body_is_an_empty_object_where_nothing_is_required(api, proposal, action):
    admin = api("admin")
    # What `curl -X POST URL` sends: no Content-Type, no body.
    response = admin.client.post(f"/api/v1/compensations/{proposal}/{action}",
                                 headers=admin.headers)
    assert response.status_code == 200, response.json
    assert response.json["status"] == {"approve": "approved", "cancel": "cancelled"}[action]


def test_an_empty_body_is_still_refused_where_a_field_is_required(api, proposal):
    admin = api("admin")
    response = admin.client.post(f"/api/v1/compensations/{proposal}/reject", headers=admin.headers)
    assert response.status_code == 415


def test_bodies_are_read_strictly_but_5_0_is_an_integer(api, make_incident):
    agent = api("agent")
    incident = make_incident(agent.user)
    url = f"/api/v1/incidents/{incident.id}"
    refused = agent.patch(url, json={"affected_count": "12"})
    assert refused.status_code == 422 and "affected_count" in refused.json["error"]["fields"]
    assert agent.patch(url, json={"one_stop": "true"}).status_code == 422
    accepted = agent.patch(url, json={"affected_count": 12.0})
    assert accepted.status_code == 200 and accepted.json["affected_count"] == 12


def test_ids_in_bodies_are_bounded(api, make_incident):
    agent = api("agent")
    incident = make_incident(agent.user)
    response = agent.post(f"/api/v1/incidents/{incident.id}/compensations",
                          json={"type": "coupon", "amount": 5000, "customer_id": ID_MAX + 1})
    assert response.status_code == 422 and "customer_id" in response.json["error"]["fields"]


def test_playbook_updated_at_has_an_offset(api):
    lead = api("lead")
    made = lead.post("/api/v1/playbooks", json=PLAYBOOK)
    assert made.status_code == 201, made.json
    shown = lead.get(f"/api/v1/playbooks/{made.json['id']}")
    for body in (made.json, shown.json):
        assert datetime.fromisoformat(body["updated_at"]).utcoffset() is not None


def test_publishing_a_playbook_sent_twice_with_a_key_makes_one(api):
    lead = api("lead")
    headers = {"Idempotency-Key": "playbook-key-1"}
    first = lead.post("/api/v1/playbooks", json=PLAYBOOK, headers=headers)
    again = lead.post("/api/v1/playbooks", json=PLAYBOOK, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json == again.json and again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(func.count(Playbook.id))) == 1
    other = lead.post("/api/v1/playbooks", json={**PLAYBOOK, "title": "Other"}, headers=headers)
    assert other.status_code == 422
    assert other.json["error"]["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in other.json["error"]["fields"]


def test_an_empty_idempotency_key_is_refused(api):
    response = api("lead").post("/api/v1/playbooks", json=PLAYBOOK,
                                headers={"Idempotency-Key": ""})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_idempotency_key"
    assert db.session.scalar(select(func.count(Playbook.id))) == 0
