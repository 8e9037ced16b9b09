"""MUTANT (api-fragile): debug on, and database and Redis errors left unhandled, so an outage is a 500
with a traceback."""

import asyncio
import logging
from contextlib import asynccontextmanager

import psycopg
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route

from . import auth, db, resources, settings
from .metrics import Observe, metrics
from .web import JSON, ApiError

log = logging.getLogger("crm_api")
TIMEOUT_S = 2.0  # Redis socket and health-check timeout


@asynccontextmanager
async def lifespan(app: Starlette):
    """Open the PostgreSQL pool and Redis client for the process lifetime."""
    cfg = settings.load()
    app.state.settings = cfg
    app.state.pool = db.make_pool(cfg)
    app.state.redis = aioredis.Redis(
        host=cfg.redis_host,
        port=cfg.redis_port,
        username=cfg.redis_user,
        password=cfg.redis_password,
        socket_timeout=TIMEOUT_S,
        socket_connect_timeout=TIMEOUT_S,
        health_check_interval=30,
        # Pooled connections die when Redis restarts; session commands are idempotent, so retry them.
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        decode_responses=True,
    )
    await app.state.pool.open()
    log.info("started")
    try:
        yield
    finally:
        await app.state.redis.close()
        await app.state.pool.close()


async def _probe(name: str, check) -> str:
    try:
        await asyncio.wait_for(check, TIMEOUT_S)
        return "ok"
    except Exception as exc:
        log.warning("health check failed", extra={"error": f"{name}: {type(exc).__name__}"})
        return "error"


async def _pg_ping(pool) -> None:
    async with pool.connection(timeout=TIMEOUT_S) as conn:
        await conn.execute("SELECT 1")


async def health(request: Request) -> JSON:
    """GET /health: 200 when PostgreSQL and Redis both answer, else 503."""
    state = request.app.state
    pg, rd = await asyncio.gather(_probe("postgres", _pg_ping(state.pool)), _probe("redis", state.redis.ping()))
    ok = pg == rd == "ok"
    return JSON({"status": "ok" if ok else "error", "postgres": pg, "redis": rd}, 200 if ok else 503)


async def _api_error(request: Request, exc: ApiError) -> JSON:
    return exc.response()


async def _http_error(request: Request, exc: HTTPException) -> JSON:
    return JSON({"error": exc.detail.lower()}, exc.status_code, headers=exc.headers)


async def _db_error(request: Request, exc: psycopg.Error) -> JSON:
    return db.error_response(exc)


async def _redis_error(request: Request, exc: RedisError) -> JSON:
    log.warning("redis error", extra={"error": type(exc).__name__})
    return JSON({"error": "session store unavailable"}, 503)


app = Starlette(
    routes=[
        Route("/health", health, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/auth/login", auth.login, methods=["POST"]),
        Route("/auth/logout", auth.logout, methods=["POST"]),
        Route("/auth/me", auth.me, methods=["GET"]),
        *resources.routes(),
    ],
    middleware=[Middleware(Observe)],
    exception_handlers={
        ApiError: _api_error,
        HTTPException: _http_error,
    },
    lifespan=lifespan,
    debug=True,  # the mutant: tracebacks in answers
)
