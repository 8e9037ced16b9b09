"""Every path to tenant data: tables the profile does not list, views, materialized views and definer routines."""

import psycopg
import pytest
from psycopg import sql

from infra_conformance.plugins.collection import skip_not_applicable

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")
# Relations with the tenant column, outside system schemas: schema, name, kind, qualified name, and whether the
# app role may use the relation at all (any privilege, with USAGE on its schema) and read its tenant column.
WITH_TENANT_COLUMN = """
SELECT n.nspname, c.relname, c.relkind,
       CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END,
       has_schema_privilege(%(role)s, n.oid, 'USAGE')
           AND has_table_privilege(%(role)s, c.oid, 'SELECT, INSERT, UPDATE, DELETE'),
       has_schema_privilege(%(role)s, n.oid, 'USAGE') AND has_column_privilege(%(role)s, c.oid, a.attnum, 'SELECT')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = %(column)s AND NOT a.attisdropped
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname <> ALL(%(system)s) AND n.nspname NOT LIKE 'pg_toast%%'
 ORDER BY 1, 2"""
# SECURITY DEFINER routines that the app role may execute, not from an extension.
DEFINER_ROUTINES = """
SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       pg_get_userbyid(p.proowner)
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE p.prosecdef AND has_function_privilege(%(role)s, p.oid, 'EXECUTE') AND n.nspname <> ALL(%(system)s)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                                               AND d.deptype = 'e')
 ORDER BY 1"""
KINDS = {"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view", "f": "foreign table"}


@pytest.fixture(scope="module")
def tenant_relations(stack, pg_admin) -> list[tuple]:
    if stack.profile.postgres is None or not stack.profile.postgres.tenants:
        skip_not_applicable("postgres.tenants", "the profile lists no tenants")
    pg = stack.profile.postgres
    return pg_admin.execute(WITH_TENANT_COLUMN, {"column": pg.tenant_column, "role": pg.app_user,
                                                 "system": list(SYSTEM_SCHEMAS)}).fetchall()


@pytest.mark.control("RLS-12", severity="critical", claims=["Z1", "P1"])
def test_every_tenant_table_is_listed(stack, tenant_relations):
    """Every table with the tenant column that the app role may use is one of the profile's tenant tables.

    Rationale: the row-level security controls test the tables the profile lists, and
    only those. A table added later with a tenant column and no policy (an invoices
    table, an import staging table) leaks every tenant's rows, and no listed-table
    control can notice.

    Fix: Enable and force row-level security on the table with a tenant policy, and add
    it to the profile's `postgres.tenant_tables`.

    References: https://www.postgresql.org/docs/15/ddl-rowsecurity.html; https://owasp.org/Top10/A01_2021-Broken_Access_Control/
    """
    pg = stack.profile.postgres
    unlisted = [f"{name} ({KINDS[kind]})" for _, _, kind, name, usable, _ in tenant_relations
                if kind in ("r", "p", "f") and usable and name not in pg.tenant_tables]
    assert not unlisted, (f"expected every table with column {stack.profile.postgres.tenant_column} among the "
                          f"profile's tenant tables, found unlisted: {', '.join(unlisted)}")


@pytest.mark.control("RLS-13", severity="critical", claims=["Z1", "P1"])
def test_no_readable_relation_shows_other_tenants(stack, pg_app, tenant_relations, tenant_ids, tenant):
    """As the app role with a tenant set, no relation it can read returns another tenant's rows.

    Rationale: views run with their owner's rights, so a view owned by a role that
    bypasses row-level security shows every tenant's rows to whoever may select from
    it; a materialized view has no row-level security at all. Only reading every
    relation that has the tenant column, the way the application can, proves that no
    such path exists.

    Fix: Create views `WITH (security_invoker = true)`, owned by a role without
    BYPASSRLS; do not grant materialized views over tenant data to the app role, or
    keep one per tenant behind a policy.

    References: https://www.postgresql.org/docs/15/sql-createview.html; https://www.postgresql.org/docs/15/ddl-rowsecurity.html
    """
    pg, own, leaks = stack.profile.postgres, tenant_ids[tenant], []
    readable = [(schema, relation, kind, name) for schema, relation, kind, name, _, can_read in tenant_relations
                if can_read]
    assert readable, f"tenant {tenant}: the app role can read no relation with column {pg.tenant_column}"
    for schema, relation, kind, name in readable:
        pg_app.execute("SELECT set_config(%s, %s, true)", (pg.tenant_setting, own))
        query = sql.SQL("SELECT count(*) FROM {} WHERE {} IS DISTINCT FROM %s::uuid").format(
            sql.Identifier(schema, relation), sql.Identifier(pg.tenant_column))
        try:
            foreign = pg_app.execute(query, (own,)).fetchone()[0]
        except psycopg.Error as error:
            pytest.fail(f"{KINDS[kind]} {name}, tenant {tenant}: could not read it as the app role: "
                        f"{type(error).__name__}: {error.diag.message_primary}")
        finally:
            pg_app.rollback()
        if foreign:
            leaks.append(f"{KINDS[kind]} {name}: {foreign} rows of other tenants")
    assert not leaks, f"tenant {tenant}: expected only its own rows, found {'; '.join(leaks)}"


@pytest.mark.control("RLS-14", severity="high", claims=["Z1", "P1"])
def test_no_unreviewed_definer_routine(stack, pg_admin):
    """The app role can execute no SECURITY DEFINER routine other than those the profile lists as reviewed.

    Rationale: a SECURITY DEFINER function runs with its owner's rights; owned by the
    table owner or a superuser it reads every tenant's rows, whatever the caller's
    tenant. Each one is a hole in row-level security unless it checks the tenant
    itself, which only a review can tell.

    Covers: every SECURITY DEFINER routine the app role can execute.

    Fix: Make the function `SECURITY INVOKER`, or revoke EXECUTE from the app role; if
    it must stay, check the tenant setting inside it, and list it in
    `postgres.definer_routines` once reviewed.

    References: https://www.postgresql.org/docs/15/sql-createfunction.html#SQL-CREATEFUNCTION-SECURITY
    """
    pg = stack.profile.postgres
    found = pg_admin.execute(DEFINER_ROUTINES, {"role": pg.app_user, "system": list(SYSTEM_SCHEMAS)}).fetchall()
    unreviewed = [f"{routine} owned by {owner}" for routine, owner in found if routine not in pg.definer_routines]
    assert not unreviewed, (f"expected no SECURITY DEFINER routine that {pg.app_user} may execute, "
                            f"found {', '.join(unreviewed)}")
