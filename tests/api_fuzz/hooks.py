"""Schemathesis hooks for tests/api_fuzz: positive_data_acceptance, minus the rules the
document itself says no JSON Schema can state.

A field whose schema carries `x-rule` (app.api.rule) may be refused with 422 although its value
matches the schema: a grade's name that no grade has, a customer of another incident, a period
whose end comes before its start. The built-in check would call each of those a schema-valid
request wrongly rejected. This one accepts a 422 only when every field the error names is such
a field; a 422 naming any other field (a bound the document left out, a field the server
reads differently) still fails, as does any other status the built-in check refuses.
"""

from __future__ import annotations

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

RULE = "x-rule"  # app.api.RULE; this module runs in Schemathesis' process, not the app's


def _resolve(node: dict, document: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _options(node: dict, document: dict) -> list[dict]:
    """The node and, for `X | None` and the like, each of its alternatives."""
    node = _resolve(node, document)
    return [node, *(_resolve(n, document) for n in node.get("anyOf", []) + node.get("oneOf", []))]


def _ruled(node: dict, path: list[str], document: dict) -> bool:
    """Whether the schema `path` leads to (through properties and items) carries a rule."""
    for option in _options(node, document):
        # At the end of the path; for a list, a service may name it for one of its items.
        if not path and (RULE in option or "items" in option and _ruled(option["items"], [],
                                                                        document)):
            return True
        if not path:
            continue
        step, rest = path[0], path[1:]
        if step.isdigit() and "items" in option:
            inner = option["items"]
        elif step in option.get("properties", {}):
            inner = option["properties"][step]
        else:
            continue
        if _ruled(inner, rest, document):
            return True
    return False


def _only_ruled_fields(case, response) -> bool:
    try:
        fields = response.json()["error"]["fields"]
    except (ValueError, KeyError, TypeError):
        return False
    if not fields:
        return False
    document = case.operation.schema.raw_schema
    operation = case.operation.definition.raw
    body = (operation.get("requestBody", {}).get("content", {})
            .get("application/json", {}).get("schema", {}))
    params = {p["name"]: p["schema"] for p in operation.get("parameters", [])
              if p.get("in") in ("query", "header")}
    for name in fields:
        path = name.split(".")
        if path[0] in params and len(path) == 1:
            if not _ruled(params[path[0]], [], document):
                return False
        elif not (_ruled(body, path, document) or _ruled_anywhere(body, path[-1], document)):
            return False
    return True


def _ruled_anywhere(node: dict, name: str, document: dict, depth: int = 0) -> bool:
    """A service names a field by its own name (`grade`), not by where it sits in the body
    (`rules.0.grade`): any property of that name with a rule, at any depth."""
    if depth > 8:
        return False
    for option in _options(node, document):
        properties = option.get("properties", {})
        if name in properties and _ruled(properties[name], [], document):
            return True
        inner = [*properties.values(), *([option["items"]] if "items" in option else [])]
        if any(_ruled_anywhere(n, name, document, depth + 1) for n in inner):
            return True
    return False


@schemathesis.check
def positive_data_acceptance_by_rule(ctx, response, case) -> bool | None:
    """positive_data_acceptance, except a 422 naming only fields that carry an `x-rule`."""
    if response.status_code == 422 and _only_ruled_fields(case, response):
        return None
    return positive_data_acceptance(ctx, response, case)
