"""Row-level security: tenant isolation enforced by the database itself."""

import psycopg
import pytest

_FLAGS = "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass"


@pytest.mark.control("RLS-01", severity="critical", claims=["Z1", "P1"])
def test_rls_enabled_and_forced(pg_admin, tenant_table):
    """Row-level security is enabled and forced on every tenant table.

    Rationale: without ENABLE, policies are ignored and every tenant sees every row.
    Without FORCE, the table owner bypasses them, so one migration run as the owner,
    or an app connected as the owner, silently reads across tenants.
    """
    try:
        enabled, forced = pg_admin.execute(_FLAGS, (tenant_table,)).fetchone()
    except psycopg.errors.UndefinedTable:
        pytest.fail(f"table {tenant_table}: expected to exist with RLS, found no such table")
    assert (enabled, forced) == (True, True), (
        f"table {tenant_table}: expected RLS enabled and forced, "
        f"found enabled={enabled} forced={forced}")
