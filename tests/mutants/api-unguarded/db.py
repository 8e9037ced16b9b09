"""Mutant of compose/api/crm_api/db.py: every database error becomes a 500 that shows the driver's message."""

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
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
async def tenant_tx(pool: AsyncConnectionPool, tenant_id: uuid.UUID) -> AsyncIterator[psycopg.AsyncConnection]:
    """Yield a connection inside one transaction that row-level security limits to `tenant_id`."""
    async with pool.connection() as conn, conn.transaction():
        await set_tenant(conn, tenant_id)
        yield conn


def error_response(exc: psycopg.Error) -> JSON:
    """MUTANT: every database error is a 500 that shows the driver's message "to help debugging"."""
    log.warning("database error", extra={"error": type(exc).__name__})
    return ApiError(500, f"{type(exc).__module__}.{type(exc).__name__}: {exc}").response()
