"""Clients of the stack's data services and its gateway, all on loopback ports.

Each fixture skips when the profile has no such part, so a control that needs one
does not apply to a stack without it.
"""

from __future__ import annotations

import psycopg
import pytest
import redis
import requests
from psycopg import sql

from infra_conformance.engine.wait import wait_for
from infra_conformance.plugins.collection import skip_not_applicable
from infra_conformance.plugins.guard import NOT_OURS, is_foreign
from infra_conformance.probes.checksums import table_checksums


def _postgres(stack):
    if stack.profile.postgres is None:
        skip_not_applicable("postgres", "the profile has no [postgres] section")
    return stack.profile.postgres


def _params(stack, user: str, secret: str) -> dict:
    pg = _postgres(stack)
    return dict(host="127.0.0.1", port=stack.port(pg.service, pg.port), dbname=pg.database,
                user=user, password=stack.secret(secret), connect_timeout=5)


def _connect(stack, user: str, secret: str) -> psycopg.Connection:
    params = _params(stack, user, secret)
    return wait_for(lambda: psycopg.connect(**params), f"PostgreSQL as {user}",
                    errors=(psycopg.OperationalError,), timeout_s=30,
                    hint="check the postgres service's logs in the report")


def identifier(name: str) -> sql.Identifier:
    """A table or type name from the profile, optionally schema-qualified, quoted for SQL.

    >>> identifier("audit.log").as_string()
    '"audit"."log"'
    """
    return sql.Identifier(*name.split("."))


@pytest.fixture(scope="session")
def pg_admin(stack):
    """Autocommit connection as the profile's admin (superuser) role."""
    pg = _postgres(stack)
    with _connect(stack, pg.admin_user, pg.admin_password_secret) as conn:
        conn.autocommit = True
        yield conn


@pytest.fixture(scope="session")
def pg_admin_connect(stack):
    """``pg_admin_connect()``: a new autocommit admin connection on the port published now, for controls that
    restart or recreate PostgreSQL, which ``pg_admin`` does not survive."""
    pg = _postgres(stack)

    def connect() -> psycopg.Connection:
        conn = _connect(stack, pg.admin_user, pg.admin_password_secret)
        conn.autocommit = True
        return conn
    return connect


@pytest.fixture(scope="session")
def checksums_now(pg_admin_connect):
    """``checksums_now()``: every table's row count and checksum, read now through a new admin connection."""
    def read() -> dict[str, tuple[int, str]]:
        with pg_admin_connect() as conn:
            return table_checksums(conn)
    return read


@pytest.fixture
def pg_app(stack):
    """Connection as the application role, the way the API connects; one per test, rolled back at the end."""
    pg = _postgres(stack)
    with _connect(stack, pg.app_user, pg.app_password_secret) as conn:
        yield conn
        conn.rollback()


@pytest.fixture(scope="session")
def tenant_ids(stack, pg_admin) -> dict[str, str]:
    """The id of each tenant the profile lists, found by slug in its tenants table."""
    pg = stack.profile.postgres
    query = sql.SQL("SELECT slug::text, id::text FROM {} WHERE slug = ANY(%s)").format(identifier(pg.tenants_table))
    ids = dict(pg_admin.execute(query, (list(pg.tenants),)).fetchall())
    missing = [t for t in pg.tenants if t not in ids]
    assert not missing, f"table {pg.tenants_table}: expected tenants {', '.join(missing)}, found no such slug"
    return ids


@pytest.fixture
def pg_app_params(stack) -> dict:
    """Connection parameters of the application role, for controls that connect their own way."""
    pg = _postgres(stack)
    return _params(stack, pg.app_user, pg.app_password_secret)


@pytest.fixture(scope="session")
def redis_connect(stack):
    """``redis_connect(username, password, **options)``: a new redis-py client on the loopback port."""
    if stack.profile.redis is None:
        skip_not_applicable("redis", "the profile has no [redis] section")
    rd, clients = stack.profile.redis, []

    def connect(username: str, password: str, **options) -> redis.Redis:
        clients.append(redis.Redis(host="127.0.0.1", port=stack.port(rd.service, rd.port), username=username,
                                   password=password, socket_timeout=5, **options))
        return clients[-1]
    yield connect
    for client in clients:
        client.close()


@pytest.fixture(scope="session")
def redis_client(stack, redis_connect):
    """Redis client authenticated as the profile's application user."""
    rd = stack.profile.redis
    return redis_connect(rd.user, stack.secret(rd.password_secret))


@pytest.fixture(scope="session")
def redis_admin(stack, redis_connect):
    """Redis client authenticated as the profile's admin user, to read configuration and INFO."""
    rd = stack.profile.redis
    if rd.admin_user is None:
        pytest.skip("not checked: the profile names no Redis admin_user to read the settings with")
    return redis_connect(rd.admin_user, stack.secret(rd.admin_password_secret))


@pytest.fixture(scope="session")
def gateway_url(stack) -> str:
    """Base URL of the API gateway on its published loopback port."""
    if stack.profile.api is None:
        skip_not_applicable("api", "the profile has no [api] section")
    return current_gateway_url(stack)


def current_gateway_url(stack) -> str:
    """The gateway's URL as published now: after a control recreates the stack, ``gateway_url`` is stale."""
    api = stack.profile.api
    return f"http://127.0.0.1:{stack.port(api.gateway_service, api.gateway_port)}"


@pytest.fixture(scope="session")
def api_login(pytestconfig, stack, gateway_url):
    """``api_login(email, tenant=None)``: a bearer token of a profile user (the profile's tenant by
    default, the seed password), logged in once. On a reused stack that the suite did not start, the controls'
    logins were not made, so the controls that need one are not checked."""
    api, tokens = stack.profile.api, {}
    if api.accounts and is_foreign(pytestconfig):
        pytest.skip(NOT_OURS)

    def token(email: str, tenant: str | None = None) -> str:
        tenant = tenant or api.tenant
        if (tenant, email) not in tokens:
            login = requests.post(gateway_url + api.login_path, timeout=10, json={
                "tenant": tenant, "email": email, "password": stack.secret(api.password_secret)})
            assert login.status_code == 200, (f"POST {api.login_path} as {email} of {tenant}: expected 200, "
                                              f"found {login.status_code} {login.text[:200]}")
            tokens[(tenant, email)] = login.json()["access_token"]
        return tokens[(tenant, email)]
    return token


@pytest.fixture(scope="session")
def api_token(stack, api_login):
    """``api_token(tenant)``: a bearer token of the tenant's user in the profile's tenant_users."""
    return lambda tenant: api_login(stack.profile.api.tenant_users[tenant], tenant)


@pytest.fixture
def http():
    """A requests session with a timeout on every call."""
    with requests.Session() as session:
        session.request = _with_timeout(session.request)
        yield session


def _with_timeout(request, timeout_s: float = 10):
    def call(method, url, **kwargs):
        kwargs.setdefault("timeout", timeout_s)
        return request(method, url, **kwargs)
    return call


def create_probe_row(stack, http) -> None:
    """Create a row of ``probe_body`` through the gateway as the login user: data only the app wrote."""
    api = stack.profile.api
    url = current_gateway_url(stack)
    login = http.post(url + api.login_path, json={
        "tenant": api.tenant, "email": api.email, "password": stack.secret(api.password_secret)})
    assert login.status_code == 200, f"POST {api.login_path}: expected 200, found {login.status_code}"
    created = http.post(url + api.probe_path, json=dict(api.probe_body),
                        headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert created.status_code == 201, (f"POST {api.probe_path}: expected 201, found {created.status_code} "
                                        f"{created.text[:200]}")


def assert_login_works(stack, http) -> None:
    """A login through the gateway as published now answers 200, once the API has reconnected."""
    api, url = stack.profile.api, current_gateway_url(stack)
    login = wait_for(lambda: answered(http.post(url + api.login_path, json={
        "tenant": api.tenant, "email": api.email, "password": stack.secret(api.password_secret)})),
        f"POST {api.login_path}", errors=(ConnectionError, requests.ConnectionError),
        timeout_s=stack.profile.faults.recovery_s)
    assert login.status_code == 200, f"POST {api.login_path} afterwards: expected 200, found {login.status_code}"


def answered(response):
    """The response, unless it says to come back later (rate limit, or the API reconnecting)."""
    if response.status_code in (429, 502, 503):
        raise ConnectionError(f"{response.status_code}")
    return response
