"""PostgreSQL roles and privileges: what each login role holds, who owns the tenant tables, and who may create."""

import psycopg
import pytest

from infra_conformance.plugins.collection import skip_not_applicable

# What no login role but the admin may have, itself or through a role it is a member of: a condition on that role.
ROLE_ATTRIBUTES = {"SUPERUSER": "held.rolsuper", "BYPASSRLS": "held.rolbypassrls",
                   "CREATEROLE": "held.rolcreaterole", "CREATEDB": "held.rolcreatedb",
                   "REPLICATION": "held.rolreplication",
                   **{role: f"held.rolname = '{role}'" for role in (
                       "pg_execute_server_program", "pg_read_server_files", "pg_write_server_files")}}
SYSTEM_SCHEMAS = "n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'"


@pytest.mark.control("PG-08", severity="critical", claims=["P1", "Z1"])
@pytest.mark.parametrize("attribute", list(ROLE_ATTRIBUTES))
def test_app_role_attribute(stack, pg_admin, attribute):
    """No login role but the admin has SUPERUSER, BYPASSRLS, CREATEROLE, CREATEDB or REPLICATION, or the built-in
    roles that reach the server's files and programs, itself or through its roles.

    Rationale: a superuser or BYPASSRLS role ignores every row-level security policy;
    CREATEROLE and CREATEDB let a compromised app mint roles or databases; REPLICATION
    streams every tenant's rows; pg_read_server_files, pg_write_server_files and
    pg_execute_server_program turn COPY into a way to read the server's files and run
    its programs. A role the app is a member of counts too, because the app can SET
    ROLE to it, and so does every other login role, such as a read-only or reporting
    one: its password is a way in as well.

    Covers: every login role but the profile's admin, itself and through every role it
    is a member of.

    Fix: `ALTER ROLE app NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOREPLICATION;`
    for each login role, and `REVOKE` memberships of privileged and built-in roles.

    References: https://www.postgresql.org/docs/15/role-attributes.html;
    https://www.postgresql.org/docs/15/predefined-roles.html; https://owasp.org/Top10/A01_2021-Broken_Access_Control/
    """
    admin = stack.profile.postgres.admin_user
    holders = [f"{role} (through {held})" if held != role else role for role, held in pg_admin.execute(
        "SELECT login.rolname, held.rolname FROM pg_roles login JOIN pg_roles held "
        "ON pg_has_role(login.oid, held.oid, 'MEMBER') "
        f"WHERE login.rolcanlogin AND login.rolname <> %s AND {ROLE_ATTRIBUTES[attribute]} ORDER BY 1, 2",
        (admin,)).fetchall()]
    assert not holders, f"expected no login role but {admin} with {attribute}, found it on {', '.join(holders)}"


@pytest.mark.control("PG-09", severity="high", claims=["P1", "Z1"])
def test_app_role_owns_no_tenant_table(stack, pg_admin, tenant_table):
    """The app role owns none of the tenant tables, itself or through its roles.

    Rationale: the owner can disable or un-force row-level security and drop the
    policies, so an app connected as the owner is one statement away from reading
    every tenant's rows.

    Fix: `ALTER TABLE <table> OWNER TO <owner role>;` so the app role is never the owner
    (owners bypass RLS).

    References: https://www.postgresql.org/docs/15/ddl-rowsecurity.html
    """
    app = stack.profile.postgres.app_user
    try:
        owner, owned = pg_admin.execute("SELECT relowner::regrole::text, pg_has_role(%s, relowner, 'MEMBER') "
                                        "FROM pg_class WHERE oid = %s::regclass", (app, tenant_table)).fetchone()
    except psycopg.errors.UndefinedTable:
        pytest.fail(f"table {tenant_table}: expected to exist, found no such table")
    assert not owned, f"table {tenant_table}: expected an owner that role {app} cannot act as, found {owner}"


@pytest.mark.control("PG-10", severity="medium", claims=["P1"])
def test_app_role_only_profile_grants(stack, pg_admin):
    """The app role holds only the table privileges the profile lists, on every table.

    Rationale: TRUNCATE ignores row-level security, TRIGGER and REFERENCES let the app
    attach code or locks to tables it only needs to read and write; least privilege
    limits what a compromised API can do.

    Covers: every table of the database.

    Fix: `REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM app;`
    and grant only the profile's privileges.

    References: https://www.postgresql.org/docs/15/sql-grant.html
    """
    pg = stack.profile.postgres
    if pg.app_grants is None:
        skip_not_applicable("postgres.app_grants", "the profile lists no app_grants")
    rows = pg_admin.execute(
        "SELECT n.nspname || '.' || c.relname, p.name FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "CROSS JOIN unnest(%s::text[]) AS p(name) "
        f"WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {SYSTEM_SCHEMAS} "
        "AND p.name <> ALL(%s::text[]) AND has_table_privilege(%s, c.oid, p.name) ORDER BY 1, 2",
        (["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"],
         list(pg.app_grants), pg.app_user)).fetchall()
    found = [f"{privilege} on {table}" for table, privilege in rows]
    assert not found, (f"role {pg.app_user}: expected at most {', '.join(pg.app_grants) or 'nothing'} on any table, "
                       f"found {', '.join(found)}")


@pytest.mark.control("PG-11", severity="high", claims=["P1"])
def test_public_cannot_create_in_schemas(pg_admin):
    """PUBLIC has no CREATE on any schema of the database.

    Rationale: with CREATE for PUBLIC, any role can plant a function or operator
    named like one the application calls, and code running with search_path
    resolution picks it up (CVE-2018-1058).

    Covers: every schema of the database.

    Fix: `REVOKE CREATE ON SCHEMA public FROM PUBLIC;` for every schema.

    References: https://www.postgresql.org/docs/15/ddl-schemas.html#DDL-SCHEMAS-PATTERNS
    """
    schemas = [name for (name,) in pg_admin.execute(
        "SELECT n.nspname FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a "
        f"WHERE a.grantee = 0 AND a.privilege_type = 'CREATE' AND {SYSTEM_SCHEMAS} ORDER BY 1").fetchall()]
    assert not schemas, f"schemas: expected no CREATE for PUBLIC, found it on {', '.join(schemas)}"
