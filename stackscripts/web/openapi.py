"""The OpenAPI document of the dashboard, written from its route table (web/routes.py): every route is in it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .. import __version__
from .routes import Route

_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")

ENVELOPE = {
    "type": "object",
    "required": ["api_version", "command", "ok", "data", "error"],
    "properties": {
        "api_version": {"type": "string", "example": "stackscripts/v1"},
        "command": {"type": "string", "description": "The CLI command whose --json data this is."},
        "ok": {"type": "boolean"},
        "data": {"description": "What the CLI command prints under --json as `data`."},
        "error": {"type": "object", "nullable": True, "properties": {
            "type": {"type": "string"}, "message": {"type": "string"}, "exit_code": {"type": "integer"}}},
    },
}

_ERRORS = {"400": "Bad input (exit 2)", "401": "No valid token", "403": "Not allowed (a viewer acting; no CSRF token)",
           "404": "Unknown, or another team's", "409": "Conflict (a busy server, a wrong state)"}


def _operation(route: Route) -> dict[str, Any]:
    params: list[dict[str, Any]] = []
    for name, kind in _PARAM.findall(route.path):
        params.append({"name": name, "in": "path", "required": True,
                       "schema": {"type": "integer" if kind == "int" else "string"}})
    for name in route.query:
        params.append({"name": name, "in": "query", "required": False, "schema": {"type": "string"}})
    if route.kind == "api":
        ok: dict[str, Any] = {"description": "The envelope", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}}}
    elif route.kind == "live":
        ok = {"description": "Server-sent events: step, output (id: its seq), run", "content": {
            "text/event-stream": {"schema": {"type": "string"}}}}
    elif route.kind == "action":
        ok = {"description": "See Other: the run's page, the queued fleet or the server"}
    else:
        ok = {"description": "An HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}
    status = "303" if route.kind == "action" else "200"
    operation: dict[str, Any] = {
        "summary": route.summary, "operationId": f"{route.method.lower()}_{_slug(route.path)}",
        "tags": [route.kind], "parameters": params,
        "responses": {status: ok, **{code: {"description": text} for code, text in _ERRORS.items()}},
    }
    if route.method == "POST":
        operation["requestBody"] = {"required": False, "content": {"application/x-www-form-urlencoded": {
            "schema": {"type": "object", "properties": {name: {"type": "string"} for name in route.query}}}}}
        operation["description"] = ("Operators only. A browser's form sends the CSRF token (field csrf_token, or "
                                    "the X-CSRF-Token header); a request with 'Authorization: Bearer' needs none.")
    return operation


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", _PARAM.sub(r"\1", path).lower()).strip("_") or "root"


def document(routes: Sequence[Route], extra: Sequence[tuple[str, str, str]] = ()) -> dict[str, Any]:
    """OpenAPI 3.0 for the routes (and `extra` ones the app serves itself: method, path, summary)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(_PARAM.sub(r"{\1}", route.path), {})[route.method.lower()] = _operation(route)
    for method, path, summary in extra:
        paths.setdefault(path, {})[method.lower()] = {"summary": summary, "operationId": f"{method.lower()}_"
                                                      f"{_slug(path)}", "responses": {"200": {"description": "OK"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "stackscripts dashboard", "version": __version__,
                 "description": "The JSON API answers with the CLI's envelopes: the same data as the matching "
                                "command's --json. Authenticate with 'Authorization: Bearer TOKEN' (stackscripts "
                                "tokens create); without tokens the dashboard answers only on loopback."},
        "components": {"schemas": {"Envelope": ENVELOPE},
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }
