"""Audit: every write to a tenant table leaves a row, naming the end user, that the application cannot write,
change or delete."""

import psycopg
import pytest
from psycopg import sql

from infra_conformance.plugins.clients import identifier
from infra_conformance.plugins.collection import skip_not_applicable
from infra_conformance.plugins.http_clients import unlimited

CHANGES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")
OPERATIONS = ("INSERT", "UPDATE", "DELETE")


def _refused(pg_app, statement: sql.Composable, params: tuple = ()) -> bool:
    """Whether the app role is refused ``statement`` for want of a privilege (any other error means it was let in)."""
    try:
        pg_app.execute(statement, params)
    except psycopg.errors.InsufficientPrivilege:
        return True
    except psycopg.Error:
        return False
    finally:
        pg_app.rollback()
    return False


@pytest.mark.control("PG-17", severity="high", claims=["P10"])
def test_writes_leave_audit_rows_the_app_cannot_change(stack, pg_admin, pg_app, tenant_ids, gateway_url, http,
                                                      api_login):
    """A record created, changed and deleted through the API leaves audit rows (who, what, when, which tenant), the
    end user as who, and the app role can neither write, change nor delete them.

    Rationale: after an incident, the audit trail is what tells who changed which
    tenant's data and when. A trail that skips a kind of write, that names only the
    database role every request shares, or that the application itself can forge,
    edit or empty, proves nothing.

    Covers: INSERT, UPDATE and DELETE through the API; INSERT, UPDATE, DELETE and
    TRUNCATE of the trail by the app role.

    Fix: An `AFTER INSERT OR UPDATE OR DELETE` trigger on each tenant table, as a
    `SECURITY DEFINER` function owned by the schema owner, writing to a table in a schema
    the app role has no privilege on, with the end user that the API sets for the
    transaction (`SET LOCAL app.user_id`) as the actor (`compose/postgres/initdb/05-audit.sql`).

    References: https://www.postgresql.org/docs/15/plpgsql-trigger.html; https://owasp.org/Top10/A09_2021-Security_Logging_and_Monitoring_Failures/
    """
    pg, api = stack.profile.postgres, stack.profile.api
    if pg is None or pg.audit_table is None:
        skip_not_applicable("postgres.audit_table", "the profile names no postgres.audit_table")
    if api is None or not api.probe_body:
        pytest.skip("not checked: the profile sets no api.probe_body to write through the API")
    table, url = identifier(pg.audit_table), gateway_url + api.probe_path
    auth = {"Authorization": f"Bearer {api_login(api.email)}"}
    me = unlimited(lambda: http.get(gateway_url + api.me_path, headers=auth), f"GET {api.me_path}")
    assert me.status_code == 200, f"GET {api.me_path}: expected 200, found {me.status_code}"
    user = {str(me.json().get("id")), api.email}
    created = unlimited(lambda: http.post(url, json=api.probe_body, headers=auth), f"POST {api.probe_path}")
    assert created.status_code == 201, f"POST {api.probe_path}: expected 201, found {created.status_code}"
    row_id = created.json()["id"]
    for method, expected in (("PATCH", (200,)), ("DELETE", (200, 204))):
        done = unlimited(lambda method=method: http.request(
            method, f"{url}/{row_id}", json=api.probe_body if method == "PATCH" else None, headers=auth),
            f"{method} {api.probe_path}/{row_id}")
        assert done.status_code in expected, f"{method} {api.probe_path}/{row_id}: found {done.status_code}"
    rows = pg_admin.execute(sql.SQL("SELECT operation, tenant_id::text, actor, at FROM {} WHERE row_id = %s "
                                    "ORDER BY at").format(table), (row_id,)).fetchall()
    seen = {operation: (tenant, actor, at) for operation, tenant, actor, at in rows}
    wrong = [f"no row for the {op}" for op in OPERATIONS if op not in seen]
    wrong += [f"{op} without {what}" for op, (tenant, actor, at) in seen.items()
              for what, ok in (("the tenant", tenant == tenant_ids.get(api.tenant)), ("a time", at)) if not ok]
    wrong += [f"{op} by {actor!r}, not the end user" for op, (_, actor, _) in seen.items() if actor not in user]
    granted = [change for change in CHANGES if pg_admin.execute(
        "SELECT has_table_privilege(%s, %s, %s)", (pg.app_user, pg.audit_table, change)).fetchone()[0]]
    wrong += [f"{pg.app_user} holds {change}" for change in granted]
    tries = {"INSERT": (sql.SQL("INSERT INTO {} DEFAULT VALUES").format(table), ()),
             "DELETE": (sql.SQL("DELETE FROM {} WHERE row_id = %s").format(table), (row_id,))}
    wrong += [f"{pg.app_user} is let in to {change}" for change, (statement, params) in tries.items()
              if change not in granted and not _refused(pg_app, statement, params)]
    assert not wrong, (f"{pg.audit_table}: expected rows for the INSERT, UPDATE and DELETE of {row_id} naming the "
                       f"tenant, the end user ({api.email}) and the time, and no write of {pg.app_user}'s own, "
                       f"found {'; '.join(wrong)}")
