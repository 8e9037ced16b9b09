"""Row-level security: tenant isolation enforced by the database itself, proven by behaviour.

The behaviour controls connect as the app role, set a tenant the way the API does
(``set_config(setting, id, true)``, i.e. SET LOCAL) and compare what they see with
what the admin role counts. Nothing they write is committed.
"""

import psycopg
import pytest

from infra_conformance.plugins.tenancy import count, query, run, scoped

_FLAGS = "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass"
COMMANDS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}


@pytest.mark.control("RLS-01", severity="critical", claims=["Z1", "P1"])
def test_rls_enabled_and_forced(pg_admin, tenant_table):
    """Row-level security is enabled and forced on every tenant table.

    Rationale: without ENABLE, policies are ignored and every tenant sees every row.
    Without FORCE, the table owner bypasses them, so one migration run as the owner,
    or an app connected as the owner, silently reads across tenants.

    Fix: `ALTER TABLE <table> ENABLE ROW LEVEL SECURITY; ALTER TABLE <table> FORCE ROW
    LEVEL SECURITY;`

    References: https://www.postgresql.org/docs/15/ddl-rowsecurity.html; https://owasp.org/Top10/A01_2021-Broken_Access_Control/
    """
    try:
        enabled, forced = pg_admin.execute(_FLAGS, (tenant_table,)).fetchone()
    except psycopg.errors.UndefinedTable:
        pytest.fail(f"table {tenant_table}: expected to exist with RLS, found no such table")
    assert (enabled, forced) == (True, True), (
        f"table {tenant_table}: expected RLS enabled and forced, "
        f"found enabled={enabled} forced={forced}")


@pytest.mark.control("RLS-02", severity="high", claims=["Z1", "P1"])
def test_policy_covers_each_command(stack, pg_admin, tenant_table):
    """A permissive policy that applies to the app role covers SELECT, INSERT, UPDATE and DELETE.

    Rationale: a command no policy covers is denied, and the usual "fix" for the
    writes that then fail is a permissive policy in a hurry or RLS turned off. A
    policy per command (or one FOR ALL) shows isolation was designed for each.

    Fix: `CREATE POLICY tenant ON <table> FOR ALL TO app USING (tenant_id =
    NULLIF(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK (...)`.

    References: https://www.postgresql.org/docs/15/sql-createpolicy.html
    """
    app = stack.profile.postgres.app_user
    try:
        rows = pg_admin.execute(
            "SELECT polcmd FROM pg_policy WHERE polrelid = %s::regclass AND polpermissive AND (0 = ANY(polroles) "
            "OR EXISTS (SELECT 1 FROM unnest(polroles) r WHERE pg_has_role(%s, r, 'MEMBER')))",
            (tenant_table, app)).fetchall()
    except psycopg.errors.UndefinedTable:
        pytest.fail(f"table {tenant_table}: expected to exist with policies, found no such table")
    covered = {name for (cmd,) in rows for key, name in COMMANDS.items() if cmd in (key, "*")}
    missing = [name for name in COMMANDS.values() if name not in covered]
    assert not missing, (f"table {tenant_table}: expected a permissive policy for role {app} on each command, "
                         f"found none for {', '.join(missing)}")


@pytest.mark.control("RLS-03", severity="critical", claims=["Z1", "P1"])
def test_tenant_sees_exactly_its_rows(stack, pg_admin, pg_app, tenant_ids, tenant_table, tenant):
    """With a tenant set, the app role sees exactly that tenant's rows: as many as the admin counts.

    Rationale: this is the promise itself. Policies can look right and still leak: a
    second permissive policy with USING (true) is OR-ed with the tenant policy and
    opens the table to every tenant. Only counting what the app really sees catches it.

    Fix: Make the policy compare the tenant column with
    `NULLIF(current_setting('app.tenant_id', true), '')::uuid`, and drop permissive
    `USING (true)` policies.

    References: https://www.postgresql.org/docs/15/ddl-rowsecurity.html
    """
    own, where = tenant_ids[tenant], f"table {tenant_table}, tenant {tenant}"
    assert count(pg_admin, stack, tenant_table, "{c} <> %s", own), (
        f"{where}: expected rows of other tenants to test isolation against, found none")
    expected = count(pg_admin, stack, tenant_table, "{c} = %s", own)
    scoped(stack, pg_app, own)
    seen, foreign = run(pg_app, query(stack, "SELECT count(*), count(*) FILTER (WHERE {c} IS DISTINCT FROM %s) "
                                               "FROM {t}", tenant_table), (own,), where, f"{expected} rows").fetchone()
    assert (seen, foreign) == (expected, 0), (f"{where}: expected {expected} rows, all its own, "
                                              f"found {seen} ({foreign} of other tenants)")


@pytest.mark.control("RLS-04", severity="critical", claims=["Z1", "P1"])
def test_other_tenants_row_hidden_by_id(stack, pg_admin, pg_app, tenant_ids, tenant_table, tenant, other_tenant):
    """With a tenant set, the app role cannot read another tenant's row by its id.

    Rationale: ids leak through URLs, logs and support tickets; a lookup by primary
    key must find nothing across tenants, not only the listing.

    Fix: Drop any permissive policy that lets rows through without the tenant
    comparison.

    References: https://www.postgresql.org/docs/15/ddl-rowsecurity.html; https://owasp.org/API-Security/editions/2023/en/0xa1-broken-object-level-authorization/
    """
    where = f"table {tenant_table}, tenant {tenant}"
    keys = pg_admin.execute("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
                            (tenant_table,)).fetchall()
    assert len(keys) == 1, f"{where}: expected a one-column primary key to read rows by, found {len(keys)} columns"
    row = pg_admin.execute(query(stack, "SELECT {k} FROM {t} WHERE {c} = %s LIMIT 1", tenant_table, k=keys[0][0]),
                           (tenant_ids[other_tenant],)).fetchone()
    assert row, f"{where}: expected a row of tenant {other_tenant} to look up, found none"
    scoped(stack, pg_app, tenant_ids[tenant])
    found = run(pg_app, query(stack, "SELECT count(*) FROM {t} WHERE {k} = %s", tenant_table, k=keys[0][0]), row,
                 where, "no row").fetchone()[0]
    assert found == 0, f"{where}: expected tenant {other_tenant}'s row {row[0]} hidden, found it"


@pytest.mark.control("RLS-07", severity="critical", claims=["Z1", "P1"])
def test_no_tenant_sees_nothing(stack, pg_app, tenant_table):
    """With no tenant set, the app role sees no row, and gets no error.

    Rationale: code paths that forget to set the tenant (a background job, a new
    endpoint) must fail closed. An empty result is closed; so is an error, but a
    policy that errors here also behaves differently on pooled connections (RLS-09).

    Fix: Use `NULLIF(current_setting('app.tenant_id', true), '')`, which yields NULL (no
    rows) when unset, instead of `IS NOT DISTINCT FROM`.

    References: https://www.postgresql.org/docs/15/functions-admin.html#FUNCTIONS-ADMIN-SET
    """
    where = f"table {tenant_table}, no tenant set"
    found = run(pg_app, query(stack, "SELECT count(*) FROM {t}", tenant_table), (), where, "0 rows").fetchone()[0]
    assert found == 0, f"{where}: expected 0 rows, found {found}"


@pytest.mark.control("RLS-09", severity="high", claims=["Z1", "P1"])
def test_tenant_does_not_outlive_transaction(stack, pg_app, tenant_ids, tenant_table, tenant):
    """A tenant set in one transaction is gone in the next on the same connection: 0 rows, no error.

    Rationale: pools hand one connection to many requests. After SET LOCAL ends, the
    setting is not unset but empty (''), so a policy that casts it without NULLIF
    raises `invalid input syntax for type uuid` on every reused connection while a
    fresh one returns nothing: isolation then depends on the pool's history. The
    expectation is the fresh connection's: no rows and no error, every time.

    Fix: Set the tenant with `SET LOCAL` or `set_config('app.tenant_id', id, true)`
    inside each transaction, never a session `SET`.

    References: https://www.postgresql.org/docs/15/sql-set.html
    """
    where = f"table {tenant_table}, after tenant {tenant}'s transaction"
    scoped(stack, pg_app, tenant_ids[tenant])
    run(pg_app, query(stack, "SELECT count(*) FROM {t}", tenant_table), (), where, "a first transaction to run")
    pg_app.commit()
    found = run(pg_app, query(stack, "SELECT count(*) FROM {t}", tenant_table), (), where,
                 "0 rows in the next transaction on the same connection").fetchone()[0]
    assert found == 0, f"{where}: expected 0 rows in the next transaction on the same connection, found {found}"
