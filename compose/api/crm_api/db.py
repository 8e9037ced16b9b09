"""PostgreSQL connection pool, tenant-scoped transactions and error mapping."""

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg import errors
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from .settings import Settings
from .web import JSON, ApiError

log = logging.getLogger(__name__)


def make_pool(cfg: Settings) -> AsyncConnectionPool:
    """Create (unopened) pool; connections fail fast and statements are time-limited."""
    return AsyncConnectionPool(
        min_size=2,
        max_size=10,
        timeout=5,
        open=False,
        name="crm",
        kwargs={
            "host": cfg.pghost,
            "port": cfg.pgport,
            "dbname": cfg.pgdatabase,
            "user": cfg.pguser,
            "password": cfg.pg_password,
            "application_name": "crm-api",
            "connect_timeout": 5,
            "options": "-c statement_timeout=5000",
            "row_factory": dict_row,
        },
    )


async def set_tenant(conn: psycopg.AsyncConnection, tenant_id: uuid.UUID) -> None:
    """Scope the current transaction to one tenant (SET LOCAL app.tenant_id)."""
    await conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant_id),))


@asynccontextmanager
async def live_connection(pool: AsyncConnectionPool) -> AsyncIterator[psycopg.AsyncConnection]:
    """A pooled connection that answers. Connections that died with their server (a restart, a restore) go back
    to the pool, which drops them, so no request fails for a connection that is already gone."""
    for _ in range(pool.max_size):
        async with pool.connection() as conn:
            try:
                await conn.execute("")
            except psycopg.OperationalError:
                continue
            yield conn
            return
    async with pool.connection() as conn:
        yield conn


@asynccontextmanager
async def tenant_tx(pool: AsyncConnectionPool, tenant_id: uuid.UUID,
                    user_id: uuid.UUID | None = None) -> AsyncIterator[psycopg.AsyncConnection]:
    """Yield a connection inside one transaction that row-level security limits to `tenant_id`; the audit trail
    names `user_id` (SET LOCAL app.user_id) as the actor of its writes."""
    async with live_connection(pool) as conn, conn.transaction():
        await set_tenant(conn, tenant_id)
        if user_id is not None:
            await conn.execute("SELECT set_config('app.user_id', %s, true)", (str(user_id),))
        yield conn


def error_response(exc: psycopg.Error) -> JSON:
    """Map a database error to a JSON response without leaking row values."""
    constraint = getattr(exc.diag, "constraint_name", None)
    extra = {"constraint": constraint} if constraint else {}
    if isinstance(exc, errors.UniqueViolation):
        err = ApiError(409, "conflicts with an existing record", **extra)
    elif isinstance(exc, errors.InsufficientPrivilege):  # includes RLS WITH CHECK failures
        err = ApiError(403, "not permitted")
    elif isinstance(exc, (psycopg.IntegrityError, psycopg.DataError)):
        err = ApiError(422, "invalid or inconsistent value", **extra)
    elif isinstance(exc, psycopg.OperationalError):  # includes pool timeouts
        err = ApiError(503, "database unavailable")
    else:
        err = ApiError(500, "internal error")
    if err.status >= 500 or err.status == 403:  # outages, or RLS/grant misconfiguration
        log.warning("database error", extra={"error": type(exc).__name__})
    return err.response()
