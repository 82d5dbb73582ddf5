"""JSON API plumbing: bearer-token auth, body parsing, errors and the OpenAPI document.

Feature packages declare endpoints with `endpoint(...)`; the same declaration
validates requests and feeds `/api/v1/openapi.json`, so the document cannot
drift from the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

from flask import Blueprint, Flask, Response, g, jsonify, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema
from werkzeug.exceptions import BadRequest

from app import idempotency, users
from app.errors import DomainError, Forbidden
from app.extensions import csrf
from app.i18n import gettext as _
from app.models import Role

PREFIX = "/api/v1"


class ApiError(DomainError):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message, fields)
        self.status, self.code = status, code


@dataclass
class Route:
    rule: str
    method: str
    summary: str
    role: Role
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    tag: str = ""
    idempotent: bool = False  # takes an Idempotency-Key header (app.idempotency)


@dataclass
class Registry:
    routes: list[Route] = field(default_factory=list)


registry = Registry()


def api_user():
    return g.api_user


def created_once(kind: str, content: object, make: Callable[[], int],
                 body: Callable[[int], dict]) -> Response:
    """201 with `body` of what `make` made (it returns the new id), made once per
    Idempotency-Key header: a replay makes nothing and says so in a header. An endpoint that
    answers with it is declared `idempotent=True`, so the OpenAPI document shows the header."""
    outcome = idempotency.once(api_user().id, request.headers.get(idempotency.HEADER), kind,
                               content, make)
    response = jsonify(body(outcome.target_id))
    response.status_code = 201
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def pydantic_fields(err: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for problem in err.errors():
        name = ".".join(str(part) for part in problem["loc"]) or "body"
        fields.setdefault(name, problem["msg"])
    return fields


def _json_body() -> dict:
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", _("Send a JSON body with "
                                                        "Content-Type: application/json."))
    try:
        data = request.get_json()
    except BadRequest:  # silent=True would also turn a valid `null` into "not valid JSON"
        raise ApiError(400, "invalid_json", _("The body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ApiError(422, "validation_failed", _("The body must be a JSON object."))
    return data


def endpoint(bp: Blueprint, rule: str, method: str, *, summary: str, role: Role = Role.viewer,
             body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
             response: type[BaseModel] | None = None, status: int = 200,
             errors: tuple[int, ...] = (), idempotent: bool = False):
    registry.routes.append(Route(rule, method, summary, role, body, query, response, status,
                                 errors, bp.name.removesuffix("_api"), idempotent))

    def decorator(view):
        @wraps(view)
        def wrapped(**kwargs):
            user = api_user()
            if not user.can(role):
                raise Forbidden(_("Your role (%(role)s) may not do this.", role=user.role.value))
            try:
                if body is not None:
                    kwargs["data"] = body.model_validate(_json_body())
                if query is not None:
                    kwargs["params"] = query.model_validate(request.args.to_dict())
            except ValidationError as err:
                raise ApiError(422, "validation_failed", _("Some fields need attention."),
                               pydantic_fields(err)) from None
            result = view(**kwargs)
            if isinstance(result, Response):
                return result
            return jsonify(result), status
        bp.add_url_rule(rule, view.__name__, wrapped, methods=[method])
        return wrapped
    return decorator


def _authenticate():
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    user = users.user_for_token(token.strip()) if scheme.lower() == "bearer" and token else None
    if user is None:
        raise ApiError(401, "unauthorized", _("Send a valid API token: Authorization: Bearer TOKEN."))
    g.api_user = user


meta = Blueprint("api", __name__)


@meta.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


def register(app: Flask, blueprints: list[Blueprint]) -> None:
    guarded = {bp.name for bp in blueprints}
    app.config["API_BLUEPRINTS"] = {"api", *guarded}
    csrf.exempt(meta)
    app.register_blueprint(meta, url_prefix=PREFIX)
    for bp in blueprints:
        # Token auth only: a browser's session cookie never authorises an API call,
        # which is what makes exempting these blueprints from CSRF safe.
        csrf.exempt(bp)
        app.register_blueprint(bp, url_prefix=PREFIX)

    @app.before_request
    def _api_gate():
        if request.blueprint in guarded:
            _authenticate()


def is_api_request() -> bool:
    return request.path.startswith(PREFIX + "/") or request.path == PREFIX


_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                   "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}}}

_ERROR_TEXT = {400: "Bad request", 401: "Missing or invalid token", 403: "Role may not do this",
               404: "Not found", 409: "Conflict with the current state",
               415: "Body is not JSON", 422: "Validation failed"}


_IDEMPOTENCY_TEXT = (
    "Optional. Send the same key again (say after a lost answer) and nothing new is made: the "
    "answer is what the first request made, with the header Idempotent-Replayed: true. The "
    "same key with a different body is refused (422, idempotency_key_reused). Keys are per "
    "user: 8 to 64 printable ASCII characters without spaces.")


def _path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", PREFIX + rule)


def openapi_document() -> dict:
    models = {m for r in registry.routes for m in (r.body, r.query, r.response) if m}
    _keys, schema = models_json_schema([(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
                                       ref_template="#/components/schemas/{model}")
    components = schema.get("$defs", {})
    components["Error"] = _ERROR
    paths: dict[str, dict] = {}
    for route in registry.routes:
        op: dict = {"summary": route.summary, "tags": [route.tag],
                    "description": f"Needs role {route.role.value} or above.",
                    "security": [{"bearer": []}], "responses": {}}
        params = [{"name": n, "in": "path", "required": True, "schema": {"type": "integer"}}
                  for n in re.findall(r"<int:([a-z_]+)>", route.rule)]
        if route.query is not None:
            for name, info in route.query.model_fields.items():
                params.append({"name": name, "in": "query", "required": info.is_required(),
                               "description": info.description or "",
                               "schema": {"type": "string"}})
        if route.idempotent:
            params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                           "description": _IDEMPOTENCY_TEXT,
                           "schema": {"type": "string", "minLength": 8, "maxLength": 64}})
        if params:
            op["parameters"] = params
        if route.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{route.body.__name__}"}}}}
        ok: dict = {"description": "Success"}
        if route.response is not None:
            ok["content"] = {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{route.response.__name__}"}}}
        op["responses"][str(route.status)] = ok
        codes = {401, 403, *route.errors}
        if route.body is not None:
            codes |= {400, 415, 422}
        if route.query is not None:
            codes.add(422)
        for code in sorted(codes):
            op["responses"][str(code)] = {"description": _ERROR_TEXT.get(code, "Error"),
                                          "content": {"application/json": {
                                              "schema": {"$ref": "#/components/schemas/Error"}}}}
        paths.setdefault(_path(route.rule), {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Incidentbook API", "version": "1"},
        "servers": [{"url": "/"}],
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": dict(sorted(paths.items())),
    }
