"""PostgreSQL schema: the schemas, tables, keys, enums, triggers and indexes the stack promises."""

import psycopg
import pytest
from psycopg import sql

from infra_conformance.plugins.clients import identifier

TYPE_KINDS = {"b": "a base type", "c": "a composite type", "d": "a domain", "e": "an enum",
              "m": "a multirange", "p": "a pseudo-type", "r": "a range"}


@pytest.mark.control("PG-12", severity="low", claims=["L2"])
def test_schema_exists(pg_admin, schema):
    """Each schema the profile lists exists.

    Rationale: auditing, archiving and scratch data are kept apart in their own
    schemas; code and grants that name a missing schema fail when first used.

    Fix: `CREATE SCHEMA IF NOT EXISTS <name>;` in the schema migration.

    References: https://www.postgresql.org/docs/15/sql-createschema.html
    """
    found = pg_admin.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    assert found, f"schema {schema}: expected to exist, found no such schema"


@pytest.mark.control("PG-13", severity="medium", claims=["N2", "N4"])
def test_table_has_uuid_primary_key(pg_admin, table):
    """Each table the profile lists exists, with a primary key of one UUID column.

    Rationale: the application's model is these tables; UUID keys can be made by
    any client, do not reveal how many rows exist and cannot be enumerated across
    tenants the way sequential numbers can.

    Fix: Give the table `id uuid PRIMARY KEY DEFAULT gen_random_uuid()`.

    References: https://www.postgresql.org/docs/15/datatype-uuid.html
    """
    try:
        types = pg_admin.execute(
            "SELECT array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum) FROM pg_index i "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = %s::regclass AND i.indisprimary", (table,)).fetchone()[0]
    except psycopg.errors.UndefinedTable:
        pytest.fail(f"table {table}: expected to exist, found no such table")
    assert types == ["uuid"], (f"table {table}: expected a primary key of one uuid column, "
                               f"found {', '.join(types) if types else 'no primary key'}")


@pytest.mark.control("PG-14", severity="low", claims=["N4", "L2"])
def test_enum_type_exists(pg_admin, enum):
    """Each enum type the profile lists exists as an enum.

    Rationale: roles and statuses as enums let the database reject a value the
    application does not know, instead of storing a typo that no query matches.

    Fix: `CREATE TYPE <name> AS ENUM (...);` and use it for the column.

    References: https://www.postgresql.org/docs/15/datatype-enum.html
    """
    row = pg_admin.execute("SELECT typtype FROM pg_type WHERE oid = to_regtype(%s)", (enum,)).fetchone()
    found = TYPE_KINDS.get(row[0], "another type") if row else "no such type"
    assert row and row[0] == "e", f"type {enum}: expected an enum, found {found}"


@pytest.mark.control("PG-15", severity="low", claims=["N4", "L2"])
def test_updated_at_trigger_changes_column(pg_admin, table):
    """An UPDATE of a row of each table moves its updated_at forward.

    Rationale: sync, caching and audits trust updated_at; a trigger that exists but
    is disabled, attached to the wrong event or sets the wrong column leaves stale
    values that nothing notices. The suite updates one row in a transaction that it
    rolls back, writing updated_at's own value back, and reads what the triggers left.

    Fix: Add a `BEFORE UPDATE` trigger that sets `NEW.updated_at = now()`.

    References: https://www.postgresql.org/docs/15/plpgsql-trigger.html
    """
    update = sql.SQL("WITH old AS (SELECT ctid, updated_at FROM {t} LIMIT 1) "
                     "UPDATE {t} SET updated_at = old.updated_at FROM old WHERE {t}.ctid = old.ctid "
                     "RETURNING old.updated_at, {t}.updated_at").format(t=identifier(table))
    try:
        with pg_admin.transaction(force_rollback=True):
            row = pg_admin.execute(update).fetchone()
    except psycopg.errors.UndefinedTable:
        pytest.fail(f"table {table}: expected to exist, found no such table")
    except psycopg.errors.UndefinedColumn:
        pytest.fail(f"table {table}: expected an updated_at column, found none")
    assert row, f"table {table}: expected a row to update, found the table empty"
    before, after = row
    assert after > before, f"table {table}: expected updated_at after {before} once updated, found {after}"


@pytest.mark.control("PG-16", severity="low", claims=["N4"])
def test_foreign_keys_indexed(pg_admin, table):
    """Every foreign key of each table has an index leading with its columns.

    Rationale: deleting or re-keying a referenced row makes PostgreSQL look up the
    referencing rows; without an index that is a full scan under lock, which on a Pi
    turns one delete into seconds of blocked writes.

    Fix: `CREATE INDEX ON <table> (<fk columns>);` for every foreign key.

    References: https://www.postgresql.org/docs/15/ddl-constraints.html#DDL-CONSTRAINTS-FK
    """
    try:
        missing = pg_admin.execute(
            "SELECT c.conname || ' ' || pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "WHERE c.conrelid = %s::regclass AND c.contype = 'f' AND NOT EXISTS ("
            "  SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indpred IS NULL"
            "  AND cardinality(c.conkey) <= i.indnkeyatts"
            "  AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey"
            "  AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey) ORDER BY 1", (table,)).fetchall()
    except psycopg.errors.UndefinedTable:
        pytest.fail(f"table {table}: expected to exist, found no such table")
    assert not missing, (f"table {table}: expected an index leading with the columns of each foreign key, "
                         f"found none for {'; '.join(m for (m,) in missing)}")
