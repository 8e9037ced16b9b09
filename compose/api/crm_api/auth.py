"""Login/logout, bearer-token verification and Redis-backed sessions."""

import functools
import json
import time
import uuid
from dataclasses import dataclass

import jwt
from starlette.requests import Request
from starlette.responses import Response

from .db import live_connection, set_tenant, tenant_tx
from .body import json_object
from .web import JSON, ApiError

LOGIN_FIELDS = {"tenant": 100, "email": 320, "password": 1024}  # field -> max length
# bcrypt salt with the seed's cost (10): hashed when no user matches, so response
# time does not reveal whether a tenant or email exists.
TIMING_SALT = "$2a$10$ahWIZRBS58W2lpcuCwjDBO"


def _session_key(jti: str) -> str:
    return f"session:{jti}"


def _unauthorized(message: str = "unauthorized") -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": "Bearer"})


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    user_id: uuid.UUID
    tenant_id: uuid.UUID
    jti: str
    role: str


async def _principal(request: Request) -> Principal:
    """Verify the bearer JWT and require its session to still exist in Redis."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized()
    state = request.app.state
    try:
        claims = jwt.decode(
            token.strip(),
            state.settings.jwt_secret,
            algorithms=["HS256"],
            options={"require": ["exp", "iat", "sub", "tid", "jti"]},
        )
    except jwt.InvalidTokenError:
        raise _unauthorized() from None
    raw = await state.redis.get(_session_key(claims["jti"]))
    if raw is None:
        raise _unauthorized()
    session = json.loads(raw)
    if (session["user_id"], session["tenant_id"]) != (claims["sub"], claims["tid"]):
        raise _unauthorized()
    return Principal(uuid.UUID(session["user_id"]), uuid.UUID(session["tenant_id"]), claims["jti"], session["role"])


def authenticated(endpoint):
    """Decorator: reject with 401 unless authenticated; sets request.state.principal."""

    @functools.wraps(endpoint)
    async def wrapper(request: Request):
        request.state.principal = await _principal(request)
        return await endpoint(request)

    return wrapper


async def _verify(conn, tenant: str, email: str, password: str) -> dict | None:
    """Return the active user for these credentials, running exactly one bcrypt either way."""
    cur = await conn.execute("SELECT id FROM tenants WHERE slug = %s", (tenant,))
    row = await cur.fetchone()
    if row is not None:
        await set_tenant(conn, row["id"])
        cur = await conn.execute(
            "SELECT id, tenant_id, role, password_hash = crypt(%s, password_hash) AS ok"
            " FROM users WHERE email = %s AND is_active",
            (password, email),
        )
        user = await cur.fetchone()
        if user is not None:
            return user if user["ok"] else None
    await conn.execute("SELECT crypt(%s, %s)", (password, TIMING_SALT))
    return None


async def login(request: Request) -> JSON:
    """POST /auth/login {"tenant", "email", "password"} -> bearer token."""
    data = await json_object(request)
    if set(data) != set(LOGIN_FIELDS) or not all(
        isinstance(data[k], str) and 0 < len(data[k]) <= n for k, n in LOGIN_FIELDS.items()
    ):
        raise ApiError(422, "expected non-empty strings tenant, email and password")
    state = request.app.state
    async with live_connection(state.pool) as conn, conn.transaction():
        user = await _verify(conn, data["tenant"], data["email"], data["password"])
    if user is None:
        raise _unauthorized("invalid credentials")
    ttl, now, jti = state.settings.jwt_ttl, int(time.time()), str(uuid.uuid4())
    session = {"user_id": str(user["id"]), "tenant_id": str(user["tenant_id"]), "role": user["role"]}
    token = jwt.encode(
        {"sub": session["user_id"], "tid": session["tenant_id"], "role": session["role"],
         "jti": jti, "iat": now, "exp": now + ttl},
        state.settings.jwt_secret,
        algorithm="HS256",
    )
    await state.redis.set(_session_key(jti), json.dumps(session), ex=ttl)
    return JSON(
        {"access_token": token, "token_type": "bearer", "expires_in": ttl},
        headers={"Cache-Control": "no-store"},
    )


@authenticated
async def logout(request: Request) -> Response:
    """POST /auth/logout: revoke the caller's session."""
    await request.app.state.redis.delete(_session_key(request.state.principal.jti))
    return Response(status_code=204)


@authenticated
async def me(request: Request) -> JSON:
    """GET /auth/me: the caller's user row plus tenant id and slug."""
    principal: Principal = request.state.principal
    async with tenant_tx(request.app.state.pool, principal.tenant_id) as conn:
        cur = await conn.execute(
            "SELECT u.id, u.email, u.full_name, u.role, t.id AS tenant_id, t.slug AS tenant"
            " FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.id = %s",
            (principal.user_id,),
        )
        row = await cur.fetchone()
    if row is None:
        raise _unauthorized()
    return JSON(row)
