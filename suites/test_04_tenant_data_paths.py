"""Every path to tenant data: tables the profile does not list, views, materialized views, tables keyed by tenant
rows, and definer routines."""

import psycopg
import pytest
from psycopg import sql

from infra_conformance.plugins.collection import skip_not_applicable
from infra_conformance.plugins.tenancy import scoped

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")
# Relations with the tenant column, outside system schemas: schema, name, kind, qualified name, and whether the
# app role may use the relation at all (any privilege on the table or on one of its columns, with USAGE on its
# schema) and read its tenant column.
WITH_TENANT_COLUMN = """
SELECT n.nspname, c.relname, c.relkind,
       CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END,
       has_schema_privilege(%(role)s, n.oid, 'USAGE')
           AND (has_any_column_privilege(%(role)s, c.oid, 'SELECT, INSERT, UPDATE, REFERENCES')
                OR has_table_privilege(%(role)s, c.oid, 'DELETE, TRUNCATE')),
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
# Relations without the tenant column that reach tenant rows, outside system schemas, that the app role may read: a
# view or materialized view that reads a relation with the tenant column, or a table keyed by its rows (a foreign
# key), and so on down. Each with its kind, qualified name and one relation it reaches them through; for a table
# keyed directly by a relation with the tenant column, the key's columns on both sides, to find the rows whose
# parent the tenant cannot see.
WITHOUT_TENANT_COLUMN = """
WITH RECURSIVE tenant_data AS (
    SELECT c.oid FROM pg_class c
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = %(column)s AND NOT a.attisdropped
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
), edges(oid, via) AS (
    SELECT r.ev_class, d.refobjid FROM pg_rewrite r
      JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                      AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class
    UNION
    SELECT conrelid, confrelid FROM pg_constraint WHERE contype = 'f' AND conrelid <> confrelid
), reaching(oid, via) AS (
    SELECT oid, NULL::oid FROM tenant_data
    UNION
    SELECT e.oid, e.via FROM edges e JOIN reaching t ON t.oid = e.via
)
SELECT DISTINCT ON (c.oid) n.nspname, c.relname, c.relkind, c.oid::regclass::text, r.via::regclass::text,
       (SELECT array_agg(a.attname ORDER BY u.i) FROM unnest(k.conkey) WITH ORDINALITY u(attnum, i)
          JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum),
       (SELECT array_agg(a.attname ORDER BY u.i) FROM unnest(k.confkey) WITH ORDINALITY u(attnum, i)
          JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum),
       pn.nspname, pc.relname
  FROM reaching r JOIN pg_class c ON c.oid = r.oid JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_constraint k ON k.contype = 'f' AND k.conrelid = c.oid AND k.confrelid = r.via
                           AND r.via IN (SELECT oid FROM tenant_data)
  LEFT JOIN pg_class pc ON pc.oid = k.confrelid LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace
 WHERE r.oid NOT IN (SELECT oid FROM tenant_data) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND n.nspname <> ALL(%(system)s) AND n.nspname NOT LIKE 'pg_toast%%'
   AND has_schema_privilege(%(role)s, n.oid, 'USAGE') AND has_any_column_privilege(%(role)s, c.oid, 'SELECT')
 ORDER BY c.oid, k.oid NULLS LAST"""
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
        scoped(stack, pg_app, own)
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


@pytest.fixture(scope="module")
def tenant_paths(stack, pg_admin, tenant_relations) -> list[tuple]:
    """The relations without the tenant column that the app role may read and that reach tenant rows."""
    pg = stack.profile.postgres
    return pg_admin.execute(WITHOUT_TENANT_COLUMN, {"column": pg.tenant_column, "role": pg.app_user,
                                                    "system": list(SYSTEM_SCHEMAS)}).fetchall()


def _policy_applies(stack, pg_app, own: str, relation: sql.Composable) -> int | None:
    """None when row-level security applies on the way from ``relation`` to the tenant rows it reaches (a read with
    ``row_security = off`` is refused); else the rows that read returned, unfiltered."""
    scoped(stack, pg_app, own)
    pg_app.execute("SET LOCAL row_security = off")
    try:
        return pg_app.execute(sql.SQL("SELECT count(*) FROM {}").format(relation)).fetchone()[0]
    except psycopg.errors.InsufficientPrivilege as error:
        if "row-level security" in (error.diag.message_primary or ""):
            return None
        raise
    finally:
        pg_app.rollback()


def _orphans(stack, pg_app, own: str, child: sql.Composable, keys, parent: sql.Composable, parent_keys) -> int:
    """Rows of ``child`` whose parent row the app role cannot see with the tenant ``own`` set: other tenants' rows."""
    pair = {"c": child, "p": parent, "ck": sql.SQL(", ").join(sql.Identifier("c", k) for k in keys),
            "pk": sql.SQL(", ").join(sql.Identifier("p", k) for k in parent_keys)}
    scoped(stack, pg_app, own)
    try:
        return pg_app.execute(sql.SQL("SELECT count(*) FROM {c} AS c WHERE ROW({ck}) IS NOT NULL AND NOT EXISTS "
                                    "(SELECT 1 FROM {p} AS p WHERE ROW({pk}) = ROW({ck}))").format(**pair)
                            ).fetchone()[0]
    finally:
        pg_app.rollback()


@pytest.mark.control("RLS-15", severity="critical", claims=["Z1", "P1"])
def test_no_relation_without_tenant_column_shows_other_tenants(stack, pg_app, tenant_paths, tenant_ids, tenant):
    """As the app role with a tenant set, no relation without the tenant column shows another tenant's rows.

    Rationale: tenant rows also reach the application through relations that do not
    carry the tenant column: a view that selects only a client's name and e-mail, a
    report view that counts every tenant's tasks, or a notes table keyed by a client's
    id. A view that its owner reads past row-level security, or a child table without
    a policy of its own, shows every tenant's rows, and no control that looks for the
    tenant column finds them. Each such relation is read as the app role with the
    tenant set: with `row_security = off`, the read must be refused, because a policy
    applies on its way; and a child table keyed by a tenant row must show no row
    whose parent the tenant cannot see.

    Covers: every view, materialized view and table the app role can read that
    reaches tenant rows without the tenant column, through views and foreign keys at
    any depth.

    Fix: Create views `WITH (security_invoker = true)`, owned by a role without
    BYPASSRLS; keep materialized views over tenant data from the app role; give a
    child table the tenant column, or a policy through its parent (`USING (EXISTS
    (SELECT 1 FROM clients c WHERE c.id = client_id))`), enabled and forced.

    References: https://www.postgresql.org/docs/15/ddl-rowsecurity.html; https://www.postgresql.org/docs/15/runtime-config-client.html#GUC-ROW-SECURITY
    """
    own, leaks = tenant_ids[tenant], []
    for schema, relation, kind, name, via, keys, parent_keys, parent_schema, parent in tenant_paths:
        what, target = f"{KINDS[kind]} {name} (through {via})", sql.Identifier(schema, relation)
        try:
            unfiltered = _policy_applies(stack, pg_app, own, target)
            if unfiltered is not None:
                leaks.append(f"{what}: no row-level security on its way to tenant rows ({unfiltered} rows read "
                             "with row_security off)")
            elif keys:
                foreign = _orphans(stack, pg_app, own, target, keys, sql.Identifier(parent_schema, parent), parent_keys)
                if foreign:
                    leaks.append(f"{what}: {foreign} rows keyed by rows of other tenants")
        except psycopg.Error as error:
            pytest.fail(f"{what}, tenant {tenant}: could not read it as the app role: {type(error).__name__}: "
                        f"{error.diag.message_primary}")
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
