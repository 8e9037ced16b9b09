"""Tenant isolation of writes: rows planted in, moved into, changed or deleted in another tenant's data.

The controls connect as the app role and set a tenant the way the API does (``SET LOCAL``); nothing they write is
committed.
"""

import psycopg
import pytest
from psycopg import sql

from infra_conformance.plugins.clients import identifier
from infra_conformance.plugins.tenancy import count, query, rejected, run, scoped
from infra_conformance.probes import rows

CHANGES = {"UPDATE": "UPDATE {t} SET {c} = {c} WHERE {c} = %s", "DELETE": "DELETE FROM {t} WHERE {c} = %s"}


@pytest.mark.control("RLS-05", severity="critical", claims=["Z1", "P1"])
@pytest.mark.parametrize("write", ["INSERT", "UPDATE"])
def test_row_for_other_tenant_rejected(stack, pg_admin, pg_app, tenant_ids, tenant_table, tenant, other_tenant,
                                       write):
    """With a tenant set, a valid INSERT carrying another tenant's id, or an UPDATE that moves one of the tenant's
    own rows to another tenant, never lands in the other tenant's data.

    Rationale: without a WITH CHECK that holds, a tenant can plant rows in another
    tenant's data: fake invoices, users or tasks that the victim then trusts, inserted
    there or moved there from its own. The row is a copy of one of the tenant's own
    (required columns, unique text made unique), so that only the tenant policy can
    stop it; the UPDATE moves that copy. Row-level security rejects it; a trigger that
    sets the tenant from the session keeps the promise too, so where the row went is
    what counts. A write that fails for another reason shows nothing of the policy:
    that case is not checked, and says why.

    Fix: Give INSERT and UPDATE policies `WITH CHECK (tenant_id =
    NULLIF(current_setting('app.tenant_id', true), '')::uuid)`; an UPDATE policy
    without WITH CHECK uses its USING, so never write `WITH CHECK (true)`.

    References: https://www.postgresql.org/docs/15/sql-createpolicy.html
    """
    own, other, column = tenant_ids[tenant], tenant_ids[other_tenant], stack.profile.postgres.tenant_column
    where = f"table {tenant_table}, tenant {tenant}"
    statement = rows.copy_insert(identifier(tenant_table), rows.columns(pg_admin, tenant_table), column)
    scoped(stack, pg_app, own)
    own_rows = query(stack, "SELECT count(*) FROM {t} WHERE {c} = %s", tenant_table)
    before = pg_app.execute(own_rows, (own,)).fetchone()[0]
    if not before:
        pytest.skip(f"not checked: {where} has no row to copy into a valid INSERT")
    try:
        if write == "INSERT":
            pg_app.execute(statement, (other,))
        else:
            copy = pg_app.execute(statement + sql.SQL(" RETURNING ctid::text"), (own,)).fetchone()[0]
            before += 1
            pg_app.execute(query(stack, "UPDATE {t} SET {c} = %s WHERE ctid = %s::tid", tenant_table), (other, copy))
    except psycopg.errors.InsufficientPrivilege:
        return
    except psycopg.Error as error:
        pytest.skip(f"not checked: {where}: the {write} failed for another reason ({type(error).__name__}: "
                    f"{error.diag.message_primary}), which shows nothing of the tenant policy")
    after = pg_app.execute(own_rows, (own,)).fetchone()[0]
    landed = before + 1 if write == "INSERT" else before
    assert after == landed, (f"{where}: expected {'an INSERT with' if write == 'INSERT' else 'an UPDATE to'} tenant "
                             f"{other_tenant}'s id rejected, or its row kept in tenant {tenant}, found the row "
                             f"{'inserted for' if write == 'INSERT' else 'moved to'} {other_tenant}")


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
    assert count(pg_admin, stack, tenant_table, "{c} = %s", other), (
        f"{where}: expected rows of tenant {other_tenant} to {change}, found none")
    scoped(stack, pg_app, tenant_ids[tenant])
    changed = run(pg_app, query(stack, CHANGES[change], tenant_table), (other,), where,
                   f"{change} of tenant {other_tenant}'s rows to affect 0 rows").rowcount
    assert changed == 0, f"{where}: expected {change} of tenant {other_tenant}'s rows to affect 0 rows, found {changed}"


@pytest.mark.control("RLS-08", severity="critical", claims=["Z1", "P1"])
def test_no_tenant_insert_rejected(stack, pg_app, tenant_table):
    """With no tenant set, an INSERT is rejected by row-level security.

    Rationale: a row written without a tenant belongs to nobody or, through a column
    default, to whichever tenant the default picks; either way the write must be
    refused by the policy itself, not left to a NOT NULL that a later migration drops.

    Fix: Same as RLS-07 for `WITH CHECK`: an unset tenant must match no row.

    References: https://www.postgresql.org/docs/15/sql-createpolicy.html
    """
    rejected(pg_app, query(stack, "INSERT INTO {t} DEFAULT VALUES", tenant_table), (),
              f"table {tenant_table}, no tenant set", "the INSERT rejected by row-level security")
