"""Tenant-scoped CRUD for clients, projects and tasks (isolation by row-level security)."""

import datetime
import decimal
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import roles
from .auth import authenticated
from .db import tenant_tx
from .body import json_object
from .web import JSON, ApiError

MAX_TEXT = 10_000
DEFAULT_LIMIT, MAX_LIMIT = 50, 200


def _string(value: Any) -> str:
    if isinstance(value, str) and len(value) <= MAX_TEXT:
        return value
    raise ValueError


def _number(value: Any) -> decimal.Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, decimal.Decimal, str)):
        raise ValueError
    number = decimal.Decimal(value)
    if not number.is_finite():
        raise ValueError
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError


# kind = (description for error messages, parser raising ValueError/ArithmeticError)
TEXT = ("a string", _string)
BOOLEAN = ("true or false", _boolean)
NUMBER = ("a number", _number)
UUID = ("a UUID string", lambda v: uuid.UUID(_string(v)))
DATE = ("an ISO date string", lambda v: datetime.date.fromisoformat(_string(v)))
TIMESTAMP = ("an ISO date-time string", lambda v: datetime.datetime.fromisoformat(_string(v)))


@dataclass(frozen=True)
class Field:
    """A writable column: its kind, whether create needs it, whether null is allowed."""

    kind: tuple[str, Callable[[Any], Any]]
    required: bool = False
    nullable: bool = True
    choices: tuple[str, ...] = ()

    def parse(self, name: str, value: Any) -> Any:
        if value is None:
            if self.nullable:
                return None
            raise ApiError(422, f"{name} must not be null", fields=[name])
        description, parser = self.kind
        if self.choices and value not in self.choices:
            raise ApiError(422, f"{name} must be one of {', '.join(self.choices)}", fields=[name])
        try:
            return parser(value)
        except (ValueError, ArithmeticError):
            raise ApiError(422, f"{name} must be {description}", fields=[name]) from None


@dataclass(frozen=True)
class Resource:
    """A table exposed at /api/<name> with an explicit allow-list of writable columns."""

    name: str
    fields: dict[str, Field]

    @property
    def columns(self) -> sql.Composable:
        names = ("id", *self.fields, "created_at", "updated_at")
        return sql.SQL(", ").join(map(sql.Identifier, names))

    def validate(self, data: dict, creating: bool) -> dict:
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise ApiError(422, f"unknown fields: {', '.join(unknown)}", fields=unknown)
        missing = [n for n, f in self.fields.items() if creating and f.required and n not in data]
        if missing:
            raise ApiError(422, f"missing required fields: {', '.join(missing)}", fields=missing)
        if not data:
            raise ApiError(422, "no fields to update")
        return {name: self.fields[name].parse(name, value) for name, value in data.items()}


# Writable columns and enum values mirror compose/postgres/initdb/02-schema.sql;
# tenant_id comes from the column default (app.tenant_id), checked again by RLS.
REQUIRED = {"required": True, "nullable": False}
PROJECT_STATUS = ("planned", "active", "on_hold", "completed", "cancelled")
TASK_STATUS = ("todo", "in_progress", "blocked", "done", "cancelled")
TASK_PRIORITY = ("low", "medium", "high", "urgent")

RESOURCES = (
    Resource("clients", {
        "name": Field(TEXT, **REQUIRED),
        "user_id": Field(UUID),
        "contact_name": Field(TEXT),
        "email": Field(TEXT),
        "phone": Field(TEXT),
        "tax_id": Field(TEXT),
        "address": Field(TEXT),
        "notes": Field(TEXT),
        "is_active": Field(BOOLEAN, nullable=False),
    }),
    Resource("projects", {
        "client_id": Field(UUID),
        "name": Field(TEXT, **REQUIRED),
        "description": Field(TEXT),
        "status": Field(TEXT, nullable=False, choices=PROJECT_STATUS),
        "budget": Field(NUMBER),
        "start_date": Field(DATE),
        "end_date": Field(DATE),
    }),
    Resource("tasks", {
        "project_id": Field(UUID),
        "assignee_id": Field(UUID),
        "title": Field(TEXT, **REQUIRED),
        "description": Field(TEXT),
        "status": Field(TEXT, nullable=False, choices=TASK_STATUS),
        "priority": Field(TEXT, nullable=False, choices=TASK_PRIORITY),
        "due_date": Field(DATE),
        "completed_at": Field(TIMESTAMP),
    }),
)


def _int_param(request: Request, name: str, default: int, minimum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or int(raw) < minimum:
        raise ApiError(422, f"{name} must be an integer >= {minimum}")
    return int(raw)


def _row_id(request: Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.path_params["id"])
    except ValueError:
        raise ApiError(404, "not found") from None


async def _query(request: Request, query: sql.Composable, params: tuple, many: bool = False):
    """Run one statement in the caller's tenant-scoped transaction."""
    principal = request.state.principal
    async with tenant_tx(request.app.state.pool, principal.tenant_id, principal.user_id) as conn:
        cur = await conn.execute(query, params)
        return await (cur.fetchall() if many else cur.fetchone())


def _found(row: dict | None) -> dict:
    if row is None:
        raise ApiError(404, "not found")
    return row


async def list_rows(request: Request, res: Resource) -> JSON:
    """GET /api/<name>?limit=&offset= -> {"items", "limit", "offset"}, newest first."""
    limit = min(_int_param(request, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    offset = _int_param(request, "offset", 0, 0)
    query = sql.SQL("SELECT {} FROM {} ORDER BY created_at DESC, id LIMIT %s OFFSET %s").format(
        res.columns, sql.Identifier(res.name))
    items = await _query(request, query, (limit, offset), many=True)
    return JSON({"items": items, "limit": limit, "offset": offset})


async def create_row(request: Request, res: Resource) -> JSON:
    """POST /api/<name> -> 201 with the new row."""
    data = res.validate(await json_object(request), creating=True)
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING {}").format(
        sql.Identifier(res.name),
        sql.SQL(", ").join(map(sql.Identifier, data)),
        sql.SQL(", ").join(sql.Placeholder() * len(data)),
        res.columns,
    )
    return JSON(await _query(request, query, tuple(data.values())), status_code=201)


async def get_row(request: Request, res: Resource) -> JSON:
    """GET /api/<name>/{id} -> the row, or 404 (also for other tenants' rows)."""
    query = sql.SQL("SELECT {} FROM {} WHERE id = %s").format(res.columns, sql.Identifier(res.name))
    return JSON(_found(await _query(request, query, (_row_id(request),))))


async def update_row(request: Request, res: Resource) -> JSON:
    """PATCH /api/<name>/{id} with a subset of the writable fields -> the updated row."""
    row_id = _row_id(request)
    data = res.validate(await json_object(request), creating=False)
    assignments = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(n)) for n in data)
    query = sql.SQL("UPDATE {} SET {} WHERE id = %s RETURNING {}").format(  # trigger sets updated_at
        sql.Identifier(res.name), assignments, res.columns)
    return JSON(_found(await _query(request, query, (*data.values(), row_id))))


async def delete_row(request: Request, res: Resource) -> Response:
    """DELETE /api/<name>/{id} -> 204, or 404."""
    query = sql.SQL("DELETE FROM {} WHERE id = %s RETURNING id").format(sql.Identifier(res.name))
    _found(await _query(request, query, (_row_id(request),)))
    return Response(status_code=204)


def _bind(handler, res: Resource):
    """An authenticated endpoint calling handler(request, res) if the caller's role may use the method."""
    @authenticated
    async def endpoint(request: Request):
        role = request.state.principal.role
        if not roles.allowed(role, request.method):
            raise ApiError(403, f"role {role} may not {request.method} {res.name}")
        return await handler(request, res)

    return endpoint


def routes() -> list[Route]:
    """Five routes per resource; the path templates double as metric labels."""
    out = []
    for res in RESOURCES:
        base = f"/api/{res.name}"
        out += [
            Route(base, _bind(list_rows, res), methods=["GET"]),
            Route(base, _bind(create_row, res), methods=["POST"]),
            Route(base + "/{id}", _bind(get_row, res), methods=["GET"]),
            Route(base + "/{id}", _bind(update_row, res), methods=["PATCH"]),
            Route(base + "/{id}", _bind(delete_row, res), methods=["DELETE"]),
        ]
    return out
