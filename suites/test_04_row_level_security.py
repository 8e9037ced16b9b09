"""Row-level security: tenant isolation enforced by the database itself, proven by behaviour.

The behaviour controls connect as the app role, set a tenant the way the API does
(``set_config(setting, id, true)``, i.e. SET LOCAL) and compare what they see with
what the admin role counts. Nothing they write is committed.
"""

import psycopg
import pytest
from psycopg import sql

from fixtures.clients import identifier

_FLAGS = "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass"
COMMANDS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}
CHANGES = {"UPDATE": "UPDATE {t} SET {c} = {c} WHERE {c} = %s", "DELETE": "DELETE FROM {t} WHERE {c} = %s"}


@pytest.fixture
def other_tenant(stack, tenant) -> str:
    """The tenant after ``tenant`` in the profile's list: the one whose rows must stay hidden."""
    tenants = stack.profile.postgres.tenants
    return tenants[(tenants.index(tenant) + 1) % len(tenants)]


def _scoped(stack, conn, tenant_id: str) -> None:
    """Set the tenant for the current transaction only, as the API does."""
    conn.execute("SELECT set_config(%s, %s, true)", (stack.profile.postgres.tenant_setting, tenant_id))


def _query(stack, text: str, table: str, **columns: str) -> sql.Composed:
    """``text`` with ``{t}`` the table, ``{c}`` its tenant column and each of ``columns`` quoted."""
    names = {name: sql.Identifier(column) for name, column in columns.items()}
    return sql.SQL(text).format(t=identifier(table), c=sql.Identifier(stack.profile.postgres.tenant_column), **names)


def _count(pg_admin, stack, table: str, where: str, tenant_id: str) -> int:
    """Rows of ``table`` the admin role counts with ``{c} = %s`` or ``{c} <> %s`` as ``where``."""
    return pg_admin.execute(_query(stack, f"SELECT count(*) FROM {{t}} WHERE {where}", table),
                            (tenant_id,)).fetchone()[0]


def _run(conn, query, params, where: str, expected: str):
    """Run ``query`` as the app role; a database error fails the control, naming what was expected."""
    try:
        return conn.execute(query, params)
    except psycopg.Error as error:
        pytest.fail(f"{where}: expected {expected}, found {type(error).__name__}: {error.diag.message_primary}")


def _rejected(conn, query, params, where: str, expected: str) -> None:
    """Assert that row-level security (or a missing grant) rejects the statement."""
    try:
        conn.execute(query, params)
    except psycopg.errors.InsufficientPrivilege:
        return
    except psycopg.Error as error:
        pytest.fail(f"{where}: expected {expected}, found {type(error).__name__}: {error.diag.message_primary}")
    pytest.fail(f"{where}: expected {expected}, found the row inserted")


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
    assert _count(pg_admin, stack, tenant_table, "{c} <> %s", own), (
        f"{where}: expected rows of other tenants to test isolation against, found none")
    expected = _count(pg_admin, stack, tenant_table, "{c} = %s", own)
    _scoped(stack, pg_app, own)
    seen, foreign = _run(pg_app, _query(stack, "SELECT count(*), count(*) FILTER (WHERE {c} IS DISTINCT FROM %s) "
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
    row = pg_admin.execute(_query(stack, "SELECT {k} FROM {t} WHERE {c} = %s LIMIT 1", tenant_table, k=keys[0][0]),
                           (tenant_ids[other_tenant],)).fetchone()
    assert row, f"{where}: expected a row of tenant {other_tenant} to look up, found none"
    _scoped(stack, pg_app, tenant_ids[tenant])
    found = _run(pg_app, _query(stack, "SELECT count(*) FROM {t} WHERE {k} = %s", tenant_table, k=keys[0][0]), row,
                 where, "no row").fetchone()[0]
    assert found == 0, f"{where}: expected tenant {other_tenant}'s row {row[0]} hidden, found it"


@pytest.mark.control("RLS-05", severity="critical", claims=["Z1", "P1"])
def test_insert_for_other_tenant_rejected(stack, pg_app, tenant_ids, tenant_table, tenant, other_tenant):
    """With a tenant set, an INSERT carrying another tenant's id never lands in the other tenant's data.

    Rationale: without a WITH CHECK that holds, a tenant can plant rows in another
    tenant's data: fake invoices, users or tasks that the victim then trusts. Row-level
    security rejects such a row; a BEFORE INSERT trigger that sets the tenant column from
    the session keeps the promise too, so where the row went is what counts
    (`RETURNING`), not whether the statement failed.

    Fix: Give INSERT policies `WITH CHECK (tenant_id =
    NULLIF(current_setting('app.tenant_id', true), '')::uuid)`.

    References: https://www.postgresql.org/docs/15/sql-createpolicy.html
    """
    _scoped(stack, pg_app, tenant_ids[tenant])
    where = f"table {tenant_table}, tenant {tenant}"
    expected = f"an INSERT with tenant {other_tenant}'s id rejected, or its row kept in tenant {tenant}"
    try:
        landed = pg_app.execute(_query(stack, "INSERT INTO {t} ({c}) VALUES (%s) RETURNING {c}", tenant_table),
                                (tenant_ids[other_tenant],)).fetchone()[0]
    except psycopg.errors.InsufficientPrivilege:
        return
    except psycopg.Error as error:
        pytest.fail(f"{where}: expected {expected}, found {type(error).__name__}: {error.diag.message_primary}")
    assert str(landed) == tenant_ids[tenant], (
        f"{where}: expected {expected}, found the row inserted for "
        f"{other_tenant if str(landed) == tenant_ids[other_tenant] else landed}")


@pytest.mark.control("RLS-06", severity="critical", claims=["Z1", "P1"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_other_tenants_rows_unchanged(stack, pg_admin, pg_app, tenant_ids, tenant_table, tenant, other_tenant,
                                      change):
    """With a tenant set, UPDATE and DELETE of another tenant's rows affect no row.

    Rationale: a policy that hides rows from SELECT but not from UPDATE or DELETE
    lets a tenant destroy or rewrite data it cannot see.

    Fix: Cover UPDATE and DELETE with the tenant comparison in `USING` (and `WITH CHECK`
    for UPDATE).

    References: https://www.postgresql.org/docs/15/sql-createpolicy.html
    """
    other, where = tenant_ids[other_tenant], f"table {tenant_table}, tenant {tenant}"
    assert _count(pg_admin, stack, tenant_table, "{c} = %s", other), (
        f"{where}: expected rows of tenant {other_tenant} to {change}, found none")
    _scoped(stack, pg_app, tenant_ids[tenant])
    changed = _run(pg_app, _query(stack, CHANGES[change], tenant_table), (other,), where,
                   f"{change} of tenant {other_tenant}'s rows to affect 0 rows").rowcount
    assert changed == 0, f"{where}: expected {change} of tenant {other_tenant}'s rows to affect 0 rows, found {changed}"


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
    found = _run(pg_app, _query(stack, "SELECT count(*) FROM {t}", tenant_table), (), where, "0 rows").fetchone()[0]
    assert found == 0, f"{where}: expected 0 rows, found {found}"


@pytest.mark.control("RLS-08", severity="critical", claims=["Z1", "P1"])
def test_no_tenant_insert_rejected(stack, pg_app, tenant_table):
    """With no tenant set, an INSERT is rejected by row-level security.

    Rationale: a row written without a tenant belongs to nobody or, through a column
    default, to whichever tenant the default picks; either way the write must be
    refused by the policy itself, not left to a NOT NULL that a later migration drops.

    Fix: Same as RLS-07 for `WITH CHECK`: an unset tenant must match no row.

    References: https://www.postgresql.org/docs/15/sql-createpolicy.html
    """
    _rejected(pg_app, _query(stack, "INSERT INTO {t} DEFAULT VALUES", tenant_table), (),
              f"table {tenant_table}, no tenant set", "the INSERT rejected by row-level security")


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
    _scoped(stack, pg_app, tenant_ids[tenant])
    _run(pg_app, _query(stack, "SELECT count(*) FROM {t}", tenant_table), (), where, "a first transaction to run")
    pg_app.commit()
    found = _run(pg_app, _query(stack, "SELECT count(*) FROM {t}", tenant_table), (), where,
                 "0 rows in the next transaction on the same connection").fetchone()[0]
    assert found == 0, f"{where}: expected 0 rows in the next transaction on the same connection, found {found}"


@pytest.fixture
def other_api_tenant(stack, api_tenant) -> str:
    tenants = list(stack.profile.api.tenant_users)
    return tenants[(tenants.index(api_tenant) + 1) % len(tenants)]


def _listed_ids(http, url: str, token: str) -> list[str]:
    """The ids in the first page of a resource's list (``{"items": [...]}`` or a plain list)."""
    response = http.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, f"GET {url}: expected 200, found {response.status_code} {response.text[:200]}"
    body = response.json()
    return [item["id"] for item in (body["items"] if isinstance(body, dict) else body)]


def _some(ids) -> str:
    ids = sorted(ids)
    return ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")


@pytest.mark.control("RLS-10", severity="critical", claims=["Z1", "P1", "Z10"])
def test_api_other_tenants_object_not_found(gateway_url, http, api_token, resource, api_tenant, other_api_tenant):
    """Through the API, a user of one tenant gets 404 for each object id another tenant lists.

    Rationale: the database's isolation only counts if the API keeps it: a cache,
    a second connection as the owner or a query outside the tenant's transaction
    would reopen what RLS closes. 404, not 403, also hides that the id exists.

    Fix: Look objects up in the tenant's transaction (RLS) and answer 404 when the row
    is not visible.

    References: https://owasp.org/API-Security/editions/2023/en/0xa1-broken-object-level-authorization/
    """
    theirs = _listed_ids(http, gateway_url + resource, api_token(other_api_tenant))
    assert theirs, f"{resource}: expected objects of tenant {other_api_tenant} to test with, found none"
    auth = {"Authorization": f"Bearer {api_token(api_tenant)}"}
    found = {i for i in theirs if http.get(f"{gateway_url}{resource}/{i}", headers=auth).status_code != 404}
    assert not found, (f"GET {resource}/<id> as tenant {api_tenant}: expected 404 for the objects tenant "
                       f"{other_api_tenant} lists, found {len(found)} of {len(theirs)} answered: {_some(found)}")


@pytest.mark.control("RLS-11", severity="critical", claims=["Z1", "P1", "Z10"])
def test_api_lists_share_no_object(gateway_url, http, api_token, resource, api_tenant, other_api_tenant):
    """Through the API, no object appears in the lists of two tenants.

    Rationale: lists are where leaks are largest: one request returns many rows, and
    a leak there shows other customers' data to every user of a tenant. An object
    belongs to one tenant, so one listed for both has leaked to one of them.

    Fix: Scope every list query to the caller's tenant; never cache lists across
    tenants.

    References: https://owasp.org/API-Security/editions/2023/en/0xa1-broken-object-level-authorization/
    """
    theirs = set(_listed_ids(http, gateway_url + resource, api_token(other_api_tenant)))
    assert theirs, f"{resource}: expected objects of tenant {other_api_tenant} to test with, found none"
    shared = theirs & set(_listed_ids(http, gateway_url + resource, api_token(api_tenant)))
    assert not shared, (f"GET {resource} as tenants {api_tenant} and {other_api_tenant}: expected no object in both "
                        f"lists, found {len(shared)}: {_some(shared)}")
