"""The OpenAPI 3.1 description of the engine's API (`GET /api/openapi.json`), written from the
same field rules the handlers check (acd/orders/bodies.py), with the center's own choices (its
handling units, the centers it exchanges orders with). `openapi-spec-validator` checks it and
schemathesis runs it against the running app in the suite (tests/test_orders_api_fuzz.py)."""

from __future__ import annotations

from typing import Any

from acd.orders import bodies, service
from acd.orders.fields import INT_MAX, Field, schema
from hotline.center import DOMAINS, ORDER_TYPES, Center

JSON = "application/json"
ERRORS = {"400": "a field is wrong (the message names it)", "401": "no or unknown token",
          "403": "not for this role, or not this actor's object",
          "404": "no such object (or not one the actor may see)",
          "409": "the object's state does not allow it now"}


def _error_ref() -> dict[str, Any]:
    return {"content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _op(summary: str, op_id: str, ok: str = "200", body: dict[str, Field] | None = None,
        ok_schema: dict[str, Any] | None = None, params: list[dict[str, Any]] | None = None,
        also: tuple[str, ...] = (), errors: tuple[str, ...] = ("400", "401", "403", "404",
                                                                 "409")) -> dict[str, Any]:
    responses: dict[str, Any] = {
        ok: {"description": "done",
             "content": {JSON: {"schema": ok_schema or {"type": ["object", "array"]}}}}}
    for code in also:
        responses[code] = {"description": "done",
                           "content": {JSON: {"schema": ok_schema or {"type": "object"}}}}
    for code in errors:
        responses[code] = {"description": ERRORS.get(code, "refused"), **_error_ref()}
    op: dict[str, Any] = {"summary": summary, "operationId": op_id,
                          "security": [{"bearer": []}], "responses": responses}
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {"required": False, "content": {JSON: {"schema": schema(body)}}}
    return op


ID = {"name": "id", "in": "path", "required": True,
      "schema": {"type": "integer", "minimum": 1, "maximum": INT_MAX}}
ORDER = {"$ref": "#/components/schemas/Order"}


def describe(center: Center) -> dict[str, Any]:
    """The description for this center."""
    paths: dict[str, Any] = {
        "/api/live": {"get": _op("the live snapshot: queues, seats, nodes", "live",
                                 errors=("401", "403"))},
        "/api/metrics": {"get": {**_op("Prometheus metrics", "metrics", errors=("401", "403")),
                                 "responses": {"200": {"description": "text",
                                                       "content": {"text/plain": {
                                                           "schema": {"type": "string"}}}},
                                               "401": {"description": ERRORS["401"],
                                                       **_error_ref()},
                                               "403": {"description": ERRORS["403"],
                                                       **_error_ref()}}}},
        "/api/seats/{seat}/{action}": {"post": {
            **_op("a seat action", "seat_action", errors=("400", "401", "403", "404", "409",
                                                          "502")),
            "parameters": [
                {"name": "seat", "in": "path", "required": True,
                 "schema": {"type": "string", "maxLength": 8}},
                {"name": "action", "in": "path", "required": True,
                 "schema": {"enum": ["signin", "signout", "busy", "ready", "end-wrapup"]}}],
            "requestBody": {"required": False, "content": {JSON: {"schema": {
                "type": "object", "properties": {
                    "reason": {"enum": list(center.busy_reasons)},
                    "queues": {"type": "array", "items": {"type": "string"}}}}}}}}},
        "/api/orders": {
            "get": _op("the orders the actor may see", "list_orders", params=[
                {"name": "status", "in": "query", "required": False,
                 "schema": {"enum": list(bodies.STATUSES)}},
                {"name": "overdue", "in": "query", "required": False,
                 "schema": {"enum": ["0", "1"]}},
                {"name": "q", "in": "query", "required": False,
                 "description": "an order's number, a caller's number or words of its content",
                 "schema": {"type": "string", "maxLength": 100}},
                {"name": "type", "in": "query", "required": False,
                 "schema": {"enum": list(ORDER_TYPES)}},
                {"name": "domain", "in": "query", "required": False,
                 "schema": {"enum": list(DOMAINS)}},
                {"name": "unit", "in": "query", "required": False,
                 "schema": {"enum": [u.code for u in center.units]} if center.units
                 else {"type": "string"}},
                *({"name": key, "in": "query", "required": False,
                   "description": f"{what} (a day of the center's time zone, of acceptance)",
                   "schema": {"type": "string", "format": "date"}}
                  for key, what in (("since", "from this day"), ("until", "to this day, "
                                                                  "inclusive"))),
                {"name": "page", "in": "query", "required": False,
                 "description": "50 a page, newest first (without it: the newest 200); the "
                                "page is echoed in the X-Page header",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100000}}],
                errors=("400", "401", "403")),
            "post": _op("accept a work order", "create_order", ok="201", body=bodies.create(),
                        ok_schema=ORDER)},
        "/api/orders/{id}": {"get": _op("one work order with its history", "get_order",
                                        params=[ID], ok_schema=ORDER,
                                        errors=("401", "403", "404"))},
        "/api/12345/orders": {"post": _op(
            "an order transferred from 12345: 201 the first time, 200 after (same id)",
            "intake_12345", ok="201", also=("200",), body=bodies.intake(),
            errors=("400", "401", "403", "409"))},
        "/api/kb": {"get": _op("knowledge search", "kb_search", params=[
            {"name": "q", "in": "query", "required": False,
             "schema": {"type": "string", "maxLength": 200}}], errors=("400", "401", "403")),
            "post": _op("add a knowledge entry", "kb_add", ok="201",
                        body=bodies.knowledge_entry())},
        "/api/kb/export": {"get": _op("the knowledge base in the exchange format", "kb_export",
                                      errors=("401", "403"))},
        "/api/kb/import": {"post": {**_op("entries in the exchange format", "kb_import"),
                                    "requestBody": {"required": True, "content": {JSON: {
                                        "schema": {"$ref": "#/components/schemas/Knowledge"}}}}}},
    }
    for action in sorted(service.ALL_ACTIONS):
        paths[f"/api/orders/{{id}}/{action}"] = {"post": _op(
            f"{action} (acd/orders/service.py)", f"order_{action}", params=[ID],
            body=bodies.action(center, action), ok_schema=ORDER)}
    entry = schema(bodies.knowledge_entry(with_ref=True))
    return {
        "openapi": "3.1.0",
        "info": {"title": "hotline12328 engine API", "version": "2",
                 "description": "Work orders, the back office, 12345 and the knowledge base "
                                f"of center {center.code}. Errors are {{\"error\": \"...\"}}."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"],
                          "properties": {"error": {"type": "string"}}},
                "Order": {"type": "object", "required": ["id", "status", "type", "domain"],
                          "properties": {"id": {"type": "integer"},
                                         "status": {"enum": list(bodies.STATUSES)},
                                         "type": {"type": "string"},
                                         "domain": {"type": "string"}}},
                "Knowledge": {"type": "object", "additionalProperties": False,
                              "required": ["format", "entries"],
                              "properties": {"format": {"const": "hotline12328-kb/1"},
                                             "center": {"type": "string"},
                                             "entries": {"type": "array", "items": entry,
                                                         "maxItems": 10_000}}}}},
        "paths": paths,
    }
