"""JSON API plumbing: bearer-token auth, body parsing, errors and the OpenAPI document.

Feature packages declare endpoints with `endpoint(...)`; the same declaration
validates requests and feeds `/api/v1/openapi.json`, so the document cannot
drift from the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, wraps
from typing import Annotated, Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, ValidationError
from pydantic.json_schema import models_json_schema
from werkzeug.exceptions import BadRequest

from app import bounds, idempotency, users
from app.errors import DomainError, Forbidden
from app.extensions import csrf
from app.i18n import gettext as _
from app.models import Role
from app.textcheck import bad_text
from app.timeutil import as_utc

PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"


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


def iso(value: datetime | None) -> str | None:
    """A stored time as every answer gives it: ISO 8601 in UTC, offset included (SQLite hands
    back naive times, and `date-time` in the document means one with an offset)."""
    value = as_utc(value)
    return value.isoformat() if value else None


# --- field types: what the server accepts, said the same way to pydantic and to the document ----

def _storable(value: str) -> str:
    if bad_text(value):
        raise ValueError("contains characters that cannot be stored (NUL or lone surrogates)")
    return value


# NUL cannot be stored (PostgreSQL refuses it); neither can an unpaired surrogate, which a JSON
# Schema pattern cannot portably name, so only the description says so. Bodies trim surrounding
# spaces before the length is counted, so "not blank" is part of the pattern.
NO_NUL = r"^[^\x00]*$"
NOT_BLANK = r"^[^\x00]*[^\x00\s][^\x00]*$"


def text(max_length: int, *, required: bool = False) -> Any:
    """A string of at most `max_length` characters that any column can hold; `required`: one
    that is not blank once trimmed."""
    return Annotated[str, Field(min_length=1 if required else 0, max_length=max_length,
                                json_schema_extra={"pattern": NOT_BLANK if required else NO_NUL}),
                     AfterValidator(_storable)]


RULE = "x-rule"


def rule(sentence: str) -> Any:
    """Field metadata for a rule no JSON Schema can state: one that depends on stored records
    (an unknown grade, a customer of another incident) or on another field (a period's end
    before its start). The document carries it as `x-rule`, so a client knows that a value the
    schema allows may still be refused with 422 naming this field, and the API fuzzing
    (tests/api_fuzz) accepts such a 422 for these fields only."""
    return Field(description=sentence, json_schema_extra={RULE: sentence})


def _whole(value):
    return int(value) if isinstance(value, float) and value.is_integer() else value


def whole(ge: int, le: int) -> Any:
    """An integer from `ge` to `le` in a body. Bodies are read strictly ("5" and true are not
    integers), but JSON Schema counts 5.0 an integer, so it is taken as 5. (The bounds go
    inside the conversion, or pydantic's schema says `ge` where JSON Schema says `minimum`.)"""
    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(_whole)]


# A record's id in a body, bounded as the ids in paths are (app.bounds.IdConverter).
Id = Annotated[int, bounds.id_field(), BeforeValidator(_whole)]


_EMAIL = re.compile(r"[^@\s\x00]+@[^@\s\x00]+")


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError("not an e-mail address (name@domain)")
    return value


# A user's address, to look them up by: whether it is anyone's is the lookup's answer (422 when
# not), so no stricter syntax than name@domain is asked for; bodies trim surrounding spaces.
Email = Annotated[str, Field(max_length=254, json_schema_extra={
    "pattern": r"^\s*[^@\s\x00]+@[^@\s\x00]+\s*$"}), AfterValidator(_email)]


def created_once(kind: str, content: object, make: Callable[[], int],
                 body: Callable[[int], dict]) -> Response:
    """201 with `body` of what `make` made (it returns the new id), made once per
    Idempotency-Key header: a replay makes nothing and says so in a header. An endpoint that
    answers with it is declared `idempotent=True`, so the OpenAPI document shows the header."""
    key = request.headers.get(idempotency.HEADER)
    if key == "":  # sent, but empty: a client's bug, not "no key"
        raise idempotency.BadKey(_("The idempotency key must be 8 to 64 printable ASCII "
                                   "characters without spaces."))
    try:
        outcome = idempotency.once(api_user().id, key, kind, content, make)
    except idempotency.KeyReused as err:  # say which input it is, as a field's error does
        err.fields = {idempotency.HEADER: err.message}
        raise
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


@cache
def optional_body(model: type[BaseModel]) -> bool:
    """Whether `{}` is a valid body: then an empty one (`curl -X POST`, no Content-Type)
    means `{}` too, and the document says the body is not required."""
    schema = model.model_json_schema()
    return not schema.get("required") and not any(k in schema for k in ("anyOf", "oneOf"))


def _json_body(optional: bool = False) -> dict:
    if optional and not request.get_data(cache=True):
        return {}
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", _("Send a JSON body with "
                                                        "Content-Type: application/json."))
    if bounds.json_too_deep(request.get_data(cache=True)):
        raise ApiError(400, "invalid_json", _("The body nests deeper than %(n)s levels.",
                                              n=bounds.JSON_MAX_DEPTH))
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
                    # Strict, as JSON: "5" is not an integer nor "true" a boolean, as the
                    # document says, while dates and enums still come as strings.
                    data = _json_body(optional_body(body))
                    kwargs["data"] = body.model_validate_json(
                        request.get_data(cache=True) if data else b"{}", strict=True)
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

_ERROR_TEXT = {400: "Bad request: unreadable JSON or query string, or a malformed Idempotency-Key",
               401: "Missing or invalid token", 403: "Role may not do this",
               404: "Not found", 409: "Conflict with the current state",
               413: "Body too large", 415: "Body is not JSON", 422: "Validation failed",
               503: "The database was busy; nothing was saved: send it again"}


_IDEMPOTENCY_TEXT = (
    "Optional. Send the same key again (say after a lost answer) and nothing new is made: the "
    "answer is what the first request made, with the header Idempotent-Replayed: true. The "
    "same key with a different body is refused (422, idempotency_key_reused). Keys are per "
    "user: 8 to 64 printable ASCII characters without spaces.")
_IDEMPOTENCY_KEY = {"type": "string", "minLength": 8, "maxLength": 64, "pattern": "^[!-~]{8,64}$",
                    RULE: "Not a key this user already sent with a different request"}
_REPLAYED = {"Idempotent-Replayed": {
    "description": "true when an earlier request with this Idempotency-Key made it",
    "required": False, "schema": {"type": "string", "enum": ["true"]}}}


def _path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", PREFIX + rule)


def _query_schema(schema: dict) -> dict:
    """A query model field's JSON schema as a query parameter's: a parameter is either absent
    or a string, so `None` (not sent) is not one of its values."""
    schema = {k: v for k, v in schema.items() if k != "title"}
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        del schema["anyOf"]
        schema = {**options[0], **schema} if len(options) == 1 else {**schema, "anyOf": options}
    if schema.get("default", 0) is None:
        del schema["default"]
    if schema.get("type") == "string" and not schema.keys() & {"pattern", "enum", "format"}:
        schema["pattern"] = NO_NUL  # app.errorpages refuses a query string holding NUL (400)
    return schema


def _query_parameters(model: type[BaseModel], components: dict) -> list[dict]:
    """Each field of a query model with its real type and bounds (by its alias: `from`)."""
    schema = model.model_json_schema(ref_template=REF)
    components.update(schema.get("$defs", {}))
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = _query_schema(prop)
        params.append({"name": name, "in": "query", "required": name in required,
                       "description": prop.pop("description", ""), "schema": prop})
    return params


def _status_codes(route: Route) -> set[int]:
    """Every status the plumbing itself may answer for the route, besides its own `errors`."""
    codes = {400, 401, 403, *route.errors}  # 400: a query string that cannot be read (NUL)
    if "<" in route.rule:
        codes.add(404)  # an id that is no record's
    if route.body is not None:
        codes |= {413, 415, 422}
    if route.query is not None:
        codes.add(422)
    if route.method != "GET":
        codes.add(503)  # SQLite's write lock not had in time (app.errorpages.busy)
    return codes


def _allows_null(schema: dict) -> bool:
    kinds = schema.get("type")
    return (kinds == "null" or isinstance(kinds, list) and "null" in kinds
            or any(_allows_null(s) for s in schema.get("anyOf", [])))


def _without_null_defaults(schemas: dict) -> dict:
    """`x: str = None` (absent: unchanged; never null) is no `default: null` in the document."""
    for schema in schemas.values():
        for prop in schema.get("properties", {}).values():
            if "default" in prop and prop["default"] is None and not _allows_null(prop):
                del prop["default"]
    return schemas


def openapi_document() -> dict:
    models = {m for r in registry.routes for m in (r.body, r.query, r.response) if m}
    _keys, schema = models_json_schema([(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
                                       ref_template=REF)
    components = _without_null_defaults(schema.get("$defs", {}))
    components["Error"] = _ERROR
    paths: dict[str, dict] = {}
    for route in registry.routes:
        op: dict = {"summary": route.summary, "tags": [route.tag],
                    "description": f"Needs role {route.role.value} or above.",
                    "security": [{"bearer": []}], "responses": {}}
        params = [{"name": n, "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 1, "maximum": bounds.ID_MAX}}
                  for n in re.findall(r"<int:([a-z_]+)>", route.rule)]
        if route.query is not None:
            params += _query_parameters(route.query, components)
        if route.idempotent:
            params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                           "description": _IDEMPOTENCY_TEXT, "schema": _IDEMPOTENCY_KEY})
        if params:
            op["parameters"] = params
        if route.body is not None:
            op["requestBody"] = {"required": not optional_body(route.body),
                                 "content": {"application/json": {
                                     "schema": {"$ref": REF.format(model=route.body.__name__)}}}}
        ok: dict = {"description": "Success"}
        if route.response is not None:
            ok["content"] = {"application/json": {
                "schema": {"$ref": REF.format(model=route.response.__name__)}}}
        if route.idempotent:
            ok["headers"] = _REPLAYED
        op["responses"][str(route.status)] = ok
        for code in sorted(_status_codes(route)):
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
