"""Audit: every write to a tenant table leaves a row that the application cannot change."""

import psycopg
import pytest
from psycopg import sql

from infra_conformance.plugins.clients import identifier
from infra_conformance.plugins.collection import skip_not_applicable

CHANGES = ("UPDATE", "DELETE", "TRUNCATE")


@pytest.mark.control("PG-17", severity="high", claims=["P10"])
def test_writes_leave_audit_rows_the_app_cannot_change(stack, pg_admin, pg_app, tenant_ids, gateway_url, http,
                                                      api_login):
    """A record created and deleted through the API leaves audit rows (who, what, when, which tenant), and the
    app role can neither change nor delete them.

    Rationale: after an incident, the audit trail is what tells who changed which
    tenant's data and when. A trail that the application itself can edit, or that a
    write can skip, proves nothing.

    Fix: An `AFTER INSERT OR UPDATE OR DELETE` trigger on each tenant table, as a
    `SECURITY DEFINER` function owned by the schema owner, writing to a table in a schema
    the app role has no privilege on (`compose/postgres/initdb/05-audit.sql`).

    References: https://www.postgresql.org/docs/15/plpgsql-trigger.html; https://owasp.org/Top10/A09_2021-Security_Logging_and_Monitoring_Failures/
    """
    pg, api = stack.profile.postgres, stack.profile.api
    if pg is None or pg.audit_table is None:
        skip_not_applicable("postgres.audit_table", "the profile names no postgres.audit_table")
    if api is None or not api.probe_body:
        pytest.skip("not checked: the profile sets no api.probe_body to write through the API")
    table, url = identifier(pg.audit_table), gateway_url + api.probe_path
    auth = {"Authorization": f"Bearer {api_login(api.email)}"}
    created = http.post(url, json=api.probe_body, headers=auth)
    assert created.status_code == 201, f"POST {api.probe_path}: expected 201, found {created.status_code}"
    row_id = created.json()["id"]
    deleted = http.delete(f"{url}/{row_id}", headers=auth)
    assert deleted.status_code in (200, 204), f"DELETE {api.probe_path}/{row_id}: found {deleted.status_code}"
    rows = pg_admin.execute(sql.SQL("SELECT operation, tenant_id::text, actor, at FROM {} WHERE row_id = %s "
                                    "ORDER BY at").format(table), (row_id,)).fetchall()
    seen = {operation: (tenant, actor, at) for operation, tenant, actor, at in rows}
    assert {"INSERT", "DELETE"} <= seen.keys(), (
        f"{pg.audit_table}: expected rows for the INSERT and DELETE of {row_id}, found {sorted(seen) or 'none'}")
    wrong = [f"{op} without {what}" for op, (tenant, actor, at) in seen.items()
             for what, ok in (("the tenant", tenant == tenant_ids.get(api.tenant)), ("an actor", actor),
                              ("a time", at)) if not ok]
    assert not wrong, f"{pg.audit_table}: expected who, when and which tenant, found {', '.join(wrong)}"
    granted = [change for change in CHANGES if pg_admin.execute(
        "SELECT has_table_privilege(%s, %s, %s)", (pg.app_user, pg.audit_table, change)).fetchone()[0]]
    assert not granted, f"{pg.audit_table}: expected {pg.app_user} to hold no {'/'.join(CHANGES)}, found {granted}"
    try:
        pg_app.execute(sql.SQL("DELETE FROM {} WHERE row_id = %s").format(table), (row_id,))
    except psycopg.errors.InsufficientPrivilege:
        return
    pytest.fail(f"{pg.audit_table}: expected {pg.app_user} to be refused a DELETE, found it allowed")
