"""Tenant scoping for the row-level security controls: the other tenant of a case, a tenant set the way the API sets
it, and queries with the table and its tenant column quoted."""

import psycopg
import pytest
from psycopg import sql

from infra_conformance.plugins.clients import identifier


@pytest.fixture
def other_tenant(stack, tenant) -> str:
    """The tenant after ``tenant`` in the profile's list: the one whose rows must stay hidden."""
    tenants = stack.profile.postgres.tenants
    return tenants[(tenants.index(tenant) + 1) % len(tenants)]


def scoped(stack, conn, tenant_id: str) -> None:
    """Set the tenant for the current transaction only, as the API does."""
    conn.execute("SELECT set_config(%s, %s, true)", (stack.profile.postgres.tenant_setting, tenant_id))


def query(stack, text: str, table: str, **columns: str) -> sql.Composed:
    """``text`` with ``{t}`` the table, ``{c}`` its tenant column and each of ``columns`` quoted."""
    names = {name: sql.Identifier(column) for name, column in columns.items()}
    return sql.SQL(text).format(t=identifier(table), c=sql.Identifier(stack.profile.postgres.tenant_column), **names)


def count(pg_admin, stack, table: str, where: str, tenant_id: str) -> int:
    """Rows of ``table`` the admin role counts with ``{c} = %s`` or ``{c} <> %s`` as ``where``."""
    return pg_admin.execute(query(stack, f"SELECT count(*) FROM {{t}} WHERE {where}", table),
                            (tenant_id,)).fetchone()[0]


def run(conn, query, params, where: str, expected: str):
    """Run ``query`` as the app role; a database error fails the control, naming what was expected."""
    try:
        return conn.execute(query, params)
    except psycopg.Error as error:
        pytest.fail(f"{where}: expected {expected}, found {type(error).__name__}: {error.diag.message_primary}")


def rejected(conn, query, params, where: str, expected: str) -> None:
    """Assert that row-level security (or a missing grant) rejects the statement."""
    try:
        conn.execute(query, params)
    except psycopg.errors.InsufficientPrivilege:
        return
    except psycopg.Error as error:
        pytest.fail(f"{where}: expected {expected}, found {type(error).__name__}: {error.diag.message_primary}")
    pytest.fail(f"{where}: expected {expected}, found the row inserted")
